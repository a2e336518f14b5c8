"""Behaviour checks of event lists: pagination, page size, and `mine` by type.

The filters of the public list have their own module, `filters.py`.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from hypothesis import strategies as st

from ..strategies import KNOWN_PLACES, event_bodies
from .context import CheckContext
from .registry import ACTIVITIES, behaviour_check


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


@behaviour_check(
    rule=("GET /v1/events/mine lists by type: `created` the caller's own events whatever their "
          "status, `subscribed` the events the caller subscribed to, and not the other kind; "
          "with `event` it holds that event only if it is of that kind."),
    cites=(f"{ACTIVITIES} > Events > List of my sport activities (type: created, subscribed)",
           "openapi.yaml > listMyEvents"),
    operations=("createEvent", "addSubscriber", "listMyEvents", "getAuthenticatedUser",
                "cancelEvent"),
    read_only_ok=True, read_only_operations=("listMyEvents", "getMySubscription",
                                             "getAuthenticatedUser"),
)
def mine_lists_created_and_subscribed_events_by_type(ctx: CheckContext) -> None:
    me = ctx.me()

    def mine(kind: str, event_id: int) -> set[int]:
        response = ctx.call("GET", "activities", "/v1/events/mine",
                            params={"type": kind, "event": event_id}, expect=200,
                            what=f"GET /v1/events/mine?type={kind}&event={event_id}")
        return {event.get("id") for event in ctx.json(response).get("data") or []}

    if ctx.read_only:
        created = ctx.pages("/v1/events/mine", {"type": "created"}, max_pages=1)
        strangers = [e.get("id") for e in created if (e.get("owner") or {}).get("id") != me["id"]]
        ctx.expect(not strangers, f"mine?type=created lists events of other owners: {strangers}")
        for event in ctx.pages("/v1/events/mine", {"type": "subscribed"}, max_pages=1)[:3]:
            ctx.call("GET", "activities", f"/v1/events/{event['id']}/subscribers/me", expect=200,
                     what=f"reading one's subscription to event {event['id']}, listed in "
                          "mine?type=subscribed")
            ctx.examples += 1
        return

    owner = "other" if ctx.target.has_user("other") else "main"

    def prop(value: tuple[dict[str, Any], dict[str, Any]]) -> None:
        body, pending = value
        own = ctx.create_event(body)
        hidden = ctx.create_event(pending)
        joined = ctx.create_event(body, user=owner)
        ctx.call("POST", "activities", f"/v1/events/{joined['id']}/subscribers",
                 json={"user": me["id"]}, expect=201, what="subscribing to an event")
        joined_label = ("one's own event, subscribed to" if owner == "main"
                        else "another user's event, subscribed to")
        wrong = []
        for kind, event, label, expected in (
                ("created", own, "one's own PUBLISHED event", True),
                ("created", hidden, "one's own PENDING event", True),
                ("created", joined, joined_label, owner == "main"),
                ("subscribed", joined, joined_label, True),
                ("subscribed", own, "one's own PUBLISHED event", False),
                ("subscribed", hidden, "one's own PENDING event", False)):
            if (event["id"] in mine(kind, event["id"])) != expected:
                state = "missing from" if expected else "wrongly in"
                wrong.append(f"event {event['id']} ({label}) is {state} mine?type={kind}")
        ctx.expect(not wrong, "GET /v1/events/mine mixes up its types:\n" + "\n".join(wrong))

    point = ctx.isolated_point()
    ctx.run_property(st.tuples(event_bodies(near=point, spread_km=2, statuses=("PUBLISHED",)),
                               event_bodies(near=point, spread_km=2, statuses=("PENDING",))),
                     prop, max_examples=min(ctx.max_examples, 3))
