"""Behaviour checks: the documented rules, one named function each, in one registry.

A check is a plain function `check(ctx)` named for the property it asserts. It talks HTTP
through `ctx` (so it runs against any deployment), draws its inputs with hypothesis, and says
where the documents state the rule (`cites`), so a failure points a reader at the sentence
the service broke. Lifecycle checks that need a model of server state are hypothesis state
machines, in `stateful.py`, registered here like any other check.

Why failures are collected rather than raised inside hypothesis: a live server keeps its
state, so replaying a failing example does not reproduce it, and hypothesis would report a
"flaky" test instead of the broken rule. The first violation stops the property, and is
reported with the exchange that showed it and the run's seed.
"""

from __future__ import annotations

import hashlib
import math
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn
from urllib.parse import parse_qs, urlsplit

import hypothesis
import requests
from hypothesis import strategies as st

from .spec import ApiName, Selection, Spec
from .strategies import (
    KNOWN_PLACES,
    event_bodies,
    event_patches,
    great_circle_km,
    jpeg_bytes,
    listing_filters,
    query_points,
    upload_files,
)
from .target import Exchange, Target, User

__all__ = [
    "REGISTRY",
    "BehaviourCheck",
    "CheckContext",
    "CheckRegistry",
    "SkipCheck",
    "Violation",
    "behaviour_check",
]

ACTIVITIES = "Sport Activities API"
TRACKING = "Sports Tracking Data API"
#: Documented limit of an upload (DECISIONS.md, Tracking): 3 MiB inclusive.
MAX_UPLOAD_BYTES = 3 * 1024 * 1024
#: Clock difference tolerated between this machine and the target.
CLOCK_SKEW = timedelta(minutes=10)
#: Relative tolerance on distances: the spec says great-circle, not which Earth radius.
DISTANCE_TOLERANCE = 0.005
#: Fields of an event that a duplicate keeps (all but id, status and the places taken).
COPIED_FIELDS = (
    "title", "description", "start_date", "end_date", "publish_date", "picture", "sport_id",
    "latitude", "longitude", "extra_location", "level", "age_min", "age_max", "slots_limit",
    "owner_message", "equipment_provided", "equipment_required", "equipment_linked",
    "subscription_disabled",
)


class Violation(AssertionError):
    """A documented rule was broken; carries the exchange that shows it."""

    def __init__(self, message: str, exchange: Exchange | None = None,
                 operation: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.exchange = exchange
        self.operation = operation


class SkipCheck(Exception):
    """The check cannot run against this target or selection; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class BehaviourCheck:
    """A registered check and what it needs to run."""

    name: str
    func: Callable[[CheckContext], None]
    rule: str
    cites: tuple[str, ...]
    #: operationIds the check sends requests to (besides what it can do without).
    operations: tuple[str, ...]
    #: Whether it creates or changes data (so `--read-only` skips it unless `read_only_ok`).
    writes: bool = True
    #: It has a read-only variant (e.g. on existing data), used under `--read-only`.
    read_only_ok: bool = False
    #: operationIds the read-only variant needs.
    read_only_operations: tuple[str, ...] = ()
    needs_other_user: bool = False
    #: False for checks that work with the API key alone (the public list).
    needs_token: bool = True
    api: ApiName = "activities"

    def skip_reason(self, target: Target, spec: Spec, selection: Selection) -> str | None:
        """Why this check cannot run here, or None."""
        if self.needs_other_user and not target.has_user("other"):
            return ("needs a second user's token (--other-token or --other-token-command) to "
                    "act as someone other than the owner")
        if self.needs_token and not target.has_user("main"):
            return "needs a bearer token (--token or --token-command)"
        read_only = selection.read_only or target.read_only
        if read_only and self.writes and not self.read_only_ok:
            return "sends writes, and the target is read-only (--read-only)"
        needed = self.read_only_operations if read_only and self.writes else self.operations
        selected = {op.operation_id for op in spec.select(selection)}
        missing = [op for op in needed if op not in selected]
        if missing:
            return "needs operations outside the selection: " + ", ".join(missing)
        return None


class CheckRegistry:
    """All behaviour checks by name; `behaviour_check` adds one."""

    def __init__(self) -> None:
        self._checks: dict[str, BehaviourCheck] = {}

    def register(self, *, rule: str, cites: tuple[str, ...], operations: tuple[str, ...],
                 writes: bool = True, read_only_ok: bool = False,
                 read_only_operations: tuple[str, ...] = (), needs_other_user: bool = False,
                 needs_token: bool = True, api: ApiName = "activities",
                 name: str | None = None) -> Callable[[Callable[[CheckContext], None]],
                                                      Callable[[CheckContext], None]]:
        def decorate(func: Callable[[CheckContext], None]) -> Callable[[CheckContext], None]:
            check_name = name or func.__name__
            if check_name in self._checks:
                raise ValueError(f"behaviour check {check_name!r} registered twice")
            self._checks[check_name] = BehaviourCheck(
                name=check_name, func=func, rule=rule, cites=cites, operations=operations,
                writes=writes, read_only_ok=read_only_ok,
                read_only_operations=read_only_operations, needs_other_user=needs_other_user,
                needs_token=needs_token, api=api,
            )
            return func

        return decorate

    def __iter__(self) -> Iterator[BehaviourCheck]:
        return iter(self._checks.values())

    def __getitem__(self, name: str) -> BehaviourCheck:
        return self._checks[name]

    def __contains__(self, name: object) -> bool:
        return name in self._checks

    def __len__(self) -> int:
        return len(self._checks)

    def names(self) -> list[str]:
        return list(self._checks)


REGISTRY = CheckRegistry()
behaviour_check = REGISTRY.register


@dataclass
class CheckContext:
    """What a running check may use: the target, the spec, its budget and helpers.

    One context per check run; not shared between threads.
    """

    target: Target
    spec: Spec
    check: BehaviourCheck
    seed: int
    max_examples: int = 10
    deadline: float | None = None
    selection: Selection = field(default_factory=Selection)
    last_exchange: Exchange | None = None
    examples: int = 0
    _created: list[tuple[User, int]] = field(default_factory=list)
    _me: dict[str, dict[str, Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def read_only(self) -> bool:
        return self.target.read_only or self.selection.read_only

    def expired(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def can(self, *operation_ids: str) -> bool:
        """Whether these operations are selected and may be sent to this target."""
        selected = {op.operation_id: op for op in self.spec.select(self.selection)}
        return all(op in selected for op in operation_ids) and not (
            self.read_only and any(not selected[op].is_safe for op in operation_ids))

    # -- HTTP -----------------------------------------------------------------------------------

    def call(self, method: str, api: ApiName, path: str, *, expect: int | tuple[int, ...] | None
             = None, user: User | None = "main", api_key: bool = True,
             what: str | None = None, **kwargs: Any) -> requests.Response:
        """Send one request; with `expect`, a status outside it is a violation."""
        response = self.target.request(method, api, path, user=user, api_key=api_key, **kwargs)
        self.last_exchange = Exchange.from_response(response)
        if expect is not None:
            allowed = (expect,) if isinstance(expect, int) else expect
            if response.status_code not in allowed:
                wanted = " or ".join(str(code) for code in allowed)
                self.fail(f"{what or f'{method} {path}'} answered {response.status_code}, "
                          f"expected {wanted}", response)
        return response

    def get_url(self, url: str, **kwargs: Any) -> requests.Response:
        response = self.target.get_url(url, **kwargs)
        self.last_exchange = Exchange.from_response(response)
        return response

    def json(self, response: requests.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            self.fail(f"{response.request.method} {response.request.url} answered a body that is "
                      "not JSON", response)

    def fail(self, message: str, response: requests.Response | None = None) -> NoReturn:
        exchange = Exchange.from_response(response) if response is not None else self.last_exchange
        operation = None
        if exchange is not None:
            located = self.target.split(exchange.url)
            if located is not None:
                found = self.spec.match(exchange.method, located[0], located[1])
                operation = found.label if found else None
        raise Violation(message, exchange, operation)

    def expect(self, condition: bool, message: str,
               response: requests.Response | None = None) -> None:
        if not condition:
            self.fail(message, response)

    def skip(self, reason: str) -> NoReturn:
        raise SkipCheck(reason)

    # -- hypothesis -----------------------------------------------------------------------------

    def settings(self, max_examples: int | None = None) -> hypothesis.settings:
        return hypothesis.settings(
            max_examples=max(1, max_examples if max_examples is not None else self.max_examples),
            database=None,
            deadline=None,
            phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
            suppress_health_check=list(hypothesis.HealthCheck),
            verbosity=hypothesis.Verbosity.quiet,
            report_multiple_bugs=False,
        )

    def run_property(self, strategy: st.SearchStrategy[Any], body: Callable[[Any], None], *,
                     max_examples: int | None = None) -> None:
        """Run `body` on examples of `strategy`; the first violation ends the property."""
        found: list[Violation] = []

        @self.settings(max_examples)
        @hypothesis.seed(self.seed)
        @hypothesis.given(strategy)
        def prop(value: Any) -> None:
            if found or self.expired():
                return
            self.examples += 1
            try:
                body(value)
            except Violation as violation:
                found.append(violation)

        prop()
        if found:
            raise found[0]

    # -- domain helpers -------------------------------------------------------------------------

    def me(self, user: User = "main") -> dict[str, Any]:
        """`GET /v1/auth/me`: the user a token belongs to (their id is needed to subscribe)."""
        if user not in self._me:
            response = self.call("GET", "activities", "/v1/auth/me", user=user, expect=200,
                                 what=f"GET /v1/auth/me as the {user} user")
            self._me[user] = self.json(response)
        return self._me[user]

    def create_event(self, body: dict[str, Any], *, user: User = "main") -> dict[str, Any]:
        """Create an event (cancelled again when the check ends), answering its `data`."""
        response = self.call("POST", "activities", "/v1/events", json=body, user=user,
                             expect=201, what="creating an event (POST /v1/events)")
        data = self.json(response).get("data")
        self.expect(isinstance(data, dict) and isinstance(data.get("id"), int),
                    "POST /v1/events answered 201 without `data.id`", response)
        with self._lock:
            self._created.append((user, data["id"]))
        return data

    def get_event(self, event_id: int, *, user: User = "main",
                  expect: int = 200) -> dict[str, Any]:
        response = self.call("GET", "activities", f"/v1/events/{event_id}", user=user,
                             expect=expect)
        return self.json(response).get("data") if expect == 200 else {}

    def isolated_point(self, salt: str = "") -> tuple[float, float]:
        """A point in the South Pacific, far from any real event, unique to this check.

        Events created there form a private universe: lists around it show only them (and
        leftovers of earlier runs with the same seed, which the checks tolerate).
        """
        rng = random.Random(f"{self.seed}:{self.check.name}:{salt}")
        return (round(rng.uniform(-58.0, -38.0), 6), round(rng.uniform(-150.0, -100.0), 6))

    def public_list(self, params: dict[str, Any], *, limit: int | None = None,
                    page: int | None = None, user: User | None = None) -> requests.Response:
        headers = {"X-Desired-Limit": str(limit)} if limit is not None else {}
        query = dict(params)
        if page is not None:
            query["page"] = page
        return self.call("GET", "activities", "/v1/events", params=query, headers=headers,
                         user=user, expect=200, what="GET /v1/events")

    def public_ids(self, params: dict[str, Any], *, max_pages: int = 20) -> set[int]:
        """Ids of every event the public list shows for `params` (all pages, 100 per page)."""
        ids: set[int] = set()
        for page in range(1, max_pages + 1):
            payload = self.json(self.public_list(params, limit=100, page=page))
            ids.update(event["id"] for event in payload.get("data", []))
            if payload.get("links", {}).get("next") is None:
                break
        return ids

    def cleanup(self) -> None:
        """Cancel the events this check created so they leave the public list (best effort)."""
        if self.read_only:
            return
        for user, event_id in self._created:
            try:
                self.target.request("POST", "activities", f"/v1/events/{event_id}/cancel",
                                    user=user)
            except requests.RequestException:
                pass
        self._created.clear()


def _same(a: Any, b: Any) -> bool:
    """Equality that tolerates float noise from a database round trip."""
    if isinstance(a, float) or isinstance(b, float):
        return (isinstance(a, (int, float)) and isinstance(b, (int, float))
                and not isinstance(a, bool) and not isinstance(b, bool)
                and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def _differences(expected: dict[str, Any], actual: dict[str, Any],
                 fields: Any = None) -> list[str]:
    names = fields if fields is not None else expected.keys()
    return [
        f"{name}: expected {expected.get(name)!r}, got {actual.get(name, '<missing>')!r}"
        for name in names if not _same(expected.get(name), actual.get(name))
    ]


def _expected_read(body: dict[str, Any]) -> dict[str, Any]:
    """What reading an event created (or patched) with `body` must show."""
    expected = {k: v for k, v in body.items() if k not in ("slots", "status")}
    if "slots" in body:
        expected["slots_limit"] = body["slots"]
    if "status" in body:
        expected["status"] = body["status"]
    return expected


# =============================================================================================
# Events
# =============================================================================================

@behaviour_check(
    rule=("An event created with POST /v1/events reads back as sent: every field as given, "
          "`slots` as `slots_limit` with all places free, PUBLISHED unless asked PENDING, owned "
          "by the caller; GET /v1/events/{id} shows the same event."),
    cites=(f"{ACTIVITIES} > Events > Add a new sport activity",
           f"{ACTIVITIES} > Events > Get a sport activity",
           "openapi.yaml > createEvent (slots read back as slots_limit)"),
    operations=("createEvent", "getEvent", "getAuthenticatedUser", "cancelEvent"),
)
def created_event_reads_back_as_sent(ctx: CheckContext) -> None:
    me = ctx.me()

    def prop(body: dict[str, Any]) -> None:
        created = ctx.create_event(body)
        expected = _expected_read(body)
        expected.setdefault("status", "PUBLISHED")
        expected["slots"] = body["slots"]
        problems = _differences(expected, created)
        if (created.get("owner") or {}).get("id") != me.get("id"):
            problems.append(f"owner.id: expected the caller {me.get('id')!r}, got "
                            f"{(created.get('owner') or {}).get('id')!r}")
        ctx.expect(not problems, "the created event differs from what was sent:\n"
                   + "\n".join(problems))
        read = ctx.get_event(created["id"])
        problems = _differences(created, read, created.keys())
        ctx.expect(not problems, f"GET /v1/events/{created['id']} differs from the creation "
                   "answer:\n" + "\n".join(problems))

    ctx.run_property(event_bodies(statuses=(None, "PUBLISHED", "PENDING"),
                                  subscription_disabled=None), prop)


@behaviour_check(
    rule=("PATCH /v1/events/{id} changes only the fields it is given: they take the sent "
          "values, every other field keeps its value, and a later GET agrees."),
    cites=(f"{ACTIVITIES} > Events > Modify a sport activity (\"you can just pass the fields "
           "you want to modify\")", "openapi.yaml > patchEvent"),
    operations=("createEvent", "patchEvent", "getEvent", "cancelEvent"),
)
def patch_changes_only_given_fields(ctx: CheckContext) -> None:
    strategy = st.tuples(event_bodies(statuses=(None, "PUBLISHED", "PENDING"),
                                      subscription_disabled=None), event_patches())

    def prop(value: tuple[dict[str, Any], dict[str, Any]]) -> None:
        body, patch = value
        before = ctx.create_event(body)
        response = ctx.call("PATCH", "activities", f"/v1/events/{before['id']}", json=patch,
                            expect=200, what=f"PATCH /v1/events/{before['id']}")
        after = ctx.json(response).get("data") or {}
        expected = dict(before)
        expected.update(_expected_read(patch))
        if "slots" in patch:
            # No one subscribed, so every place of the new capacity is free.
            expected["slots"] = patch["slots"]
        problems = _differences(expected, after, expected.keys())
        ctx.expect(not problems, f"PATCH with {sorted(patch)} changed the event otherwise than "
                   "asked:\n" + "\n".join(problems), response)
        read = ctx.get_event(before["id"])
        problems = _differences(after, read, after.keys())
        ctx.expect(not problems, "GET after PATCH differs from the PATCH answer:\n"
                   + "\n".join(problems))

    ctx.run_property(strategy, prop)


@behaviour_check(
    rule=("POST /v1/events/{id}/cancel answers the event with status CANCELED and nothing else "
          "changed; it leaves the public list, its owner can still read it, and it cannot be "
          "cancelled or modified again (422)."),
    cites=(f"{ACTIVITIES} > Events > Cancel a sport activity",
           f"{ACTIVITIES} > Events > List of sport activities",
           "openapi.yaml > cancelEvent", "DECISIONS.md > Events (CANCELED is final)"),
    operations=("createEvent", "cancelEvent", "listEvents", "getEvent", "patchEvent"),
)
def cancel_gives_canceled_and_hides_from_public_list(ctx: CheckContext) -> None:
    lat, lon = ctx.isolated_point()
    query = {"latitude": lat, "longitude": lon, "distance": 20}

    def prop(body: dict[str, Any]) -> None:
        event = ctx.create_event(body)
        listed = ctx.public_ids(query)
        ctx.expect(event["id"] in listed, f"the new PUBLISHED event {event['id']} at "
                   f"({body['latitude']}, {body['longitude']}) is not in the public list 20 km "
                   "around it")
        response = ctx.call("POST", "activities", f"/v1/events/{event['id']}/cancel",
                            expect=200, what="cancelling an event")
        canceled = ctx.json(response).get("data") or {}
        expected = dict(event, status="CANCELED")
        problems = _differences(expected, canceled, expected.keys())
        ctx.expect(not problems, "the cancel answer is not the event with status CANCELED:\n"
                   + "\n".join(problems), response)
        listed = ctx.public_ids(query)
        ctx.expect(event["id"] not in listed,
                   f"the CANCELED event {event['id']} is still in the public list")
        read = ctx.get_event(event["id"])
        ctx.expect(read.get("status") == "CANCELED",
                   f"the owner reads status {read.get('status')!r} after cancelling, expected "
                   "CANCELED")
        ctx.call("POST", "activities", f"/v1/events/{event['id']}/cancel", expect=422,
                 what="cancelling a CANCELED event again")
        ctx.call("PATCH", "activities", f"/v1/events/{event['id']}", json={"title": "again"},
                 expect=422, what="modifying a CANCELED event")

    near = event_bodies(near=(lat, lon), statuses=(None, "PUBLISHED"), spread_km=2)
    ctx.run_property(near, prop, max_examples=min(ctx.max_examples, 5))


@behaviour_check(
    rule=("POST /v1/events/{id}/duplicate answers 201 with a copy under a new id, in PENDING "
          "status, with the same details and all places free; the original is unchanged; the "
          "copy stays out of the public list until a PATCH of `status` publishes it."),
    cites=(f"{ACTIVITIES} > Events > Duplicate a sport activity (\"in pending status. To "
           "publish the event, you will have to do a PATCH on the status field\")",
           "openapi.yaml > duplicateEvent"),
    operations=("createEvent", "duplicateEvent", "getEvent", "listEvents", "patchEvent",
                "cancelEvent"),
)
def duplicate_gives_pending_copy_with_new_id(ctx: CheckContext) -> None:
    lat, lon = ctx.isolated_point()
    query = {"latitude": lat, "longitude": lon, "distance": 20}

    def prop(body: dict[str, Any]) -> None:
        original = ctx.create_event(body)
        response = ctx.call("POST", "activities", f"/v1/events/{original['id']}/duplicate",
                            expect=201, what="duplicating an event")
        copy = ctx.json(response).get("data") or {}
        ctx.expect(isinstance(copy.get("id"), int) and copy["id"] != original["id"],
                   f"the duplicate's id {copy.get('id')!r} is not a new id (original "
                   f"{original['id']})", response)
        with ctx._lock:
            ctx._created.append(("main", copy["id"]))
        problems = _differences(original, copy, COPIED_FIELDS)
        if copy.get("status") != "PENDING":
            problems.append(f"status: expected 'PENDING', got {copy.get('status')!r}")
        if copy.get("slots") != copy.get("slots_limit"):
            problems.append(f"slots: expected all {copy.get('slots_limit')} places free, got "
                            f"{copy.get('slots')!r}")
        if (copy.get("owner") or {}).get("id") != (original.get("owner") or {}).get("id"):
            problems.append("owner: the copy has another owner")
        ctx.expect(not problems, "the duplicate is not a pending copy:\n" + "\n".join(problems),
                   response)
        again = ctx.get_event(original["id"])
        problems = _differences(original, again, original.keys())
        ctx.expect(not problems, "duplicating changed the original:\n" + "\n".join(problems))
        ctx.expect(copy["id"] not in ctx.public_ids(query),
                   f"the PENDING copy {copy['id']} is in the public list")
        ctx.call("PATCH", "activities", f"/v1/events/{copy['id']}",
                 json={"status": "PUBLISHED"}, expect=200, what="publishing the copy")
        ctx.expect(copy["id"] in ctx.public_ids(query),
                   f"the copy {copy['id']} published with PATCH status is not in the public list")

    near = event_bodies(near=(lat, lon), statuses=(None, "PUBLISHED"), spread_km=2,
                        subscription_disabled=None)
    ctx.run_property(near, prop, max_examples=min(ctx.max_examples, 5))


@behaviour_check(
    rule=("Another user can neither modify, cancel nor duplicate someone's event: each "
          "answers 403 and the event is left unchanged."),
    cites=(f"{ACTIVITIES} > Events > Cancel a sport activity (\"if you are allowed to\")",
           f"{ACTIVITIES} > Errors (403 Forbidden -- You are not allowed)",
           "openapi.yaml > patchEvent, cancelEvent, duplicateEvent (owner only, 403)"),
    operations=("createEvent", "patchEvent", "cancelEvent", "duplicateEvent", "getEvent"),
    needs_other_user=True,
)
def other_users_event_cannot_be_changed(ctx: CheckContext) -> None:
    def prop(value: tuple[dict[str, Any], dict[str, Any]]) -> None:
        body, patch = value
        event = ctx.create_event(body)
        path = f"/v1/events/{event['id']}"
        ctx.call("PATCH", "activities", path, json=patch, user="other", expect=403,
                 what="another user modifying the event")
        ctx.call("POST", "activities", path + "/cancel", user="other", expect=403,
                 what="another user cancelling the event")
        response = ctx.call("POST", "activities", path + "/duplicate", user="other",
                            expect=403, what="another user duplicating the event")
        del response
        problems = _differences(event, ctx.get_event(event["id"]), event.keys())
        ctx.expect(not problems, "another user's refused requests changed the event:\n"
                   + "\n".join(problems))

    ctx.run_property(st.tuples(event_bodies(), event_patches()), prop,
                     max_examples=min(ctx.max_examples, 5))


@behaviour_check(
    rule=("A PENDING event is shown only to its owner: anyone else reading it gets 404, "
          "which does not reveal that it exists."),
    cites=(f"{ACTIVITIES} > Events > Get a sport activity (\"a pending event that belongs to "
           "you\")", "openapi.yaml > getEvent"),
    operations=("createEvent", "getEvent", "cancelEvent"),
    needs_other_user=True,
)
def pending_event_is_visible_only_to_its_owner(ctx: CheckContext) -> None:
    def prop(body: dict[str, Any]) -> None:
        event = ctx.create_event(body)
        ctx.get_event(event["id"])
        ctx.call("GET", "activities", f"/v1/events/{event['id']}", user="other", expect=404,
                 what="another user reading a PENDING event")

    ctx.run_property(event_bodies(statuses=("PENDING",)), prop,
                     max_examples=min(ctx.max_examples, 3))


# =============================================================================================
# Lists and pagination
# =============================================================================================

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


# =============================================================================================
# Subscriptions
# =============================================================================================

@behaviour_check(
    rule=("A subscription that needs more places than are free is refused with 422 and takes "
          "nothing; once an event is full, nobody else can take a place."),
    cites=(f"{ACTIVITIES} > Subscribers > Add a new subscriber to an event",
           "openapi.yaml > addSubscriber (422 when not enough free places)",
           "DECISIONS.md > Subscribers (full event -> 422)"),
    operations=("createEvent", "addSubscriber", "getEvent", "getAuthenticatedUser",
                "updateSubscriber", "cancelEvent"),
)
def full_event_refuses_subscription(ctx: CheckContext) -> None:
    me = ctx.me()
    other = ctx.me("other") if ctx.target.has_user("other") else None

    def subscribe(event_id: int, user: User, user_id: str, places: int,
                  expect: int) -> requests.Response:
        return ctx.call("POST", "activities", f"/v1/events/{event_id}/subscribers", user=user,
                        json={"user": user_id, "additional_subscribers": places - 1},
                        expect=expect,
                        what=f"subscribing {places} place(s) to event {event_id}")

    def prop(value: tuple[dict[str, Any], int]) -> None:
        body, extra = value
        slots = body["slots"]
        event = ctx.create_event(body)
        subscribe(event["id"], "main", me["id"], slots + extra, 422)
        after = ctx.get_event(event["id"])
        ctx.expect(after.get("slots") == slots, f"a refused subscription changed the free "
                   f"places from {slots} to {after.get('slots')}")
        subscribe(event["id"], "main", me["id"], slots, 201)
        full = ctx.get_event(event["id"])
        ctx.expect(full.get("slots") == 0, f"after taking all {slots} places, {full.get('slots')}"
                   " are still free")
        if other is not None:
            subscribe(event["id"], "other", other["id"], 1, 422)
        else:
            ctx.call("PATCH", "activities", f"/v1/events/{event['id']}/subscribers/{me['id']}",
                     json={"additional_subscribers": slots}, expect=422,
                     what="taking one more place of a full event")
        final = ctx.get_event(event["id"])
        ctx.expect(final.get("slots") == 0, f"a full event shows {final.get('slots')} free "
                   "places after a refused request")

    bodies = event_bodies(min_slots=1, max_slots=6, subscription_disabled=False)
    ctx.run_property(st.tuples(bodies, st.integers(1, 3)), prop,
                     max_examples=min(ctx.max_examples, 6))


# =============================================================================================
# Authentication
# =============================================================================================

def _probe_requests(ctx: CheckContext) -> Iterator[tuple[Any, str, dict[str, Any]]]:
    """One plausible request per selected operation, for the credential checks.

    The request is otherwise valid (documented example bodies), so a missing credential is
    the only thing wrong with it.
    """
    from .spec import Operation

    examples = {
        "createEvent": {"json": _documented_example(ctx.spec, "EventCreateDocumented")},
        "patchEvent": {"json": {"title": "Test title 2"}},
        "addSubscriber": {"json": {"user": "4c68165b-3869-4c22-8098-a4a429c97509"}},
        "updateSubscriber": {"json": {"has_attended": True}},
        "updateActivity": {"json": {"images": ["https://example.com/"
                                               "2caf4b77b497b64bef1c3ba2b1d0744f25db3ce3"]}},
        "uploadFile": {"files": {"file": ("photo.jpg", jpeg_bytes(b"contracts"), "image/jpeg")}},
    }
    queries = {
        "listEvents": {"latitude": 50.62925, "longitude": 3.057256},
        "listMyEvents": {"type": "created"},
        "searchUserByExternalId": {"external_id": "ZXXDOEJ", "type": "FED"},
    }
    path_values = {"{id}": "1", "{user}": "4c68165b-3869-4c22-8098-a4a429c97509",
                   "{token}": "eu2cbe4bbb24082fd9ad"}
    for operation in ctx.spec.select(ctx.selection):
        op: Operation = operation
        if ctx.read_only and not op.is_safe:
            continue
        path = op.path
        for placeholder, value in path_values.items():
            path = path.replace(placeholder, value)
        kwargs: dict[str, Any] = dict(examples.get(op.operation_id, {}))
        if op.operation_id in queries:
            kwargs["params"] = queries[op.operation_id]
        yield op, path, kwargs


def _documented_example(spec: Spec, name: str) -> Any:
    return spec.raw["components"]["examples"][name]["value"]


@behaviour_check(
    rule=("Every operation of both APIs refuses a request without an API key, or with an "
          "unknown one, with 401."),
    cites=(f"{ACTIVITIES} > Authentication (\"An Api Key is required for all api calls\")",
           f"{TRACKING} > Photos and Thumbnails > Upload a photo (x-api-key header)",
           "openapi.yaml > components.securitySchemes.ApiKey"),
    operations=(),
    writes=False, needs_token=False,
)
def api_key_is_required_everywhere(ctx: CheckContext) -> None:
    checked = 0
    for op, path, kwargs in _probe_requests(ctx):
        if op.needs_token and not ctx.target.has_user("main"):
            continue  # without a token its 401 would say nothing about the key
        for key, label in ((None, "without an API key"),
                           ("contracts-unknown-api-key", "with an unknown API key")):
            headers = {"X-Api-Key": key} if key else {}
            response = ctx.call(op.method, op.api, path, api_key=False, headers=headers,
                                **kwargs)
            ctx.examples += 1
            ctx.expect(response.status_code == 401, f"{op.label} {label} answered "
                       f"{response.status_code}, expected 401", response)
        checked += 1
    if not checked:
        ctx.skip("no selected operation to probe")


@behaviour_check(
    rule=("Every operation but GET /v1/events refuses a request without a bearer token, or "
          "with an invalid one, with 401; GET /v1/events needs no token."),
    cites=(f"{ACTIVITIES} > Authentication (\"Only GET /v1/events is available without JWT "
           "token\")", "openapi.yaml > components.securitySchemes.BearerAuth"),
    operations=(),
    writes=False,
)
def token_is_required_everywhere_but_public_list(ctx: CheckContext) -> None:
    checked = 0
    for op, path, kwargs in _probe_requests(ctx):
        if not op.needs_token:
            response = ctx.call(op.method, op.api, path, user=None, **kwargs)
            ctx.examples += 1
            ctx.expect(response.status_code == 200, f"{op.label} without a token answered "
                       f"{response.status_code}, expected 200 (it is public)", response)
            checked += 1
            continue
        for token, label in ((None, "without a bearer token"),
                             ("contracts.invalid.token", "with an invalid bearer token")):
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            response = ctx.call(op.method, op.api, path, user=None, headers=headers, **kwargs)
            ctx.examples += 1
            ctx.expect(response.status_code == 401, f"{op.label} {label} answered "
                       f"{response.status_code}, expected 401", response)
        checked += 1
    if not checked:
        ctx.skip("no selected operation to probe")


# =============================================================================================
# Tracking: uploads
# =============================================================================================

def _upload(ctx: CheckContext, name: str, data: bytes, content_type: str, *,
            expect: int | tuple[int, ...]) -> requests.Response:
    return ctx.call("POST", "tracking", "/v2/upload", files={"file": (name, data, content_type)},
                    expect=expect, what=f"uploading {name} ({len(data)} bytes)")


@behaviour_check(
    rule=("An uploaded file is served back byte for byte at the URL the upload answered, and "
          "the URL's last segment is the SHA-1 of the bytes."),
    cites=(f"{TRACKING} > Photos and Thumbnails > Upload a photo (\"we provide an API to store "
           "pictures online\")", "openapi.yaml > uploadFile (content-addressed URL)"),
    operations=("uploadFile",),
    api="tracking",
)
def uploaded_file_comes_back_byte_for_byte(ctx: CheckContext) -> None:
    def prop(value: tuple[str, bytes, str]) -> None:
        name, data, content_type = value
        response = _upload(ctx, name, data, content_type, expect=200)
        url = (ctx.json(response) or {}).get("url")
        if not isinstance(url, str) or not url:
            ctx.fail("the upload answer has no `url`", response)
        digest = hashlib.sha1(data).hexdigest()
        ctx.expect(urlsplit(url).path.rstrip("/").endswith(digest),
                   f"the URL {url!r} does not end with the SHA-1 of the bytes ({digest})",
                   response)
        served = ctx.get_url(ctx.target.resolve("tracking", url))
        ctx.expect(served.status_code == 200, f"GET {url} answered {served.status_code}", served)
        ctx.expect(served.content == data, f"GET {url} served {len(served.content)} bytes that "
                   f"differ from the {len(data)} uploaded", served)

    ctx.run_property(upload_files(), prop)


@behaviour_check(
    rule=("A photo must be under 3 MB: an upload of 3 MiB (3,145,728 bytes) is accepted and "
          "one byte more is refused with 413."),
    cites=(f"{TRACKING} > Photos and Thumbnails (\"Photo | Mandatory | less than 3Mo\")",
           "openapi.yaml > uploadFile (413)", "DECISIONS.md > Tracking (3 MiB inclusive)"),
    operations=("uploadFile",),
    api="tracking",
)
def upload_over_3mb_is_refused(ctx: CheckContext) -> None:
    salt = str(ctx.seed).encode()
    _upload(ctx, "at-limit.jpg", jpeg_bytes(salt, size=MAX_UPLOAD_BYTES), "image/jpeg",
            expect=200)
    ctx.examples += 1
    _upload(ctx, "over-limit.jpg", jpeg_bytes(salt, size=MAX_UPLOAD_BYTES + 1), "image/jpeg",
            expect=413)
    ctx.examples += 1
    response = _upload(ctx, "far-over-limit.jpg",
                       jpeg_bytes(salt, size=MAX_UPLOAD_BYTES + 512 * 1024), "image/jpeg",
                       expect=(413,))
    del response
    ctx.examples += 1


#: Fields of a tracking activity that a PUT of images or thumbnail leaves alone.
_ACTIVITY_KEPT = ("id", "name", "user", "sport", "startdate", "duration", "latitude",
                  "longitude", "manual", "comment")


@behaviour_check(
    rule=("PUT /v2/activities/{token} with `images` replaces the list and with `thumbnail` "
          "replaces the thumbnail: the answer and a later GET show exactly the URLs sent, and "
          "the activity's other fields keep their value."),
    cites=(f"{TRACKING} > Photos and Thumbnails > Add photo to an activity",
           f"{TRACKING} > Photos and Thumbnails > Change the thumbnail",
           "openapi.yaml > updateActivity (images replaces the whole list)"),
    operations=("listActivities", "getActivity", "updateActivity", "uploadFile"),
    api="tracking",
)
def activity_photos_and_thumbnail_are_replaced_as_sent(ctx: CheckContext) -> None:
    listed = ctx.json(ctx.call("GET", "tracking", "/v2/activities", expect=200,
                               what="listing one's activities"))
    if not isinstance(listed, list) or not listed:
        ctx.skip("the user has no activity to put photos on")
    token = listed[0]["id"]
    path = f"/v2/activities/{token}"
    original = ctx.json(ctx.call("GET", "tracking", path, expect=200))

    def upload(data: bytes) -> str:
        response = _upload(ctx, "photo.jpg", jpeg_bytes(data), "image/jpeg", expect=200)
        return str(ctx.json(response)["url"])

    def prop(value: tuple[list[bytes], bool]) -> None:
        photos, with_thumbnail = value
        before = ctx.json(ctx.call("GET", "tracking", path, expect=200))
        body: dict[str, Any] = {"images": [upload(photo) for photo in photos]}
        if with_thumbnail:
            body["thumbnail"] = upload(b"thumbnail" + bytes(len(photos)))
        response = ctx.call("PUT", "tracking", path, json=body, expect=200,
                            what=f"PUT {path} with {sorted(body)}")
        answered = ctx.json(response)
        expected = dict(before, **body)
        problems = _differences(expected, answered, ("images", "thumbnail", *_ACTIVITY_KEPT))
        ctx.expect(not problems, "the PUT answer is not the activity with what was sent:\n"
                   + "\n".join(problems), response)
        read = ctx.json(ctx.call("GET", "tracking", path, expect=200))
        problems = _differences(answered, read, ("images", "thumbnail", *_ACTIVITY_KEPT))
        ctx.expect(not problems, "GET after PUT differs from the PUT answer:\n"
                   + "\n".join(problems))

    try:
        ctx.run_property(st.tuples(st.lists(st.binary(max_size=64), max_size=3), st.booleans()),
                         prop, max_examples=min(ctx.max_examples, 5))
    finally:
        restore: dict[str, Any] = {"images": original.get("images") or []}
        if original.get("thumbnail"):
            restore["thumbnail"] = original["thumbnail"]
        ctx.target.request("PUT", "tracking", path, json=restore)


# The state machines register themselves on import (kept last: they use the helpers above).
from . import stateful as _stateful  # noqa: E402,F401
