"""State of the mock: users, events, subscriptions and the spatial index, behind one lock.

``Store`` is the interface the domain functions use; ``InMemoryStore`` is the only
implementation (a later one could persist, the domain would not notice).

Concurrency: one re-entrant lock guards every mutation *and* every compound read. Domain
functions hold it for their whole check-then-act (``with store.transaction():``) so "is there a
free place?" and "take it" cannot interleave with another request. Models are frozen, so an
object handed out stays a consistent snapshot after the lock is released.

Invariant kept here, not in the domain: ``event.places_taken`` always equals the sum of the
places of the event's subscriptions, and ``0 <= places_taken <= slots_limit``; the store refuses
(``ValueError``, a programming error) any write that would break it. The domain checks first and
turns the same conditions into 422s with a message for the client.

Reset: the state built at construction (from fixtures) is kept as a pristine snapshot;
``reset()`` copies it back (containers are copied, the frozen models shared), which takes a
fraction of a second even with a million events.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from typing import Any

from mock_server.domain.activities.catalog import EventCatalog, ListCriteria
from mock_server.domain.activities.models import Event, Subscription, User
from mock_server.domain.errors import RuleViolation
from mock_server.domain.geo import GeoIndex
from mock_server.domain.ports import Fixtures

#: Version tag of ``export_state`` documents; ``import_state`` refuses any other.
STATE_FORMAT = "sport-activities-mock-state/1"


class _State:
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

    def copy(self) -> _State:
        twin = _State()
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


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic GC during a bulk load.

    Allocating a million objects triggers many full collections that each walk every object
    already built (none of which is garbage); pausing makes a 1e6-event load ~30 % faster.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _build_state(
    users: Iterable[User],
    events: Iterable[Event],
    subscriptions: Mapping[int, Iterable[Subscription]],
) -> _State:
    with _gc_paused():
        return _load_state(users, events, subscriptions)


def _load_state(
    users: Iterable[User],
    events: Iterable[Event],
    subscriptions: Mapping[int, Iterable[Subscription]],
) -> _State:
    state = _State()
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


class InMemoryStore:
    """The mock's state in memory. Build from fixtures, or empty for focused tests.

    >>> from mock_server.data import build_fixtures
    >>> store = InMemoryStore(build_fixtures(seed=42))
    """

    def __init__(self, fixtures: Fixtures | None = None) -> None:
        self._lock = threading.RLock()
        if fixtures is None:
            pristine = _State()
        else:
            pristine = _build_state(fixtures.users, fixtures.events, fixtures.subscriptions)
        self._pristine = pristine
        self._state = pristine.copy()

    # -- locking -----------------------------------------------------------------------------

    @property
    def lock(self) -> threading.RLock:
        return self._lock

    @contextmanager
    def transaction(self) -> Iterator[InMemoryStore]:
        """Hold the store lock for a check-then-act sequence (re-entrant)."""
        with self._lock:
            yield self

    snapshot = transaction  # one process: consistent reads take the same lock

    # -- users -------------------------------------------------------------------------------

    def get_user(self, user_id: str) -> User | None:
        return self._state.users.get(user_id)

    def get_user_by_external_id(self, user_type: str, external_id: str) -> User | None:
        return self._state.users_by_external_id.get((user_type, external_id))

    def users(self) -> list[User]:
        with self._lock:
            return list(self._state.users.values())

    def add_user(self, user: User) -> None:
        """Register a user; ``ValueError`` if the id or (type, external_id) is taken."""
        with self._lock:
            self.plan_add_user(user)()

    def plan_add_user(self, user: User) -> Callable[[], None]:
        key = (user.type, user.external_id)
        if user.id in self._state.users or key in self._state.users_by_external_id:
            raise ValueError(f"duplicate user {user.id} / {key}")
        return lambda: self._state.load_user(user)

    # -- events ------------------------------------------------------------------------------

    def get_event(self, event_id: int) -> Event | None:
        return self._state.events.get(event_id)

    def event_count(self) -> int:
        return len(self._state.events)

    def events(self) -> list[Event]:
        """Every event, in id order."""
        with self._lock:
            return sorted(self._state.events.values(), key=_event_id)

    def events_near(self, latitude: float, longitude: float, radius_km: float) -> list[Event]:
        """Events within ``radius_km`` (great-circle) of the point, in no particular order."""
        with self._lock:
            events = self._state.events
            return [events[i] for i in self._state.geo.query(latitude, longitude, radius_km)]

    def public_events(
        self, query: ListCriteria, now: datetime, offset: int = 0, limit: int | None = None
    ) -> tuple[int, list[Event]]:
        """(count, page) of the public list: matches ``offset`` to ``offset + limit`` in list
        order (see ``domain.catalog``; ``limit=None``: all the rest)."""
        with self._lock:
            total, ids = self._state.catalog.select(query, now, offset, limit)
            events = self._state.events
            return total, [events[i] for i in ids]

    def events_owned_by(self, user_id: str) -> list[Event]:
        """The user's events in id order (ids grow with creation, events are never deleted)."""
        with self._lock:
            events = self._state.events
            return [events[i] for i in self._state.owned.get(user_id, ())]

    def events_subscribed_by(self, user_id: str) -> list[Event]:
        """Events the user is subscribed to, in id order."""
        with self._lock:
            events = self._state.events
            return [events[i] for i in sorted(self._state.subscribed.get(user_id, ()))]

    def add_event(self, event: Event) -> Event:
        """Store a new event under the next free id (``event.id`` is ignored); return it."""
        with self._lock:
            return self.plan_add_event(event)[1]()

    def plan_add_event(self, event: Event) -> tuple[Event, Callable[[], Event]]:
        """The event as it will be stored (its id is the next free one), and the plan."""
        if event.places_taken != 0:
            raise ValueError("a new event has no subscriptions")
        state = self._state
        owner = state.users.get(event.owner.id)
        if owner is None:
            raise ValueError(f"unknown owner {event.owner.id}")
        # The stored user object, so every event of an owner shares one record.
        stored = replace(event, id=state.next_event_id, owner=owner)

        def apply() -> Event:
            self._state.load_event(stored)
            return stored

        return stored, apply

    def replace_event(self, event: Event) -> Event:
        """Swap in a new version of an existing event (same id, owner and places taken)."""
        with self._lock:
            return self.plan_replace_event(event)()

    def plan_replace_event(self, event: Event) -> Callable[[], Event]:
        current = self._state.events.get(event.id)
        if current is None:
            raise ValueError(f"unknown event {event.id}")
        if event.owner.id != current.owner.id:
            raise ValueError("the owner of an event cannot change")
        if event.places_taken != current.places_taken:
            raise ValueError("places_taken is maintained by the store")
        if event.slots_limit < event.places_taken:
            raise ValueError("capacity below the places already taken")

        def apply() -> Event:
            state = self._state
            if (event.latitude, event.longitude) != (current.latitude, current.longitude):
                state.geo.move(event.id, current.latitude, current.longitude, event.latitude,
                               event.longitude)
            state.events[event.id] = event
            state.catalog.put(event, current)
            return event

        return apply

    # -- subscriptions -----------------------------------------------------------------------

    def subscriptions_of(self, event_id: int) -> list[Subscription]:
        """The event's subscriptions in subscription order (empty for an unknown event)."""
        with self._lock:
            return list(self._state.subscriptions.get(event_id, ()))

    def get_subscription(self, event_id: int, user_id: str) -> Subscription | None:
        with self._lock:
            for subscription in self._state.subscriptions.get(event_id, ()):
                if subscription.user_id == user_id:
                    return subscription
            return None

    def put_subscription(self, event_id: int, subscription: Subscription) -> Event:
        """Add or replace a user's subscription, moving the event's places; return the event.

        A replaced subscription keeps its position in the subscription order.
        """
        with self._lock:
            return self.plan_put_subscription(event_id, subscription)()

    def plan_put_subscription(self, event_id: int,
                              subscription: Subscription) -> Callable[[], Event]:
        state = self._state
        event = state.events.get(event_id)
        if event is None:
            raise ValueError(f"unknown event {event_id}")
        if subscription.user_id not in state.users:
            raise ValueError(f"unknown user {subscription.user_id}")
        subs = state.subscriptions.get(event_id, ())
        position = next(
            (i for i, sub in enumerate(subs) if sub.user_id == subscription.user_id), None
        )
        previous = subs[position].places if position is not None else 0
        taken = event.places_taken - previous + subscription.places
        if not 0 <= taken <= event.slots_limit:
            raise ValueError(f"event {event_id} would have {taken} of {event.slots_limit}")
        if position is None:
            changed = (*subs, subscription)
        else:
            changed = (*subs[:position], subscription, *subs[position + 1:])
        updated = replace(event, places_taken=taken)

        def apply() -> Event:
            state = self._state
            state.subscriptions[event_id] = changed
            state.subscribed.setdefault(subscription.user_id, {})[event_id] = None
            state.events[event_id] = updated
            return updated

        return apply

    def remove_subscription(self, event_id: int, user_id: str) -> Subscription | None:
        """Remove a subscription and give its places back; ``None`` if there was none."""
        with self._lock:
            return self.plan_remove_subscription(event_id, user_id)()

    def plan_remove_subscription(self, event_id: int,
                                 user_id: str) -> Callable[[], Subscription | None]:
        """Planning finds nothing to remove: the plan answers ``None`` and changes nothing."""
        subs = self._state.subscriptions.get(event_id, ())
        removed = next((sub for sub in subs if sub.user_id == user_id), None)
        if removed is None:
            return lambda: None
        remaining = tuple(sub for sub in subs if sub.user_id != user_id)

        def apply() -> Subscription | None:
            state = self._state
            if remaining:
                state.subscriptions[event_id] = remaining
            else:
                del state.subscriptions[event_id]
            mine = state.subscribed.get(user_id)
            if mine is not None:
                mine.pop(event_id, None)
                if not mine:
                    del state.subscribed[user_id]
            event = state.events[event_id]
            state.events[event_id] = replace(event, places_taken=event.places_taken
                                             - removed.places)
            return removed

        return apply

    # -- lifecycle ---------------------------------------------------------------------------

    def reset(self) -> None:
        """Return to the state the store was built from (fixtures), dropping every change."""
        with _gc_paused():
            fresh = self._pristine.copy()
        with self._lock:
            self._state = fresh

    def export_state(self) -> dict[str, Any]:
        """The whole state as a JSON-serialisable dict; ``import_state`` restores it exactly."""
        with self._lock:
            state = self._state
            event_ids = sorted(state.events)
            return {
                "format": STATE_FORMAT,
                "next_event_id": state.next_event_id,
                "users": [user.to_state() for user in state.users.values()],
                "events": [state.events[eid].to_state() for eid in event_ids],
                "subscriptions": [
                    {"event_id": eid, **sub.to_state()}
                    for eid in event_ids
                    for sub in state.subscriptions.get(eid, ())
                ],
            }

    @staticmethod
    def read_state(document: Mapping[str, Any]) -> StateDocument:
        """An ``export_state`` document, checked whole and indexed, ready to ``install``.

        Raises ``RuleViolation`` naming the problem when the document is not a valid state.
        """
        try:
            with _gc_paused():
                return StateDocument(_state_from_document(document))
        except RuleViolation:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise RuleViolation(
                "The state document is invalid.", {"state": [f"{type(exc).__name__}: {exc}"]}
            ) from exc

    def install(self, document: StateDocument) -> None:
        """Replace the whole state with a read document; ``reset()`` still returns to the
        fixtures the store was built from."""
        with self._lock:
            self._state = document.state

    def import_state(self, state: Mapping[str, Any]) -> None:
        """Replace the whole state with an ``export_state`` document (all or nothing)."""
        self.install(self.read_state(state))


class StateDocument:
    """A state document read and checked by ``InMemoryStore.read_state`` (opaque)."""

    __slots__ = ("state",)

    def __init__(self, state: _State) -> None:
        self.state = state


def _event_id(event: Event) -> int:
    return event.id


def _state_from_document(document: Mapping[str, Any]) -> _State:
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
    state = _build_state(users, events, grouped)
    next_id = document["next_event_id"]
    if not isinstance(next_id, int) or next_id < state.next_event_id:
        raise ValueError(f"next_event_id {next_id!r} must be above every event id")
    state.next_event_id = next_id
    return state
