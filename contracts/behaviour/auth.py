"""Behaviour checks of authentication: the API key and the bearer token, on every operation."""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

from ..spec import Operation, Spec
from ..strategies import event_body, jpeg_bytes
from ..target import User
from .context import CheckContext
from .registry import ACTIVITIES, TRACKING, behaviour_check

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _probe_requests(ctx: CheckContext) -> Iterator[tuple[Any, str, dict[str, Any]]]:
    """One plausible request per selected operation, for the credential checks.

    The request is otherwise valid (documented example bodies), so a missing credential is
    the only thing wrong with it.
    """
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
    for op in ctx.spec.select(ctx.selection):
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


#: One probe of an operation: how the request is described, the statuses that pass, and the
#: credential arguments of `ctx.call` (`api_key=False`, `user=None`, `headers=...`).
Probe = tuple[str, tuple[int, ...], dict[str, Any]]


def _probe_all(ctx: CheckContext, probes: Callable[[Operation], list[Probe]]) -> None:
    """Send each selected operation its probes; any other answer than expected is a violation."""
    checked = 0
    for op, path, kwargs in _probe_requests(ctx):
        found = probes(op)
        for label, expected, credentials in found:
            response = ctx.call(op.method, op.api, path, **credentials, **kwargs)
            ctx.examples += 1
            wanted = " or ".join(str(code) for code in expected)
            ctx.expect(response.status_code in expected, f"{op.label} {label} answered "
                       f"{response.status_code}, expected {wanted}", response)
        checked += bool(found)
    if not checked:
        ctx.skip("no selected operation to probe")


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
    def probes(op: Operation) -> list[Probe]:
        if op.needs_token and not ctx.target.has_user("main"):
            return []  # without a token its 401 would say nothing about the key
        return [("without an API key", (401,), {"api_key": False}),
                ("with an unknown API key", (401,),
                 {"api_key": False, "headers": {"X-Api-Key": "contracts-unknown-api-key"}})]

    _probe_all(ctx, probes)


@behaviour_check(
    rule=("Every operation but GET /v1/events refuses a request without a bearer token, or "
          "with an invalid one, with 401; GET /v1/events needs no token."),
    cites=(f"{ACTIVITIES} > Authentication (\"Only GET /v1/events is available without JWT "
           "token\")", "openapi.yaml > components.securitySchemes.BearerAuth"),
    operations=(),
    writes=False,
)
def token_is_required_everywhere_but_public_list(ctx: CheckContext) -> None:
    def probes(op: Operation) -> list[Probe]:
        if not op.needs_token:
            return [("without a token (it is public)", (200,), {"user": None})]
        return [("without a bearer token", (401,), {"user": None}),
                ("with an invalid bearer token", (401,),
                 {"user": None, "headers": {"Authorization": "Bearer contracts.invalid.token"}})]

    _probe_all(ctx, probes)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _claims(token: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(header, payload) of a JWT, read without verifying it; None if it is not one."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        decoded = [json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
                   for part in parts[:2]]
    except (ValueError, binascii.Error):
        return None
    header, payload = decoded
    return (header, payload) if isinstance(header, dict) and isinstance(payload, dict) else None


def tampered_tokens(token: str, *, other_sub: str | None = None) -> list[tuple[str, str]]:
    """(what was done, token) for each forgery of a JWT a server must refuse."""
    found = _claims(token)
    if found is None:
        return []
    header, payload = found
    head, _, signature = token.split(".")
    stranger = other_sub or "00000000-0000-4000-8000-000000000000"

    def signed(claims: dict[str, Any]) -> str:
        return f"{head}.{_b64(json.dumps(claims).encode())}.{signature}"

    return [
        ("the payload changed to another user, the signature kept",
         signed({**payload, "sub": stranger})),
        ("the expiry moved a day on, the signature kept",
         signed({**payload, "exp": int(payload.get("exp") or time.time()) + 86_400})),
        ("already expired (exp in the past), the signature kept",
         signed({**payload, "exp": int(time.time()) - 3_600})),
        ('`alg: "none"` and no signature',
         f"{_b64(json.dumps({**header, 'alg': 'none'}).encode())}."
         f"{_b64(json.dumps(payload).encode())}."),
        ("the signature of another payload", f"{head}.{_b64(b'{}')}.{signature}"),
    ]


@behaviour_check(
    rule=("A forged or tampered bearer token is refused with 401 (or 498 when it reads as "
          "expired), never answered 2xx: the payload changed with the signature kept, "
          "`alg: none`, an expiry moved or already past, a signature of another payload."),
    cites=(f"{ACTIVITIES} > Authentication (Bearer FED or Decathlon Connect token)",
           "openapi.yaml > components.securitySchemes.BearerAuth (bad: 401, expired: 498)",
           "DECISIONS.md > Errors (bad or missing bearer token -> 401; expired -> 498)"),
    operations=("getAuthenticatedUser", "listMyEvents", "listActivities"),
    writes=False,
)
def tampered_tokens_are_refused(ctx: CheckContext) -> None:
    token = ctx.target.bearer("main") or ""
    other = ctx.me("other")["id"] if ctx.target.has_user("other") else None
    forgeries = tampered_tokens(token, other_sub=other)
    if not forgeries:
        ctx.skip("the main token is not a JWT, so it cannot be tampered with field by field")
    probes = [("GET", "activities", "/v1/auth/me", {}),
              ("GET", "activities", "/v1/events/mine", {"params": {"type": "created"}}),
              ("GET", "tracking", "/v2/activities", {})]
    for what, forged in forgeries:
        for method, api, path, kwargs in probes:
            response = ctx.call(method, api, path, user=None,
                                headers={"Authorization": f"Bearer {forged}"}, **kwargs)
            ctx.examples += 1
            ctx.expect(response.status_code in (401, 498), f"{method} {path} with a token "
                       f"{what} answered {response.status_code}, expected 401 or 498",
                       response)


@behaviour_check(
    rule=("Refusals say who is refused: without a token a request for another user's "
          "resource answers 401 (the same as for a resource that does not exist), and with "
          "another user's token the documented 403 (not the owner, not the subscriber), "
          "never 401, whichever operation it is."),
    cites=(f"{ACTIVITIES} > Errors (401 Unauthorized; 403 Forbidden -- You are not allowed)",
           "openapi.yaml > patchEvent, cancelEvent, duplicateEvent, updateSubscriber, "
           "removeSubscriber, getActivity, updateActivity (403 to anyone else)",
           "DECISIONS.md > Errors (bad or missing bearer token -> 401; not allowed -> 403)"),
    operations=("createEvent", "addSubscriber", "patchEvent", "cancelEvent", "duplicateEvent",
                "updateSubscriber", "removeSubscriber", "getAuthenticatedUser",
                "listActivities", "getActivity", "updateActivity"),
    read_only_ok=True, read_only_operations=("listActivities", "getActivity"),
    needs_other_user=True,
)
def missing_token_is_401_and_forbidden_is_403(ctx: CheckContext) -> None:
    probes: list[tuple[str, str, str, dict[str, Any]]] = []
    activities = ctx.json(ctx.call("GET", "tracking", "/v2/activities", expect=200,
                                   what="listing one's activities"))
    if isinstance(activities, list) and activities:
        activity = activities[0]
        path = f"/v2/activities/{activity['id']}"
        probes.append(("GET", "tracking", path, {}))
        if not ctx.read_only:
            # The images it has: even wrongly accepted, the PUT changes nothing.
            probes.append(("PUT", "tracking", path,
                              {"json": {"images": list(activity.get("images") or [])}}))
    if not ctx.read_only:
        me = ctx.me()
        event = ctx.create_event(event_body(near=ctx.isolated_point()))
        base = f"/v1/events/{event['id']}"
        ctx.call("POST", "activities", f"{base}/subscribers", json={"user": me["id"]},
                 expect=201, what="subscribing to one's own event")
        probes += [("PATCH", "activities", base, {"json": {"title": "not yours"}}),
                      ("POST", "activities", f"{base}/cancel", {}),
                      ("POST", "activities", f"{base}/duplicate", {}),
                      ("PATCH", "activities", f"{base}/subscribers/{me['id']}",
                       {"json": {"has_attended": True}}),
                      ("DELETE", "activities", f"{base}/subscribers/{me['id']}", {})]
    if not probes:
        ctx.skip("the user has no activity, and the target is read-only")
    for method, api, path, kwargs in probes:
        anonymous = ctx.call(method, api, path, user=None, **kwargs)
        ctx.expect(anonymous.status_code == 401, f"{method} {path} of another user's resource "
                   f"without a token answered {anonymous.status_code}, expected 401",
                   anonymous)
        foreign = ctx.call(method, api, path, user="other", **kwargs)
        ctx.expect(foreign.status_code == 403, f"{method} {path} with another user's token "
                   f"answered {foreign.status_code}, expected the documented 403", foreign)
        ctx.examples += 1


@behaviour_check(
    rule=("GET /v1/auth/me answers the user the token belongs to: the JWT's `sub` when the "
          "token carries one, another user for another user's token, and the same id, type "
          "and name as the `owner` of the events that token creates."),
    cites=(f"{ACTIVITIES} > Auth > Get current authenticated user information",
           f"{ACTIVITIES} > Events > Add a new sport activity (the owner is the caller)",
           "openapi.yaml > getAuthenticatedUser, createEvent (owner built from the caller)"),
    operations=("getAuthenticatedUser", "createEvent", "cancelEvent"),
    read_only_ok=True, read_only_operations=("getAuthenticatedUser", "listMyEvents"),
)
def auth_me_is_the_token_user(ctx: CheckContext) -> None:
    users: list[User] = ["main", "other"] if ctx.target.has_user("other") else ["main"]
    seen: dict[str, str] = {}
    for user in users:
        me = ctx.me(user)
        claims = _claims(ctx.target.bearer(user) or "")
        sub = claims[1].get("sub") if claims else None
        if isinstance(sub, str) and _UUID.fullmatch(sub):
            ctx.expect(me.get("id") == sub, f"GET /v1/auth/me with the {user} user's token "
                       f"answered the user {me.get('id')}, the token's sub is {sub}",
)
        seen[user] = str(me.get("id"))
        if ctx.read_only:
            owned = ctx.pages("/v1/events/mine", {"type": "created"}, user=user, max_pages=1)
            events = owned[:3]
        else:
            events = [ctx.create_event(event_body(near=ctx.isolated_point(user)), user=user)]
        for event in events:
            owner = event.get("owner") or {}
            problems = [f"{field}: auth/me says {me.get(field)!r}, the event's owner is "
                        f"{owner.get(field)!r}" for field in ("id", "type", "name")
                        if me.get(field) != owner.get(field)]
            ctx.expect(not problems, f"GET /v1/auth/me with the {user} user's token is not "
                       f"the owner of event {event.get('id')} that token made:\n"
                       + "\n".join(problems))
        ctx.examples += 1
    if len(seen) == 2:
        ctx.expect(seen["main"] != seen["other"], "GET /v1/auth/me answers the same user "
                   f"{seen['main']} for two users' tokens")
