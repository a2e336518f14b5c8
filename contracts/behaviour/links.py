"""Behaviour check of the spec's links: every one, followed once, leads somewhere real.

A link promises a client that, after its source answered, the target can be called with the
values the link names. Schemathesis' stateful phase follows links at random, so a bounded run
may miss some; this check walks every link of openapi.yaml once, on data it makes itself (an
event at a point of its own, the caller subscribed to it, the caller's first tracking
activity), so each link is exercised in every run and the coverage view can say so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests

from ..spec import Link, evaluate_link_expression
from ..strategies import event_body
from .context import CheckContext
from .registry import ACTIVITIES, TRACKING, behaviour_check

#: What a source is called with: (method, API, path, JSON body) from the walk's own data.
Source = tuple[str, str, str, dict[str, Any] | None]


def _subscribed_event(ctx: CheckContext, world: dict[str, Any]) -> int:
    """A fresh event of the caller's, the caller subscribed to it."""
    event = ctx.create_event(event_body(near=ctx.isolated_point(str(len(world))),
                                        title=ctx.marker()))
    world["n"] = world.get("n", 0) + 1
    ctx.call("POST", "activities", f"/v1/events/{event['id']}/subscribers",
             json={"user": ctx.me()["id"]}, expect=201, what="subscribing to the walk's event")
    return int(event["id"])


def _fresh_event(ctx: CheckContext, world: dict[str, Any]) -> dict[str, Any]:
    world["n"] = world.get("n", 0) + 1
    return ctx.create_event(event_body(near=ctx.isolated_point(f"link {world['n']}"),
                                       title=ctx.marker()))


def _activity(ctx: CheckContext) -> dict[str, Any]:
    listed = ctx.json(ctx.call("GET", "tracking", "/v2/activities", expect=200))
    if not isinstance(listed, list) or not listed:
        ctx.skip("the caller has no tracking activity to follow links from")
    return dict(listed[0])


def _source(ctx: CheckContext, operation_id: str, world: dict[str, Any]) -> Source:
    """A request to ``operation_id`` that answers its success, on data of the walk's own."""
    if operation_id == "createEvent":
        point = ctx.isolated_point(f"create {world.get('n', 0)}")
        world["n"] = world.get("n", 0) + 1
        return ("POST", "activities", "/v1/events", event_body(near=point, title=ctx.marker()))
    if operation_id == "listEvents":
        event = _fresh_event(ctx, world)
        return ("GET", "activities", f"/v1/events?latitude={event['latitude']}"
                f"&longitude={event['longitude']}&distance=1", None)
    if operation_id == "listMyEvents":
        event = _fresh_event(ctx, world)
        return ("GET", "activities", f"/v1/events/mine?type=created&event={event['id']}", None)
    if operation_id in ("getEvent", "patchEvent", "cancelEvent", "duplicateEvent"):
        event_id = _fresh_event(ctx, world)["id"]
        method, suffix, body = {
            "getEvent": ("GET", "", None), "patchEvent": ("PATCH", "", {"title": ctx.marker()}),
            "cancelEvent": ("POST", "/cancel", None),
            "duplicateEvent": ("POST", "/duplicate", None)}[operation_id]
        return (method, "activities", f"/v1/events/{event_id}{suffix}", body)
    if operation_id == "addSubscriber":
        event_id = _fresh_event(ctx, world)["id"]
        return ("POST", "activities", f"/v1/events/{event_id}/subscribers",
                {"user": ctx.me()["id"]})
    if operation_id == "listSubscribers":
        return ("GET", "activities", f"/v1/events/{_subscribed_event(ctx, world)}/subscribers",
                None)
    if operation_id == "updateSubscriber":
        event_id = _subscribed_event(ctx, world)
        return ("PATCH", "activities", f"/v1/events/{event_id}/subscribers/{ctx.me()['id']}",
                {"additional_subscribers": 0})
    if operation_id == "listActivities":
        return ("GET", "tracking", "/v2/activities", None)
    if operation_id in ("getActivity", "updateActivity"):
        activity = _activity(ctx)
        body = {"images": list(activity.get("images") or [])}  # as it is: nothing changes
        return ("GET" if operation_id == "getActivity" else "PUT", "tracking",
                f"/v2/activities/{activity['id']}", None if operation_id == "getActivity"
                else body)
    ctx.skip(f"the walk knows no way to call {operation_id}")


#: The body a target is called with (the rest of what the link does not give).
TARGET_BODIES: dict[str, Callable[[CheckContext, str], dict[str, Any]]] = {
    "patchEvent": lambda ctx, path: {"title": ctx.marker()},
    "addSubscriber": lambda ctx, path: {"user": ctx.me()["id"]},
    "updateSubscriber": lambda ctx, path: {"additional_subscribers": 0},
    # the activity's own photos again: the walk changes nothing of a real user's activity
    "updateActivity": lambda ctx, path: {"images": list(ctx.json(ctx.call(
        "GET", "tracking", path, expect=200)).get("images") or [])},
}


def _follow(ctx: CheckContext, link: Link, sent: Source, answer: requests.Response) -> None:
    _, _, path, body = sent
    source = ctx.spec.operation(link.source)
    path_values = source.path_values(path.split("?", 1)[0])
    response_body = ctx.json(answer)
    values: dict[str, str] = {}
    for parameter, expression in link.parameters:
        value = evaluate_link_expression(expression, path_values, body, response_body)
        ctx.expect(value is not None, f"{link.source} answered {answer.status_code} without "
                   f"what link {link.name} needs ({expression})", answer)
        values[parameter] = str(value)
    target = ctx.spec.operation(link.target)
    target_path = target.path
    for name, value in values.items():
        target_path = target_path.replace(f"{{{name}}}", value)
    make_body = TARGET_BODIES.get(link.target)
    kwargs = {"json": make_body(ctx, target_path)} if make_body else {}
    ctx.examples += 1
    followed = ctx.call(target.method, target.api, target_path, **kwargs)
    ctx.expect(200 <= followed.status_code < 300,
               f"link {link.source} -[{link.status} {link.name}]-> {link.target}: "
               f"{target.method} {target_path} answered {followed.status_code}", followed)
    if link.target == "duplicateEvent":  # the copy is cancelled with the walk's events
        ctx.created("main", int(ctx.json(followed)["data"]["id"]))


@behaviour_check(
    rule=("Every link of openapi.yaml, followed once with the values its source answered, "
          "leads to an operation that answers success: a link never names something the "
          "client cannot use."),
    cites=("openapi.yaml > components/links (each response's links: what a client can call "
           "next with its values)", f"{ACTIVITIES} > Events, Subscribers",
           f"{TRACKING} > Photos and Thumbnails"),
    operations=("createEvent", "listEvents", "listMyEvents", "getEvent", "patchEvent",
                "cancelEvent", "duplicateEvent", "listSubscribers", "addSubscriber",
                "updateSubscriber", "removeSubscriber", "listActivities", "getActivity",
                "updateActivity", "getAuthenticatedUser"),
)
def every_link_leads_to_a_resource(ctx: CheckContext) -> None:
    world: dict[str, Any] = {}
    for link in ctx.spec.links:
        if ctx.expired():
            return
        if not ctx.can(link.source, link.target):
            continue
        sent = _source(ctx, link.source, world)
        method, api, path, body = sent
        answer = ctx.call(method, api, path, json=body) if body is not None else ctx.call(
            method, api, path)
        ctx.expect(str(answer.status_code) == link.status,
                   f"{method} {path} answered {answer.status_code}; link {link.name} starts "
                   f"from its {link.status}", answer)
        if link.source in ("createEvent", "duplicateEvent"):
            ctx.created("main", int(ctx.json(answer)["data"]["id"]))
        _follow(ctx, link, sent, answer)
