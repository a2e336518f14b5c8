"""Behaviour checks of how values are written: dates in UTC, to the second, as documented."""

from __future__ import annotations

import re
from typing import Any

from ..strategies import KNOWN_PLACES
from .context import CheckContext
from .registry import ACTIVITIES, TRACKING, behaviour_check

#: The Sport Activities API's dates: `2018-07-21T17:32:28Z` (openapi.yaml > DateTime).
EVENT_DATE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
#: The tracking API's dates, as its own example writes them (`2019-02-12T14:07:33+00:00`).
TRACKING_DATE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|\+00:00)")
EVENT_DATES = ("start_date", "end_date", "publish_date")
TRACKING_DATES = ("startdate", "createdAt", "updatedAt")


def _bad_dates(items: list[dict[str, Any]], fields: tuple[str, ...], pattern: re.Pattern[str],
               what: str) -> list[str]:
    return [f"{what} {item.get('id')}: {field} {item[field]!r}"
            for item in items for field in fields
            if item.get(field) is not None and not pattern.fullmatch(str(item[field]))]


@behaviour_check(
    rule=("Dates are written in UTC without milliseconds, as documented: the Sport Activities "
          "API as `2018-07-21T17:32:28Z` (start_date, end_date, publish_date), the tracking "
          "API as `2019-02-12T14:07:33+00:00` (startdate, createdAt, updatedAt)."),
    cites=(f"{ACTIVITIES} > Events > List of sport activities (the documented dates, e.g. "
           "\"2018-06-27T17:00:48Z\")",
           f"{TRACKING} > the activity example of the reference documentation (\"startdate\": "
           "\"2019-02-12T14:07:33+00:00\")",
           "openapi.yaml > components.schemas.DateTime (UTC date-time without milliseconds)"),
    operations=("listEvents",),
    writes=False, needs_token=False,
)
def dates_are_utc_without_milliseconds(ctx: CheckContext) -> None:
    def expect_utc(items: list[dict[str, Any]], fields: tuple[str, ...],
                   pattern: re.Pattern[str], what: str) -> None:
        """Each source is checked as it is read, so a failure shows the answer at fault."""
        bad = _bad_dates(items, fields, pattern, what)
        ctx.examples += 1
        ctx.expect(not bad, "dates not in UTC to the second, as documented:\n"
                   + "\n".join(bad[:10]))

    lat, lon = KNOWN_PLACES[0]
    events = ctx.pages("/v1/events", {"latitude": lat, "longitude": lon}, user=None,
                       max_pages=1)
    expect_utc(events, EVENT_DATES, EVENT_DATE, "event")
    signed_in = ctx.target.has_user("main")
    if events and signed_in and ctx.can("getEvent"):
        expect_utc([ctx.get_event(events[0]["id"])], EVENT_DATES, EVENT_DATE, "event")
    if signed_in and ctx.can("listMyEvents"):
        mine = ctx.pages("/v1/events/mine", {"type": "created"}, max_pages=1)
        expect_utc(mine, EVENT_DATES, EVENT_DATE, "my event")
    if signed_in and ctx.can("listActivities"):
        activities = ctx.json(ctx.call("GET", "tracking", "/v2/activities", expect=200,
                                       what="listing one's activities"))
        if isinstance(activities, list):
            expect_utc(activities, TRACKING_DATES, TRACKING_DATE, "activity")
