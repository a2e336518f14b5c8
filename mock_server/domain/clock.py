"""Where "now" comes from.

Rules such as "a PUBLISHED event whose publish_date lies in the future is not yet public" depend
on the current time. The domain never calls ``datetime.now()`` itself: it is handed a ``now``
taken from a ``Clock``, so tests (and the admin API's ``SteerableClock``) can move time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, runtime_checkable


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


def _wall_now() -> datetime:
    return datetime.now(UTC)


def format_instant(moment: datetime) -> str:
    """``2026-11-30T12:00:00.250000Z``: the clock's instants in one unambiguous UTC form."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant with an offset (``Z`` accepted); ``ValueError`` otherwise."""
    if not isinstance(text, str):
        raise ValueError(f"expected an ISO 8601 date-time string, got {text!r}")
    moment = datetime.fromisoformat(text.strip())  # 3.11+ reads a trailing Z
    return _as_utc(moment)


class SteerableClock:
    """The running mock's clock: the wall clock, shifted by an offset, or frozen at an instant.

    By default it *is* the wall clock (offset 0, not frozen), so a mock nobody steers behaves
    like a real server. A test engineer can set it (``set``), move it (``advance``) or stop it
    (``freeze``), and everything that reads the mock's "now" follows: event visibility through
    ``publish_date``, token expiry (401 vs 498), ``updatedAt`` of tracking activities.

    An offset rather than an absolute instant keeps time flowing after a jump, which is what a
    client polling for "an upcoming event became past" needs. The two settings live in one tuple
    replaced at once, so ``now()`` (called on every request) reads them without a lock and never
    sees half of a change.
    """

    def __init__(self, wall: Callable[[], datetime] = _wall_now) -> None:
        self._wall = wall
        self._lock = threading.Lock()
        self._mode: tuple[timedelta, datetime | None] = (timedelta(0), None)

    def now(self) -> datetime:
        offset, frozen_at = self._mode
        if frozen_at is not None:
            return frozen_at
        return self._wall() + offset

    def copy(self) -> SteerableClock:
        """A clock on the same wall in the same mode: a scratch copy to compute a change on."""
        twin = SteerableClock(self._wall)
        twin._mode = self._mode
        return twin

    @property
    def frozen(self) -> bool:
        return self._mode[1] is not None

    @property
    def offset(self) -> timedelta:
        """How far the clock is from the wall clock now (ahead is positive)."""
        offset, frozen_at = self._mode
        return offset if frozen_at is None else frozen_at - self._wall()

    def set(self, moment: datetime, *, frozen: bool | None = None) -> datetime:
        """Jump to ``moment``; ``frozen`` stops or restarts time there (``None``: keep as is)."""
        moment = _as_utc(moment)
        with self._lock:
            stay_frozen = self.frozen if frozen is None else frozen
            if stay_frozen:
                self._mode = (timedelta(0), moment)
            else:
                self._mode = (moment - self._wall(), None)
        return self.now()

    def advance(self, delta: timedelta | float) -> datetime:
        """Move by ``delta`` (a timedelta or seconds; negative goes back); return the new now."""
        step = delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        with self._lock:
            offset, frozen_at = self._mode
            if frozen_at is not None:
                self._mode = (offset, frozen_at + step)
            else:
                self._mode = (offset + step, None)
        return self.now()

    def freeze(self) -> datetime:
        """Stop time at the current instant."""
        with self._lock:
            moment = self.now()
            self._mode = (timedelta(0), moment)
        return moment

    def unfreeze(self) -> datetime:
        """Let time flow again from the frozen instant."""
        with self._lock:
            offset, frozen_at = self._mode
            if frozen_at is not None:
                self._mode = (frozen_at - self._wall(), None)
        return self.now()

    def follow_wall(self) -> None:
        """Back to the wall clock: no offset, not frozen."""
        with self._lock:
            self._mode = (timedelta(0), None)

    def export_state(self) -> dict[str, Any]:
        """``{"offset_microseconds": int, "frozen_at": str | None}``; exact on re-import."""
        offset, frozen_at = self._mode
        return {
            "offset_microseconds": _microseconds(offset),
            "frozen_at": None if frozen_at is None else format_instant(frozen_at),
        }

    def import_state(self, state: Any) -> None:
        """Restore an ``export_state`` snapshot; ``ValueError`` (and no change) if malformed."""
        if not isinstance(state, dict):
            raise ValueError("a clock snapshot is an object")
        micros = state.get("offset_microseconds", 0)
        if isinstance(micros, bool) or not isinstance(micros, int):
            raise ValueError("offset_microseconds must be an integer")
        frozen_text = state.get("frozen_at")
        frozen_at = None if frozen_text is None else parse_instant(frozen_text)
        try:
            offset = timedelta(microseconds=micros)
        except OverflowError:
            raise ValueError("offset_microseconds is out of range") from None
        with self._lock:
            self._mode = (offset, frozen_at)


def _microseconds(delta: timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
