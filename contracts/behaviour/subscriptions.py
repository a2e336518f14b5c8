"""Behaviour checks of subscriptions that need no model of state (see `stateful.py`)."""

from __future__ import annotations

from typing import Any

import requests
from hypothesis import strategies as st

from ..strategies import event_bodies
from ..target import User
from .context import CheckContext
from .registry import ACTIVITIES, behaviour_check


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

