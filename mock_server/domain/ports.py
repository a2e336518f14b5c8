"""The ports of the domain: what it needs of the state, written as protocols.

The domain functions take a ``Store`` and never know which engine is behind it;
``mock_server.state`` implements these protocols (in memory, or kept in step across processes
and machines through SQLite or PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from mock_server.domain.activities.catalog import ListCriteria
from mock_server.domain.activities.models import Event, Subscription, User

if TYPE_CHECKING:
    from mock_server.domain.tracking.activities import TrackingActivity


class Fixtures(Protocol):
    """What a store is built from (``mock_server.seed.FixtureSet`` satisfies it)."""

    @property
    def users(self) -> Sequence[User]: ...

    @property
    def events(self) -> Sequence[Event]: ...

    @property
    def subscriptions(self) -> Mapping[int, Sequence[Subscription]]: ...


class Store(Protocol):
    """The Sport Activities state the domain needs.

    ``transaction()`` is a check-then-act unit: it holds the fleet-wide write lock (every
    process, every machine), sees the newest state, and may contain one write. ``snapshot()``
    is for consistent reads only and takes no fleet-wide lock.
    """

    def transaction(self) -> AbstractContextManager[Any]: ...

    def snapshot(self) -> AbstractContextManager[Any]: ...

    def get_user(self, user_id: str) -> User | None: ...

    def get_user_by_external_id(self, user_type: str, external_id: str) -> User | None: ...

    def users(self) -> list[User]: ...

    def add_user(self, user: User) -> None: ...

    def get_event(self, event_id: int) -> Event | None: ...

    def event_count(self) -> int: ...

    def events(self) -> list[Event]: ...

    def events_near(self, latitude: float, longitude: float, radius_km: float) -> list[Event]: ...

    def public_events(
        self, query: ListCriteria, now: datetime, offset: int = 0, limit: int | None = None
    ) -> tuple[int, list[Event]]: ...

    def events_owned_by(self, user_id: str) -> list[Event]: ...

    def events_subscribed_by(self, user_id: str) -> list[Event]: ...

    def add_event(self, event: Event) -> Event: ...

    def replace_event(self, event: Event) -> Event: ...

    def subscriptions_of(self, event_id: int) -> list[Subscription]: ...

    def get_subscription(self, event_id: int, user_id: str) -> Subscription | None: ...

    def put_subscription(self, event_id: int, subscription: Subscription) -> Event: ...

    def remove_subscription(self, event_id: int, user_id: str) -> Subscription | None: ...

    def export_state(self) -> dict[str, Any]: ...


class ActivityStore(Protocol):
    """The tracking activities and their thumbnail history; reads hand out copies."""

    def transaction(self) -> AbstractContextManager[Any]: ...

    def get(self, token: str) -> TrackingActivity | None: ...

    def of_user(self, user_id: str) -> list[TrackingActivity]: ...

    def count(self) -> int: ...

    def history(self, token: str) -> list[str]: ...

    def put(self, activity: TrackingActivity, history: list[str]) -> None: ...

    def delete(self, token: str) -> None: ...

    def export_state(self) -> dict[str, Any]: ...


@runtime_checkable
class BlobStore(Protocol):
    """Where uploaded bytes live, content-addressed; the HTTP layer depends on this."""

    max_total_bytes: int

    def put(self, data: bytes, content_type: str) -> str:
        """Store ``data`` (once) and return its SHA-1 hex digest; 507 when storage is full."""
        ...

    def get(self, digest: str) -> tuple[bytes, str] | None:
        """The bytes and content type stored under ``digest``, or ``None``."""
        ...

    def __len__(self) -> int: ...

    @property
    def total_bytes(self) -> int: ...

    def export_state(self) -> dict[str, Any]:
        """A JSON-serialisable snapshot (``domain.tracking.blobs.blobs_to_snapshot``)."""
        ...
