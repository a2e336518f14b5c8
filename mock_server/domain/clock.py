"""Where "now" comes from.

Rules such as "a PUBLISHED event whose publish_date lies in the future is not yet public" depend
on the current time. The domain never calls ``datetime.now()`` itself: it is handed a ``now``
taken from a ``Clock``, so tests (and a later admin feature) can move time deterministically.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    """Source of the current UTC time."""

    def now(self) -> datetime:
        """Return the current time as a timezone-aware UTC datetime."""
        ...


class SystemClock:
    """The wall clock; what a running mock uses unless time is being steered."""

    def now(self) -> datetime:
        return datetime.now(UTC)


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("VirtualClock needs a timezone-aware datetime")
    return moment.astimezone(UTC)


class VirtualClock:
    """A clock that stands still until it is set or advanced.

    Thread-safe: request threads read it while an admin request moves it.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._now = _as_utc(start) if start is not None else datetime.now(UTC)

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, moment: datetime) -> None:
        """Jump to ``moment`` (forwards or backwards)."""
        moment = _as_utc(moment)
        with self._lock:
            self._now = moment

    def advance(self, delta: timedelta | float) -> datetime:
        """Move forward by ``delta`` (a timedelta or seconds) and return the new time."""
        step = delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        with self._lock:
            self._now = self._now + step
            return self._now
