"""Behaviour checks of the public list's filters: distance, sport, levels, ages, dates.

Two sides of one rule: what the list shows matches the filters (on any data, around known
places), and the list shows every matching event (on events of the check's own, or, read-only,
against the unfiltered list).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

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



def _ambiguous(event: dict[str, Any], point: tuple[float, float],
               params: dict[str, Any]) -> bool:
    """Whether the documents leave open if `event` matches: it lies on the distance limit (the
    Earth radius is not documented), or exactly on an age or date bound (inclusive or not)."""
    distance = params.get("distance", 100)
    km = great_circle_km(point[0], point[1], event["latitude"], event["longitude"])
    if abs(km - distance) <= distance * DISTANCE_TOLERANCE + 0.01:
        return True
    bounds = {params.get("age_min"), params.get("age_max"), params.get("start_date"),
              params.get("end_date")} - {None}
    return bool(bounds & {event.get("age_min"), event.get("age_max"), event.get("start_date"),
                          event.get("end_date")})


def _selection_problems(events: list[dict[str, Any]], listed: set[int],
                        point: tuple[float, float], params: dict[str, Any],
                        now: datetime) -> list[str]:
    """Events wrongly left out of, or wrongly kept in, a filtered list of `events`."""
    problems = []
    for event in events:
        if _ambiguous(event, point, params):
            continue
        matches = not _listing_problems(event, point, params, now)
        if matches and event["id"] not in listed:
            problems.append(f"event {event['id']} matches but is left out ({_facts(event)})")
        elif not matches and event["id"] in listed:
            problems.append(f"event {event['id']} does not match but is listed "
                            f"({_facts(event)})")
    return problems


def _facts(event: dict[str, Any]) -> str:
    return (f"sport_id {event.get('sport_id')}, level {event.get('level')}, ages "
            f"{event.get('age_min')}-{event.get('age_max')}, {event.get('start_date')}.."
            f"{event.get('end_date')}, at {event.get('latitude')},{event.get('longitude')}")


@behaviour_check(
    rule=("Every documented filter of the public list is applied, and exactly: with `sport`, "
          "`level[]`, `age_min`/`age_max`, `start_date`/`end_date` or `distance`, the list "
          "holds every PUBLISHED event within the distance that matches them (levels: any of "
          "those asked; ages and dates: the ranges overlap), and no other."),
    cites=(f"{ACTIVITIES} > Events > List of sport activities (\"retrieves all events meeting "
           "specific criteria\", query parameters)", "openapi.yaml > listEvents",
           "DECISIONS.md > Events (filters: overlap, any of the levels; distance in km)"),
    operations=("createEvent", "listEvents", "cancelEvent"),
    read_only_ok=True, read_only_operations=("listEvents",), needs_token=False,
)
def every_list_filter_selects_exactly_the_matching_events(ctx: CheckContext) -> None:
    now = datetime.now(UTC)
    if ctx.can("createEvent", "cancelEvent") and ctx.target.has_user("main"):
        # Events of our own, at an isolated point, with sports, levels, ages and dates to
        # tell apart; lists around it hold them (and leftovers, which are not compared).
        point = ctx.isolated_point()
        sports = tuple(sorted({900_000 + (ctx.seed + i) % 99_000 for i in range(3)}))
        drawn: list[list[dict[str, Any]]] = []
        ctx.run_property(st.lists(event_bodies(near=point, spread_km=60,
                                               statuses=("PUBLISHED",)),
                                  min_size=6, max_size=6), drawn.append, max_examples=2)
        events = []
        for index, body in enumerate(drawn[-1]):
            events.append(ctx.create_event({**body, "sport_id": sports[index % len(sports)]}))
    else:
        # Read-only: the events around a known place, as the unfiltered list shows them.
        point = KNOWN_PLACES[0]
        events = ctx.pages("/v1/events", {"latitude": point[0], "longitude": point[1],
                                          "distance": 20}, user=None, max_pages=10)
        if not events:
            ctx.skip("the public list holds no event around Lille to filter")
        sports = tuple(sorted({e["sport_id"] for e in events if "sport_id" in e}))[:20]
    ours = [event for event in events if event.get("status", "PUBLISHED") == "PUBLISHED"]
    distances = st.sampled_from((1, 5, 20, 50, 100)) if len(ours) > 1 else st.just(100)

    def prop(value: tuple[dict[str, Any], int]) -> None:
        params, distance = value
        params = {**params, "distance": min(params.get("distance", distance), distance)}
        query = {"latitude": point[0], "longitude": point[1], **params}
        listed = {event["id"] for event in ctx.pages("/v1/events", query, user=None)}
        problems = _selection_problems(ours, listed, point, params, now)
        ctx.expect(not problems, f"GET /v1/events {query} does not select exactly the "
                   "matching events:\n" + "\n".join(problems[:10]))

    # Each documented filter on its own first, so every one is applied in every run; then
    # filters drawn together.
    for params in _one_filter_each(ours, sports):
        ctx.examples += 1
        prop((params, params.get("distance", 100)))
    ctx.run_property(st.tuples(listing_filters(sports=sports, now=now), distances), prop,
                     max_examples=min(ctx.max_examples, 8))


def _one_filter_each(events: list[dict[str, Any]], sports: tuple[int, ...]) -> list[dict[str, Any]]:
    """A query per documented filter, with values taken from `events` so each selects some."""
    if not events:
        return []
    event = events[len(events) // 2]
    start = datetime.strptime(event["start_date"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return [
        {"sport": sports[0] if sports else event["sport_id"]},
        {"level[]": [5, 10]},
        {"level[]": [20]},
        {"age_min": event["age_min"] + 1 if event["age_min"] < 120 else 0},
        {"age_max": max(0, event["age_max"] - 1)},
        {"start_date": (start - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
         "end_date": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")},
        {"distance": 20},
    ]
