"""The seeded users besides the documents' own: Decathlon staff and Decathlon Connect customers.

Names come from a seeded ``Faker("fr_FR")``, sites and job titles from ``fixtures/tables/
sites.json``; external ids and mail addresses are made unique the way the real directories
keep them (a number after the initials, the index after a clashing address).
"""

from __future__ import annotations

import random
import unicodedata
import uuid
from collections.abc import Iterable

from faker import Faker

from mock_server.domain.activities.models import DKTCONNECT, FED, Site, User
from mock_server.seed.tables import FED_TITLES, SITES


def faker_users(fake: Faker, rnd: random.Random, count: int,
                taken_external: Iterable[str] = ()) -> list[User]:
    """``count`` users, a third of them Decathlon Connect customers; ``taken_external`` are
    external ids already in use (the documents' users), never given again."""
    users: list[User] = []
    taken = set(taken_external)
    taken_mail: set[str] = set()
    for index in range(count):
        first, last = fake.first_name(), fake.last_name()
        name = f"{first} {last[0]}"
        if index % 3 == 2:  # a third are Decathlon Connect customers
            external = f"{1_000_000_000_100 + index:013d}"
            users.append(User(id=_uuid(rnd), type=DKTCONNECT, name=name,
                              external_id=external))
            continue
        stem = (_ascii(first)[:1] + _ascii(last)[:5]).upper() or "USER"
        number = 1
        while f"{stem}{number:02d}" in taken:
            number += 1
        external = f"{stem}{number:02d}"
        taken.add(external)
        mail = f"{_ascii(first).lower()}.{_ascii(last).lower()}@decathlon.com"
        if mail in taken_mail:
            mail = f"{_ascii(first).lower()}.{_ascii(last).lower()}{index}@decathlon.com"
        taken_mail.add(mail)
        site = SITES[rnd.randrange(len(SITES))]
        users.append(
            User(
                id=_uuid(rnd),
                type=FED,
                name=name,
                external_id=external,
                photo=f"//iam.subsidia.org/photos/users/{external}.jpg",
                title=FED_TITLES[rnd.randrange(len(FED_TITLES))],
                site_id=_site_code(site),
                mail=mail,
                site=site,
            )
        )
    return users


def _uuid(rnd: random.Random) -> str:
    """A version 4 UUID from ``rnd`` (``uuid.uuid4`` would read the system's randomness)."""
    return str(uuid.UUID(int=rnd.getrandbits(128), version=4))


def _site_code(site: Site) -> str:
    """The FED site code: ``0070`` + number on 4 digits + number on 5 (``0070064800648``)."""
    return f"0070{site.id:04d}{site.id:05d}"


def _ascii(text: str) -> str:
    normalized = unicodedata.normalize("NFKD", text)
    return "".join(c for c in normalized if c.isascii() and c.isalpha())
