"""The tracking activities in memory: what every process holds, whichever engine runs."""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from mock_server.domain.tracking.activities import (
    TrackingActivity,
    activities_from_snapshot,
    activities_to_snapshot,
)


class InMemoryActivityStore:
    """Activities by token and their thumbnail history; resettable to the fixtures.

    Every read returns a copy and every write stores one, so a caller can never change the
    store outside its lock.
    """

    def __init__(self, activities: Iterable[TrackingActivity] = ()) -> None:
        self._lock = threading.RLock()
        self._initial = [copy.deepcopy(activity) for activity in activities]
        self._by_id: dict[str, TrackingActivity] = {}
        self._history: dict[str, list[str]] = {}
        self.reset()

    @contextmanager
    def transaction(self) -> Iterator[InMemoryActivityStore]:
        with self._lock:
            yield self

    def get(self, token: str) -> TrackingActivity | None:
        with self._lock:
            found = self._by_id.get(token)
            return None if found is None else copy.deepcopy(found)

    def of_user(self, user_id: str) -> list[TrackingActivity]:
        with self._lock:
            return [copy.deepcopy(a) for a in self._by_id.values() if a.user_id == user_id]

    def count(self) -> int:
        with self._lock:
            return len(self._by_id)

    def history(self, token: str) -> list[str]:
        with self._lock:
            return list(self._history.get(token, ()))

    def put(self, activity: TrackingActivity, history: list[str]) -> None:
        with self._lock:
            self._by_id[activity.id] = copy.deepcopy(activity)
            if history:
                self._history[activity.id] = list(history)
            else:
                self._history.pop(activity.id, None)

    def delete(self, token: str) -> None:
        with self._lock:
            self._by_id.pop(token, None)
            self._history.pop(token, None)

    def reset(self) -> None:
        """Back to the activities the store was created with; the history is forgotten."""
        with self._lock:
            self._by_id = {a.id: copy.deepcopy(a) for a in self._initial}
            self._history = {}

    def export_state(self) -> dict[str, Any]:
        with self._lock:
            return activities_to_snapshot(self._by_id.values(), self._history)

    def import_state(self, state: Any) -> None:
        """Replace the content with a snapshot, all or nothing; ``ValueError`` if malformed."""
        by_id, history = activities_from_snapshot(state)
        with self._lock:
            self._by_id = by_id
            self._history = history
