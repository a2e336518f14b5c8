"""The documents' own users, events and subscriptions, always seeded with the documents' ids.

``fixtures/tables/documents.json`` holds them as data; this module makes them models. The
default user owns the eight events: the documents' "Running meeting" near Lille with 7 free
places, the event with the documents' two subscribers, and one of each special case (full,
scheduled publication, pending, canceled, subscriptions disabled).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Final

from mock_server.domain.activities.models import PUBLISHED, Child, Event, Site, Subscription, User
from mock_server.seed.dates import FIXTURE_BASE_DATE
from mock_server.seed.pools import Pools
from mock_server.seed.tables import SITES, SPORTS, TABLES

_DOCUMENTS: Final = TABLES.documents

#: FED "John D" (JOHND01, site 648): the owner of the documents' events, the default caller.
DEFAULT_USER_ID: Final[str] = _DOCUMENTS["default_user"]
_SITES_BY_ID: Final[dict[int, Site]] = {site.id: site for site in SITES}

DOCUMENT_USERS: Final[tuple[User, ...]] = tuple(
    User(**{**user, "site": _SITES_BY_ID[user["site"]]} if "site" in user else user)
    for user in _DOCUMENTS["users"]
)

#: Fields of a document event that are not the model's own.
_SCHEDULE = ("start_day", "start_hour", "duration_hours", "publish_day", "generated_location",
             "subscriptions")


def document_events(users: Mapping[str, User], pools: Pools) -> list[Event]:
    """The default user's events, in id order; their ``places_taken`` are set by the build."""
    owner = users[DEFAULT_USER_ID]
    return [_event(entry, owner, pools) for entry in _DOCUMENTS["events"]]


def document_subscriptions() -> dict[int, tuple[Subscription, ...]]:
    """Event id -> the documents' subscriptions to it (event 3 is exactly full: 2 + 2 of 4)."""
    return {
        entry["id"]: tuple(
            Subscription(
                user_id=sub["user_id"],
                additional_subscribers=sub.get("additional_subscribers", 0),
                has_attended=sub.get("has_attended", False),
                children=tuple(Child(name) for name in sub.get("children", ())),
            )
            for sub in entry["subscriptions"]
        )
        for entry in _DOCUMENTS["events"]
        if entry.get("subscriptions")
    }


def _event(entry: Mapping[str, Any], owner: User, pools: Pools) -> Event:
    start = FIXTURE_BASE_DATE + timedelta(days=entry["start_day"], hours=entry["start_hour"])
    values: dict[str, Any] = {
        "status": PUBLISHED,
        "publish_date": None,
        "picture": None,
        "extra_location": None,
        # A copy: the table is shared by every build, the events' dicts must not be.
        **{name: copy.deepcopy(value) for name, value in entry.items() if name not in _SCHEDULE},
        "start_date": start,
        "end_date": start + timedelta(hours=entry["duration_hours"]),
        "level": tuple(entry["level"]),
        "owner": owner,
    }
    if "publish_day" in entry:
        values["publish_date"] = FIXTURE_BASE_DATE + timedelta(days=entry["publish_day"])
    generated = entry.get("generated_location")
    if generated:
        sport = next(i for i, s in enumerate(SPORTS) if s.sport_id == generated["sport_id"])
        city = next(i for i, c in enumerate(pools.cities) if c.name == generated["city"])
        values["extra_location"] = pools.locations[(sport, city)][0]
    return Event(**values)
