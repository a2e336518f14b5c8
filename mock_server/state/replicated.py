"""The domain's ports, implemented over this process's in-memory copy and the engine's log.

Reads go straight to memory, with the indexes (the grid, the catalog): as fast in a fleet as
in one process. A write runs inside the fleet-wide write lock (``Replica.writing``): the
in-memory store *plans* it (every check, nothing changed), the change is committed to the log,
then the plan is applied, so memory never holds a change the others will not see. The same
changes, read back from the log, are replayed by every other process through the appliers
registered here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

from mock_server.domain.activities.catalog import ListCriteria
from mock_server.domain.activities.models import Event, Subscription, User
from mock_server.domain.tracking.activities import (
    TrackingActivity,
    activity_from_state,
    activity_to_state,
)
from mock_server.domain.tracking.blobs import (
    blobs_to_snapshot,
    check_content_type,
    content_digest,
    is_valid_digest,
    storage_full,
)
from mock_server.state.engine import Engine, WriteTxn
from mock_server.state.memory import InMemoryStore
from mock_server.state.memory_tracking import InMemoryActivityStore
from mock_server.state.replica import Change, Replica

T = TypeVar("T")


class ReplicatedStore:
    """The ``Store`` port: the Sport Activities state of the whole fleet."""

    def __init__(self, local: InMemoryStore, replica: Replica) -> None:
        self.local = local
        self._replica = replica
        replica.register({
            "add_user": lambda body: self.local.add_user(User.from_state(body)),
            "add_event": self._replay_add_event,
            "replace_event": self._replay_replace_event,
            "put_subscription": lambda body: self.local.put_subscription(
                body["event_id"], Subscription.from_state(body)),
            "remove_subscription": lambda body: self.local.remove_subscription(
                body["event_id"], body["user_id"]),
        })

    # -- units of work -----------------------------------------------------------------------

    def transaction(self) -> Any:
        return self._replica.writing()

    @contextmanager
    def snapshot(self) -> Iterator[ReplicatedStore]:
        with self.local.transaction():
            yield self

    # -- reads -------------------------------------------------------------------------------

    def get_user(self, user_id: str) -> User | None:
        return self.local.get_user(user_id)

    def get_user_by_external_id(self, user_type: str, external_id: str) -> User | None:
        return self.local.get_user_by_external_id(user_type, external_id)

    def users(self) -> list[User]:
        return self.local.users()

    def get_event(self, event_id: int) -> Event | None:
        return self.local.get_event(event_id)

    def event_count(self) -> int:
        return self.local.event_count()

    def events(self) -> list[Event]:
        return self.local.events()

    def events_near(self, latitude: float, longitude: float, radius_km: float) -> list[Event]:
        return self.local.events_near(latitude, longitude, radius_km)

    def public_events(self, query: ListCriteria, now: datetime, offset: int = 0,
                      limit: int | None = None) -> tuple[int, list[Event]]:
        return self.local.public_events(query, now, offset, limit)

    def events_owned_by(self, user_id: str) -> list[Event]:
        return self.local.events_owned_by(user_id)

    def events_subscribed_by(self, user_id: str) -> list[Event]:
        return self.local.events_subscribed_by(user_id)

    def subscriptions_of(self, event_id: int) -> list[Subscription]:
        return self.local.subscriptions_of(event_id)

    def get_subscription(self, event_id: int, user_id: str) -> Subscription | None:
        return self.local.get_subscription(event_id, user_id)

    def export_state(self) -> dict[str, Any]:
        return self.local.export_state()

    # -- writes: planned in memory, committed to the log, then applied -----------------------

    def _commit(self, change: Change, plan: Callable[[], T]) -> T | None:
        """Log ``change``, commit, then apply ``plan`` under the memory store's lock: a reader
        on another thread of this process (a threaded server) holds that lock, not the
        replica's, and saw half of a write (a cancelled event swapped in, the public list's
        catalog not yet updated: the list showed a CANCELED event)."""

        def apply() -> T:
            with self.local.lock:
                return plan()

        return self._replica.commit([change], apply_local=apply)

    def add_user(self, user: User) -> None:
        with self._replica.writing():
            plan = self.local.plan_add_user(user)
            self._commit(Change("add_user", user.to_state()), plan)

    def add_event(self, event: Event) -> Event:
        with self._replica.writing():
            stored, plan = self.local.plan_add_event(event)
            self._commit(Change("add_event", stored.to_state()), plan)
            return stored

    def replace_event(self, event: Event) -> Event:
        with self._replica.writing():
            plan = self.local.plan_replace_event(event)
            result = self._commit(Change("replace_event", event.to_state()), plan)
            assert result is not None
            return result

    def put_subscription(self, event_id: int, subscription: Subscription) -> Event:
        with self._replica.writing():
            plan = self.local.plan_put_subscription(event_id, subscription)
            result = self._commit(
                Change("put_subscription", {"event_id": event_id, **subscription.to_state()}),
                plan)
            assert result is not None
            return result

    def remove_subscription(self, event_id: int, user_id: str) -> Subscription | None:
        with self._replica.writing():
            plan = self.local.plan_remove_subscription(event_id, user_id)
            if self.local.get_subscription(event_id, user_id) is None:
                return None  # nothing to remove: nothing to log
            return self._commit(
                Change("remove_subscription", {"event_id": event_id, "user_id": user_id}), plan)

    # -- replaying another process's writes --------------------------------------------------

    def _owner(self, body: dict[str, Any]) -> User:
        owner = self.local.get_user(body["owner_id"])
        if owner is None:
            raise RuntimeError(f"log replay: unknown owner {body['owner_id']}")
        return owner

    def _replay_add_event(self, body: dict[str, Any]) -> None:
        stored = self.local.add_event(Event.from_state(body, self._owner(body)))
        if stored.id != body["id"]:  # every process applies the same log in the same order
            raise RuntimeError(f"log replay: event {body['id']} got id {stored.id}")

    def _replay_replace_event(self, body: dict[str, Any]) -> None:
        current = self.local.get_event(body["id"])
        if current is None:
            raise RuntimeError(f"log replay: unknown event {body['id']}")
        self.local.replace_event(
            Event.from_state(body, self._owner(body), places_taken=current.places_taken))


class ReplicatedActivities:
    """The ``ActivityStore`` port: the tracking activities of the whole fleet.

    A change is logged as the activity's new state and its thumbnail history, never as the
    call that made it: an update reads the clock, and a replay must not read it again.
    """

    def __init__(self, local: InMemoryActivityStore, replica: Replica) -> None:
        self.local = local
        self._replica = replica
        replica.register({
            "activity_put": lambda body: self.local.put(activity_from_state(body["activity"]),
                                                        body["history"]),
            "activity_delete": lambda body: self.local.delete(body["id"]),
        })

    def transaction(self) -> Any:
        return self._replica.writing()

    def get(self, token: str) -> TrackingActivity | None:
        return self.local.get(token)

    def of_user(self, user_id: str) -> list[TrackingActivity]:
        return self.local.of_user(user_id)

    def count(self) -> int:
        return self.local.count()

    def history(self, token: str) -> list[str]:
        return self.local.history(token)

    def put(self, activity: TrackingActivity, history: list[str]) -> None:
        change = Change("activity_put", {"activity": activity_to_state(activity),
                                         "history": list(history)})
        self._replica.commit([change], apply_local=lambda: self.local.put(activity, history))

    def delete(self, token: str) -> None:
        self._replica.commit([Change("activity_delete", {"id": token})],
                             apply_local=lambda: self.local.delete(token))

    def export_state(self) -> dict[str, Any]:
        return self.local.export_state()


class EngineBlobStore:
    """The ``BlobStore`` port: uploads live in the engine (memory, or the shared database),
    not in every process; the write lock makes the storage cap hold fleet-wide."""

    def __init__(self, engine: Engine, replica: Replica, max_total_bytes: int) -> None:
        if max_total_bytes < 0:
            raise ValueError("max_total_bytes must be >= 0")
        self.max_total_bytes = max_total_bytes
        self._engine = engine
        self._replica = replica

    def put(self, data: bytes, content_type: str) -> str:
        """Store ``data`` once and return its digest; the first content type stored wins.

        Hashing happens outside the lock so concurrent uploads of 3 MiB do not queue on it.
        """
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError("data must be bytes")
        check_content_type(content_type)
        payload = bytes(data)
        digest = content_digest(payload)
        with self._replica.writing() as scope:
            if scope.txn.blob_has(digest):
                return digest
            _, held = scope.txn.blob_stats()
            if held + len(payload) > self.max_total_bytes:
                raise storage_full(held, self.max_total_bytes, len(payload))

            def store(txn: WriteTxn) -> None:
                txn.blob_put(digest, content_type, payload)

            self._replica.commit([], before_commit=store)
        return digest

    def get(self, digest: str) -> tuple[bytes, str] | None:
        """The stored bytes and content type, or ``None`` for an unknown or malformed digest."""
        if not is_valid_digest(digest):
            return None
        return self._engine.blob_get(digest)

    def __len__(self) -> int:
        return self._engine.blob_stats()[0]

    def __contains__(self, digest: object) -> bool:
        return isinstance(digest, str) and self.get(digest) is not None

    @property
    def total_bytes(self) -> int:
        return self._engine.blob_stats()[1]

    def export_state(self) -> dict[str, Any]:
        return blobs_to_snapshot(self._engine.blob_all())
