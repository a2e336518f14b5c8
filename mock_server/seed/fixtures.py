"""Deterministic fixture data: the documents' users and events, plus seeded realistic ones.

``build_fixtures(seed, events)`` always returns the same users, events and subscriptions for the
same seed (and Faker version): it uses its own ``random.Random(seed)`` and its own seeded
``Faker("fr_FR")``, never the global generators, and dates hang off ``FIXTURE_BASE_DATE``, never
the wall clock. Contract tests and screenshots can therefore name fixture ids.

What is always there (ids from the documents, ``fixtures/tables/documents.json``):

* ``DEFAULT_USER_ID`` ``28cce8e0-…`` FED "John D" (JOHND01, site 648 "Magasin b'Twin village")
  owns events 1-8: 1 is the documents' "Running meeting" near Lille with 7 free places, 2 has
  the documents' two subscribers, 3 is full, 5 is PUBLISHED but scheduled (not public before
  ``publish_date``), 6 is PENDING, 7 CANCELED, 8 has subscriptions disabled.
* ``1c4884b6-…`` FED "John D" (ZXXDOEJ), ``3d416216-…`` DKTCONNECT "John2 D" and
  ``4c68165b-…`` DKTCONNECT "Jane D" (the documents' subscriber body).

Then ~50 Faker users (FED staff attached to Decathlon stores, Decathlon Connect customers;
``seed.users``) and the remaining events (``seed.events``): sport-specific French/English
titles, in real cities (three quarters within 100 km of Lille) with a few hundred metres to
kilometres of jitter, mostly PUBLISHED, spread from 3 months before to 9 months after the base
date, a quarter with subscribers. The cities, sites and sports are ``fixtures/tables/``.

Scale: every string, date, level list and location object is drawn from pools computed once
(``seed.pools``), so an event costs a few ``random()`` calls and one frozen dataclass, and the
cyclic GC is paused during the build (it would otherwise re-walk every event already made).
Measured on the development container (Python 3.11, 2 vCPUs shared with other jobs):
``build_fixtures(events=1_000_000)`` 7.2-8.0 s of CPU over five runs (as much wall time on a
quiet machine; 11.8 s without the GC pause), then ``InMemoryStore(fixtures)`` ~5 s with its
grid and catalog; RSS ~840 MB with both alive. Reading the tables costs ~2 ms, once. Past
the first 300, events spread over France (``WIDE_FROM_ID``), so the list near a city holds
what it would in production; bench/README.md has the served figures.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from faker import Faker

from mock_server.domain.activities.models import Event, Subscription, User
from mock_server.domain.bulk import collector_paused
from mock_server.seed.dates import FIXTURE_BASE_DATE
from mock_server.seed.documents import (
    DEFAULT_USER_ID,
    DOCUMENT_USERS,
    document_events,
    document_subscriptions,
)
from mock_server.seed.events import generate_events
from mock_server.seed.pools import WIDE_FROM_ID, Pools, WidePools
from mock_server.seed.tables import LILLE, SPORTS
from mock_server.seed.users import faker_users

# What importers of this module have always found here; the package re-exports them too.
__all__ = [
    "DEFAULT_USER_ID",
    "FIXTURE_BASE_DATE",
    "LILLE",
    "SPORTS",
    "FixtureSet",
    "build_fixtures",
]


@dataclass(frozen=True, slots=True)
class FixtureSet:
    """Everything a store is built from; ``subscriptions`` maps event id -> subscriptions."""

    seed: int
    users: tuple[User, ...]
    events: tuple[Event, ...]
    subscriptions: dict[int, tuple[Subscription, ...]]

    def user(self, user_id: str) -> User:
        for user in self.users:
            if user.id == user_id:
                return user
        raise KeyError(user_id)


def build_fixtures(seed: int = 42, events: int = 300) -> FixtureSet:
    """Users, ``events`` events and their subscriptions, identical for identical ``seed``.

    ``events`` counts every event, the documents' eight included (fewer keeps a prefix).
    """
    if events < 0:
        raise ValueError("events must be >= 0")
    with collector_paused():
        return _build(seed, events)


def _build(seed: int, events: int) -> FixtureSet:
    rnd = random.Random(seed)
    fake = Faker("fr_FR")
    fake.seed_instance(seed)

    users = list(DOCUMENT_USERS) + faker_users(
        fake, rnd, 50, taken_external=(user.external_id for user in DOCUMENT_USERS)
    )
    by_id = {user.id: user for user in users}
    pools = Pools(fake, rnd)

    fixed = document_events(by_id, pools)[:events]
    subscriptions: dict[int, tuple[Subscription, ...]] = {
        event_id: subs
        for event_id, subs in document_subscriptions().items()
        if event_id <= len(fixed)
    }
    wide = WidePools(seed) if events >= WIDE_FROM_ID else None
    generated, generated_subs = generate_events(
        rnd, pools, users, first_id=len(fixed) + 1, count=events - len(fixed), wide=wide
    )
    subscriptions.update(generated_subs)
    for event_id, subs in subscriptions.items():
        if event_id <= len(fixed):
            fixed[event_id - 1] = replace(
                fixed[event_id - 1], places_taken=sum(sub.places for sub in subs)
            )
    all_events = fixed + generated
    return FixtureSet(
        seed=seed, users=tuple(users), events=tuple(all_events), subscriptions=subscriptions
    )
