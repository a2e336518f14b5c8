"""The containers of the Sport Activities state in memory, and how they are built and read.

``State`` holds every container at once (users, events, the grid, the catalog, the owners' and
subscribers' indexes), so a whole state can be copied (a reset) or swapped (an import) in one
assignment; ``build_state`` loads fixtures into one, ``state_from_document`` an export.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from mock_server.domain.activities.catalog import EventCatalog
from mock_server.domain.activities.models import Event, Subscription, User
from mock_server.domain.bulk import collector_paused
from mock_server.domain.errors import RuleViolation
from mock_server.domain.geo import GeoIndex

#: Version tag of ``export_state`` documents; ``import_state`` refuses any other.
STATE_FORMAT = "sport-activities-mock-state/1"


class State:
    """Every container of the store, so a whole state can be copied or swapped at once."""

    __slots__ = (
        "users",
        "users_by_external_id",
        "events",
        "next_event_id",
        "geo",
        "catalog",
        "owned",
        "subscriptions",
        "subscribed",
    )

    def __init__(self) -> None:
        self.users: dict[str, User] = {}
        self.users_by_external_id: dict[tuple[str, str], User] = {}
        self.events: dict[int, Event] = {}
        self.next_event_id = 1
        self.geo = GeoIndex()
        self.catalog = EventCatalog()
        # owner id -> ids of their events, in creation order (events are never deleted).
        self.owned: dict[str, list[int]] = {}
        # event id -> subscriptions in subscription order. Tuples, replaced on change: an event
        # has few subscribers, and a reset then copies one dict instead of 250k small ones.
        self.subscriptions: dict[int, tuple[Subscription, ...]] = {}
        # user id -> ids of the events they subscribed to (dict as an ordered set).
        self.subscribed: dict[str, dict[int, None]] = {}

    def copy(self) -> State:
        twin = State()
        twin.users = dict(self.users)
        twin.users_by_external_id = dict(self.users_by_external_id)
        twin.events = dict(self.events)
        twin.next_event_id = self.next_event_id
        twin.geo = self.geo.copy()
        twin.catalog = self.catalog.copy()
        twin.owned = {owner: ids.copy() for owner, ids in self.owned.items()}
        twin.subscriptions = dict(self.subscriptions)
        twin.subscribed = {uid: dict(ids) for uid, ids in self.subscribed.items()}
        return twin

    # -- loading (no lock: a _State under construction is private) ---------------------------

    def load_user(self, user: User) -> None:
        key = (user.type, user.external_id)
        if user.id in self.users or key in self.users_by_external_id:
            raise ValueError(f"duplicate user {user.id} / {key}")
        self.users[user.id] = user
        self.users_by_external_id[key] = user

    def load_event(self, event: Event, *, index: bool = True) -> None:
        """Add an event; ``index=False`` leaves the spatial indexes to a later bulk build."""
        if event.id in self.events or event.id < 1:
            raise ValueError(f"duplicate or invalid event id {event.id}")
        if event.owner.id not in self.users:
            raise ValueError(f"event {event.id}: unknown owner {event.owner.id}")
        self.events[event.id] = event
        if index:
            self.geo.add(event.id, event.latitude, event.longitude)
            self.catalog.put(event)
        self.owned.setdefault(event.owner.id, []).append(event.id)
        if event.id >= self.next_event_id:
            self.next_event_id = event.id + 1

    def load_subscriptions(self, event_id: int, subscriptions: Iterable[Subscription]) -> None:
        """Attach subscriptions and recompute the event's places from them."""
        event = self.events.get(event_id)
        if event is None:
            raise ValueError(f"subscriptions for unknown event {event_id}")
        if event_id in self.subscriptions:
            raise ValueError(f"subscriptions of event {event_id} given twice")
        subs = tuple(subscriptions)
        seen: set[str] = set()
        for subscription in subs:
            if subscription.user_id not in self.users:
                raise ValueError(f"event {event_id}: unknown subscriber {subscription.user_id}")
            if subscription.user_id in seen:
                raise ValueError(f"event {event_id}: {subscription.user_id} subscribed twice")
            seen.add(subscription.user_id)
            self.subscribed.setdefault(subscription.user_id, {})[event_id] = None
        if subs:
            self.subscriptions[event_id] = subs
        places = sum(sub.places for sub in subs)
        if places > event.slots_limit:
            raise ValueError(f"event {event_id}: {places} places taken of {event.slots_limit}")
        if places != event.places_taken:
            self.events[event_id] = replace(event, places_taken=places)


def build_state(
    users: Iterable[User],
    events: Iterable[Event],
    subscriptions: Mapping[int, Iterable[Subscription]],
) -> State:
    with collector_paused():
        return load_state(users, events, subscriptions)


def load_state(
    users: Iterable[User],
    events: Iterable[Event],
    subscriptions: Mapping[int, Iterable[Subscription]],
) -> State:
    state = State()
    for user in users:
        state.load_user(user)
    for event in events:
        if event.places_taken and event.id not in subscriptions:
            event = replace(event, places_taken=0)
        state.load_event(event, index=False)
    state.geo.add_many((e.id, e.latitude, e.longitude) for e in state.events.values())
    for event_id, subs in subscriptions.items():
        state.load_subscriptions(event_id, subs)
    state.catalog.build(state.events.values())
    return state


class StateDocument:
    """A state document read and checked by ``InMemoryStore.read_state`` (opaque)."""

    __slots__ = ("state",)

    def __init__(self, state: State) -> None:
        self.state = state


def state_from_document(document: Mapping[str, Any]) -> State:
    if document.get("format") != STATE_FORMAT:
        raise RuleViolation(
            "The state document is invalid.", {"format": [f"expected {STATE_FORMAT!r}"]}
        )
    users = [User.from_state(item) for item in document["users"]]
    by_id = {user.id: user for user in users}
    events = []
    for item in document["events"]:
        owner = by_id.get(item["owner_id"])
        if owner is None:
            raise ValueError(f"event {item['id']}: unknown owner {item['owner_id']}")
        events.append(Event.from_state(item, owner))
    grouped: dict[int, list[Subscription]] = {}
    for item in document["subscriptions"]:
        grouped.setdefault(item["event_id"], []).append(Subscription.from_state(item))
    state = build_state(users, events, grouped)
    next_id = document["next_event_id"]
    if not isinstance(next_id, int) or next_id < state.next_event_id:
        raise ValueError(f"next_event_id {next_id!r} must be above every event id")
    state.next_event_id = next_id
    return state
