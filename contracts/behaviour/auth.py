"""Behaviour checks of authentication: the API key and the bearer token, on every operation."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ..spec import Operation, Spec
from ..strategies import jpeg_bytes
from .context import CheckContext
from .registry import ACTIVITIES, TRACKING, behaviour_check


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
