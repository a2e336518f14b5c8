"""Behaviour checks of the public list: pagination, page size, distance and filters."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from hypothesis import strategies as st

from ..strategies import (
    KNOWN_PLACES,
    event_bodies,
    great_circle_km,
    listing_filters,
    query_points,
)
from .context import CheckContext
from .registry import ACTIVITIES, behaviour_check

#: Clock difference tolerated between this machine and the target.
CLOCK_SKEW = timedelta(minutes=10)
#: Relative tolerance on distances: the spec says great-circle, not which Earth radius.
DISTANCE_TOLERANCE = 0.005


def _page_of(link: str | None) -> int | None:
    if link is None:
        return None
    values = parse_qs(urlsplit(link).query).get("page")
    return int(values[-1]) if values and values[-1].isdigit() else None


def _check_page(ctx: CheckContext, payload: dict[str, Any], *, page: int, limit: int,
                path: str, response: requests.Response) -> None:
    """The `meta` and `links` of one page agree with its `data` and the request."""
    data, meta, links = payload.get("data"), payload.get("meta") or {}, payload.get("links") or {}
    total, per_page = meta.get("total"), meta.get("per_page")
    if not isinstance(data, list):
        ctx.fail("`data` is not a list", response)
    if not (isinstance(total, int) and isinstance(per_page, int) and per_page > 0):
        ctx.fail(f"meta.total/per_page missing or invalid: {meta}", response)
    last_page = max(1, math.ceil(total / per_page))
    offset = (page - 1) * per_page
    expected_len = max(0, min(per_page, total - offset))
    problems = []
    if meta.get("current_page") != page:
        problems.append(f"meta.current_page is {meta.get('current_page')}, page {page} was asked")
    if meta.get("last_page") != last_page:
        problems.append(f"meta.last_page is {meta.get('last_page')}, but total {total} / "
                        f"per_page {per_page} makes {last_page}")
    if len(data) != expected_len:
        problems.append(f"page {page} holds {len(data)} items; total {total} and per_page "
                        f"{per_page} make {expected_len}")
    expected_from = offset + 1 if data else None
    expected_to = offset + len(data) if data else None
    if meta.get("from") != expected_from or meta.get("to") != expected_to:
        problems.append(f"meta.from/to are {meta.get('from')}/{meta.get('to')}, the items are "
                        f"{expected_from}/{expected_to}")
    if meta.get("path") != path:
        problems.append(f"meta.path is {meta.get('path')!r}, expected {path!r}")
    if _page_of(links.get("first")) != 1:
        problems.append(f"links.first {links.get('first')!r} is not page 1")
    if _page_of(links.get("last")) != last_page:
        problems.append(f"links.last {links.get('last')!r} is not page {last_page}")
    expected_prev = page - 1 if page > 1 else None
    if _page_of(links.get("prev")) != expected_prev:
        problems.append(f"links.prev {links.get('prev')!r} should be "
                        f"{'page ' + str(expected_prev) if expected_prev else 'null'}")
    expected_next = page + 1 if page < last_page else None
    if _page_of(links.get("next")) != expected_next:
        problems.append(f"links.next {links.get('next')!r} should be "
                        f"{'page ' + str(expected_next) if expected_next else 'null'}")
    for name in ("first", "last", "prev", "next"):
        link = links.get(name)
        if link is not None and not urlsplit(link).path.endswith(path):
            problems.append(f"links.{name} {link!r} does not lead to {path}")
    ctx.expect(not problems, f"page {page} (X-Desired-Limit {limit}) is inconsistent:\n"
               + "\n".join(problems), response)


def _walk_pages(ctx: CheckContext, query: dict[str, Any], limit: int, *,
                max_pages: int = 50) -> list[dict[str, Any]]:
    """Follow `links.next` from page 1, checking each page; answers all items seen."""
    response = ctx.public_list(query, limit=limit)
    items: list[dict[str, Any]] = []
    page = 1
    total = None
    while True:
        payload = ctx.json(response)
        _check_page(ctx, payload, page=page, limit=limit, path="/v1/events", response=response)
        if total is None:
            total = payload["meta"]["total"]
        ctx.expect(payload["meta"]["total"] == total,
                   f"meta.total changed from {total} to {payload['meta']['total']} between pages",
                   response)
        items.extend(payload["data"])
        following = payload["links"].get("next")
        if following is None or page >= max_pages:
            break
        page += 1
        response = ctx.get_url(ctx.target.resolve("activities", following),
                               headers={"X-Desired-Limit": str(limit)}, user=None)
        ctx.expect(response.status_code == 200,
                   f"following links.next {following!r} answered {response.status_code}",
                   response)
        # The link must keep the request's filters (the documented links repeat the query).
        kept = parse_qs(urlsplit(following).query)
        missing = [k for k in query if k not in kept]
        ctx.expect(not missing, f"links.next {following!r} drops the filters {missing}",
                   response)
    if page < max_pages:
        ids = [item.get("id") for item in items]
        ctx.expect(len(ids) == len(set(ids)), "an event appears on two pages", response)
        ctx.expect(len(items) == total, f"the pages hold {len(items)} events, meta.total says "
                   f"{total}", response)
    keys = [(item.get("start_date"), item.get("id")) for item in items]
    ctx.expect(keys == sorted(keys), "events are not ordered by start_date then id across the "
               "pages", response)
    return items


@behaviour_check(
    rule=("Across pages, `meta` (current_page, from, to, last_page, total, path) and `links` "
          "(first, last, prev, next, keeping the query) agree with `data`; following "
          "`links.next` visits every event once, in start_date then id order."),
    cites=(f"{ACTIVITIES} > Events > List of sport activities (links and meta)",
           "openapi.yaml > Pagination", "DECISIONS.md > Events (order of every event list)"),
    operations=("listEvents",),
    writes=False, needs_token=False,
)
def pages_agree_with_meta_and_links(ctx: CheckContext) -> None:
    # With write access the check makes its own events at an isolated point, so several pages
    # exist whatever the deployment holds; read-only, it walks the pages around Lille.
    if ctx.can("createEvent", "cancelEvent") and ctx.target.has_user("main"):
        lat, lon = ctx.isolated_point()
        bodies = st.lists(event_bodies(near=(lat, lon), spread_km=2), min_size=7, max_size=7)
        drawn: list[list[dict[str, Any]]] = []
        # A few draws, keeping the last: hypothesis starts from its simplest example.
        ctx.run_property(bodies, drawn.append, max_examples=3)
        for body in drawn[-1]:
            ctx.create_event(body)
        query: dict[str, Any] = {"latitude": lat, "longitude": lon, "distance": 20}
    else:
        lat, lon = KNOWN_PLACES[0]
        query = {"latitude": lat, "longitude": lon}

    def prop(limit: int) -> None:
        _walk_pages(ctx, query, limit, max_pages=8 if ctx.read_only else 50)

    ctx.run_property(st.integers(1, 8) | st.sampled_from((25, 100)), prop,
                     max_examples=min(ctx.max_examples, 6))


@behaviour_check(
    rule=("X-Desired-Limit sets the page size: meta.per_page is the asked value (1..100) and a "
          "page holds that many events while there are; without it the size is 25; out of "
          "range answers 422."),
    cites=(f"{ACTIVITIES} > Events (\"On every paginated endpoint you can pass a header to "
           "specify which limit you'd like: X-Desired-Limit ... default: 25\")",
           "DECISIONS.md > Events (X-Desired-Limit 1..100, out of range 422)"),
    operations=("listEvents",),
    writes=False, needs_token=False,
)
def desired_limit_is_honoured(ctx: CheckContext) -> None:
    lat, lon = KNOWN_PLACES[0]
    query = {"latitude": lat, "longitude": lon, "distance": 20000}
    payload = ctx.json(ctx.public_list(query))
    ctx.expect((payload.get("meta") or {}).get("per_page") == 25,
               f"without X-Desired-Limit meta.per_page is "
               f"{(payload.get('meta') or {}).get('per_page')}, documented default 25")

    def prop(limit: int) -> None:
        response = ctx.public_list(query, limit=limit)
        body = ctx.json(response)
        meta = body.get("meta") or {}
        ctx.expect(meta.get("per_page") == limit,
                   f"X-Desired-Limit {limit} answered meta.per_page {meta.get('per_page')}",
                   response)
        expected = min(limit, meta.get("total") or 0)
        ctx.expect(len(body.get("data") or []) == expected,
                   f"X-Desired-Limit {limit} answered {len(body.get('data') or [])} events "
                   f"(total {meta.get('total')}, expected {expected})", response)

    ctx.run_property(st.integers(1, 100) | st.sampled_from((1, 2, 24, 26, 99, 100)), prop,
                     max_examples=min(ctx.max_examples, 8))
    for bad in (0, 101):
        ctx.call("GET", "activities", "/v1/events", params=query, user=None,
                 headers={"X-Desired-Limit": str(bad)}, expect=422,
                 what=f"GET /v1/events with X-Desired-Limit {bad} (out of 1..100)")


def _overlaps(low: Any, high: Any, query_low: Any, query_high: Any) -> bool:
    return (query_high is None or low <= query_high) and (query_low is None or high >= query_low)


def _listing_problems(event: dict[str, Any], point: tuple[float, float],
                      params: dict[str, Any], now: datetime) -> list[str]:
    problems = []
    label = f"event {event.get('id')}"
    distance = params.get("distance", 100)
    try:
        km = great_circle_km(point[0], point[1], event["latitude"], event["longitude"])
    except (KeyError, TypeError):
        return [f"{label} has no usable latitude/longitude"]
    if km > distance * (1 + DISTANCE_TOLERANCE) + 0.01:
        problems.append(f"{label} lies {km:.2f} km from the query point, beyond distance "
                        f"{distance} km")
    if event.get("status") != "PUBLISHED":
        problems.append(f"{label} is {event.get('status')}, the public list shows PUBLISHED "
                        "events only")
    publish = event.get("publish_date")
    if publish and publish > (now + CLOCK_SKEW).strftime("%Y-%m-%dT%H:%M:%SZ"):
        problems.append(f"{label} is to be published at {publish}, not public yet")
    if "sport" in params and event.get("sport_id") != params["sport"]:
        problems.append(f"{label} has sport_id {event.get('sport_id')}, sport={params['sport']} "
                        "was asked")
    if "level[]" in params and not set(event.get("level") or []) & set(params["level[]"]):
        problems.append(f"{label} has levels {event.get('level')}, none of {params['level[]']}")
    if ("age_min" in params or "age_max" in params) and not _overlaps(
            event.get("age_min"), event.get("age_max"), params.get("age_min"),
            params.get("age_max")):
        problems.append(f"{label} accepts ages {event.get('age_min')}-{event.get('age_max')}, "
                        f"outside {params.get('age_min')}-{params.get('age_max')}")
    if ("start_date" in params or "end_date" in params) and not _overlaps(
            event.get("start_date"), event.get("end_date"), params.get("start_date"),
            params.get("end_date")):
        problems.append(f"{label} runs {event.get('start_date')}..{event.get('end_date')}, "
                        f"outside the window {params.get('start_date')}..{params.get('end_date')}")
    return problems


@behaviour_check(
    rule=("Every event of the public list lies within `distance` km (great-circle) of the "
          "query point, is PUBLISHED and already public, and matches each filter given (sport, "
          "level[], age range overlap, date window overlap)."),
    cites=(f"{ACTIVITIES} > Events > List of sport activities (\"retrieves all events meeting "
           "specific criteria\", query parameters)", "openapi.yaml > listEvents",
           "DECISIONS.md > Events (distance, filters, public list)"),
    operations=("listEvents",),
    writes=False, needs_token=False,
)
def listed_events_lie_within_distance_and_match_filters(ctx: CheckContext) -> None:
    lat, lon = KNOWN_PLACES[0]
    sample = ctx.json(ctx.public_list({"latitude": lat, "longitude": lon}, limit=100))
    sports = tuple(sorted({e["sport_id"] for e in sample.get("data", []) if "sport_id" in e}))
    now = datetime.now(UTC)

    def prop(value: tuple[tuple[float, float], dict[str, Any]]) -> None:
        point, params = value
        query = {"latitude": point[0], "longitude": point[1], **params}
        response = ctx.public_list(query, limit=100)
        payload = ctx.json(response)
        problems = []
        for event in payload.get("data") or []:
            problems += _listing_problems(event, point, params, now)
        ctx.expect(not problems, f"GET /v1/events {query} lists events it should not:\n"
                   + "\n".join(problems[:10]), response)

    ctx.run_property(st.tuples(query_points(), listing_filters(sports=sports[:20], now=now)),
                     prop)

