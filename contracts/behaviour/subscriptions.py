"""Behaviour checks of subscriptions that need no model of state (see `stateful.py`).

A full event refuses more, a subscriber belongs to their own event, and what a
subscription and its changes send is what reads back.
"""

from __future__ import annotations

from typing import Any

import requests
from hypothesis import strategies as st

from ..strategies import KNOWN_PLACES, event_bodies, texts
from ..target import User
from .compare import differences
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



@behaviour_check(
    rule=("A subscriber belongs to the event they subscribed to: under another event they are "
          "not listed, and reading, changing or removing them there answers 404, leaving "
          "their subscription to their own event as it was."),
    cites=(f"{ACTIVITIES} > Subscribers (/v1/events/{{id}}/subscribers/{{user}})",
           "openapi.yaml > updateSubscriber, removeSubscriber, getMySubscription (404 when "
           "the user is not subscribed)"),
    operations=("createEvent", "addSubscriber", "listSubscribers", "getMySubscription",
                "updateSubscriber", "removeSubscriber", "getEvent", "getAuthenticatedUser",
                "cancelEvent"),
    read_only_ok=True, read_only_operations=("listMyEvents", "listEvents", "listSubscribers",
                                             "getMySubscription", "getAuthenticatedUser"),
)
def subscribers_belong_to_their_event(ctx: CheckContext) -> None:
    me = ctx.me()

    def elsewhere(joined: int, other: int, *, writes: bool) -> None:
        """`me` subscribed to `joined`, not to `other`: `other` must not know them."""
        base = f"/v1/events/{other}/subscribers"
        listed = {item.get("id") for item in ctx.pages(base)}
        ctx.expect(me["id"] not in listed, f"the subscriber {me['id']} of event {joined} is "
                   f"listed under event {other}")
        ctx.call("GET", "activities", f"{base}/me", expect=404,
                 what=f"reading one's subscription under event {other} (subscribed to {joined})")
        if writes:
            ctx.call("PATCH", "activities", f"{base}/{me['id']}", json={"children": []},
                     expect=404, what=f"changing a subscriber of event {joined} under "
                                      f"event {other}")
            ctx.call("DELETE", "activities", f"{base}/{me['id']}", expect=404,
                     what=f"removing a subscriber of event {joined} under event {other}")
        ctx.examples += 1

    if ctx.read_only:
        subscribed = {e["id"] for e in ctx.pages("/v1/events/mine", {"type": "subscribed"},
                                                 max_pages=1)}
        if not subscribed:
            ctx.skip("the user subscribed to no event, so there is no subscriber to look for")
        lat, lon = KNOWN_PLACES[0]
        strangers = [e["id"] for e in ctx.pages("/v1/events", {"latitude": lat,
                                                               "longitude": lon}, user=None,
                                                max_pages=1) if e["id"] not in subscribed]
        if not strangers:
            ctx.skip("every listed event has the user among its subscribers")
        elsewhere(min(subscribed), strangers[0], writes=False)
        return

    def prop(value: tuple[dict[str, Any], dict[str, Any], int]) -> None:
        first, second, additional = value
        joined, other = ctx.create_event(first), ctx.create_event(second)
        ctx.call("POST", "activities", f"/v1/events/{joined['id']}/subscribers",
                 json={"user": me["id"], "additional_subscribers": additional}, expect=201,
                 what=f"subscribing to event {joined['id']}")
        before = ctx.get_event(joined["id"])
        elsewhere(joined["id"], other["id"], writes=True)
        after = ctx.get_event(joined["id"])
        ctx.expect(after.get("slots") == before.get("slots"), f"requests under event "
                   f"{other['id']} changed the free places of event {joined['id']} from "
                   f"{before.get('slots')} to {after.get('slots')}")
        response = ctx.call("GET", "activities", f"/v1/events/{joined['id']}/subscribers/me",
                            expect=200, what=f"reading one's subscription to {joined['id']}")
        kept = ctx.json(response).get("additional_subscribers")
        ctx.expect(kept == additional, f"the subscription to event {joined['id']} now has "
                   f"additional_subscribers {kept}, subscribed with {additional}", response)

    point = ctx.isolated_point()
    bodies = event_bodies(near=point, spread_km=2, min_slots=6, max_slots=20,
                          subscription_disabled=False)
    ctx.run_property(st.tuples(bodies, bodies, st.integers(0, 4)), prop,
                     max_examples=min(ctx.max_examples, 3))


@behaviour_check(
    rule=("Changes to a subscription are kept: what a subscription and each later PATCH sent "
          "(`children`, `additional_subscribers`, and `has_attended` set by the owner) reads "
          "back from `subscribers/me` and the subscriber list, and after a removal the user "
          "is gone and the places are free again."),
    cites=(f"{ACTIVITIES} > Subscribers > Add a new subscriber to an event",
           f"{ACTIVITIES} > Subscribers > Update a subscriber",
           f"{ACTIVITIES} > Subscribers > Remove a subscriber from an event",
           "DECISIONS.md > Subscribers (has_attended by the owner)"),
    operations=("createEvent", "addSubscriber", "updateSubscriber", "removeSubscriber",
                "getMySubscription", "listSubscribers", "getEvent", "getAuthenticatedUser",
                "cancelEvent"),
)
def subscription_changes_are_kept(ctx: CheckContext) -> None:
    me = ctx.me()

    def read(event_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
        mine = ctx.json(ctx.call("GET", "activities", f"/v1/events/{event_id}/subscribers/me",
                                 expect=200, what="reading one's subscription"))
        listed = [item for item in ctx.pages(f"/v1/events/{event_id}/subscribers")
                  if item.get("id") == me["id"]]
        ctx.expect(len(listed) == 1, f"the subscriber list of event {event_id} holds the "
                   f"subscriber {len(listed)} times, expected once")
        return mine, listed[0]

    def agree(event_id: int, expected: dict[str, Any], after: str) -> None:
        for where, seen in zip(("subscribers/me", "the subscriber list"), read(event_id),
                               strict=True):
            problems = differences(expected, seen)
            ctx.expect(not problems, f"after {after}, {where} of event {event_id} shows:\n"
                       + "\n".join(problems))

    def prop(value: tuple[dict[str, Any], list[dict[str, str]], list[dict[str, str]], int]) -> None:
        body, children, new_children, additional = value
        event = ctx.create_event(body)
        base = f"/v1/events/{event['id']}/subscribers"
        ctx.call("POST", "activities", base, json={"user": me["id"], "children": children},
                 expect=201, what="subscribing with children")
        expected = {"children": children, "additional_subscribers": 0, "has_attended": False}
        agree(event["id"], expected, "subscribing")
        for patch in ({"children": new_children}, {"additional_subscribers": additional},
                      {"has_attended": True}):
            ctx.call("PATCH", "activities", f"{base}/{me['id']}", json=patch, expect=200,
                     what=f"the owner patching their subscription with {sorted(patch)}")
            expected.update(patch)
            agree(event["id"], expected, f"a PATCH of {sorted(patch)}")
        ctx.call("DELETE", "activities", f"{base}/{me['id']}", expect=200,
                 what="unsubscribing")
        ctx.call("GET", "activities", f"{base}/me", expect=404,
                 what="reading one's subscription after unsubscribing")
        free = ctx.get_event(event["id"]).get("slots")
        ctx.expect(free == event.get("slots_limit"), f"after unsubscribing, {free} of the "
                   f"{event.get('slots_limit')} places of event {event['id']} are free")

    children = st.lists(st.fixed_dictionaries({"name": texts(max_size=20)}), max_size=2)
    bodies = event_bodies(near=ctx.isolated_point(), spread_km=2, min_slots=10, max_slots=30,
                          subscription_disabled=False)
    ctx.run_property(st.tuples(bodies, children, children, st.integers(0, 4)), prop,
                     max_examples=min(ctx.max_examples, 3))
