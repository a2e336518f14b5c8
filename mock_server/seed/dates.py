"""The fixtures' calendar: a fixed base date, and the shared pool of quarter-hour instants.

Every fixture date hangs off ``FIXTURE_BASE_DATE``, never the wall clock, so a seed gives the
same data on any day. Events start and end on quarter hours, so a million of them can share a
few thousand ``datetime`` objects drawn from one pool instead of holding two each.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Final

#: Fixed origin of every fixture date (a Monday), so fixtures never depend on the wall clock.
FIXTURE_BASE_DATE: Final = datetime(2026, 11, 30, tzinfo=UTC)

# Quarter hours from the base date covered by the date pool: 120 days before, 300 after.
QUARTERS_PER_DAY: Final = 96
POOL_DAYS_BEFORE: Final = 120
POOL_DAYS: Final = 420


class DatePool(dict[int, datetime]):
    """Quarter hours from ``POOL_DAYS_BEFORE`` days before the base date, by index, made on
    first use and then shared, so a million events hold a few thousand datetime objects
    while 300 events do not pay for the 52,000 of the whole range (a seventh of the mock's
    start-up)."""

    #: The index of ``FIXTURE_BASE_DATE`` itself.
    origin: Final = POOL_DAYS_BEFORE * QUARTERS_PER_DAY

    def __missing__(self, index: int) -> datetime:
        if not 0 <= index < (POOL_DAYS_BEFORE + POOL_DAYS) * QUARTERS_PER_DAY:
            raise IndexError(index)
        moment = self[index] = FIXTURE_BASE_DATE + timedelta(
            minutes=15 * (index - self.origin))
        return moment
