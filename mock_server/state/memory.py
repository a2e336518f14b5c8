"""The Sport Activities state in memory: users, events, subscriptions and their indexes.

Every process holds one ``InMemoryStore`` (``state.replicated`` keeps it in step with the
others through the engine's log); its writes are split into a *plan* (every check, nothing
changed) and its application, so a change can be committed to the log in between.

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

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from operator import attrgetter
from typing import Any

from mock_server.domain.activities.catalog import ListCriteria
from mock_server.domain.activities.models import Event, Subscription, User
from mock_server.domain.bulk import collector_paused
from mock_server.domain.errors import RuleViolation
from mock_server.domain.ports import Fixtures
from mock_server.state.memory_state import (
    STATE_FORMAT,
    State,
    StateDocument,
    build_state,
    state_from_document,
)


class InMemoryStore:
    """The mock's state in memory. Build from fixtures, or empty for focused tests.

    >>> from mock_server.data import build_fixtures
    >>> store = InMemoryStore(build_fixtures(seed=42))
    """

    def __init__(self, fixtures: Fixtures | None = None) -> None:
        self._lock = threading.RLock()
        if fixtures is None:
            pristine = State()
        else:
            pristine = build_state(fixtures.users, fixtures.events, fixtures.subscriptions)
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
            return sorted(self._state.events.values(), key=attrgetter("id"))

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
        with collector_paused():
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
            with collector_paused():
                return StateDocument(state_from_document(document))
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


__all__ = ["STATE_FORMAT", "InMemoryStore", "StateDocument"]
