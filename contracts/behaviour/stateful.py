"""Hypothesis state machines of the documented lifecycles, over HTTP.

A machine keeps a model of what the server should hold (who took how many places of an
event) and, after every step, compares the model with what the API shows. Hypothesis picks
the sequence of steps (subscribe, change what one brings along, unsubscribe, as one user or
another), which finds orderings a hand-written scenario would not think of.
"""

from __future__ import annotations

from typing import Any, ClassVar

import hypothesis
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from ..strategies import event_bodies, texts
from ..target import User
from .context import CheckContext
from .registry import ACTIVITIES, Violation, behaviour_check

__all__ = ["SubscriptionLifecycle", "run_machine"]


class ContractMachine(RuleBasedStateMachine):
    """Base of the kit's machines: bound to one check context, stops at the first violation.

    A live server cannot be rewound, so hypothesis must not replay a failing sequence (it
    would call the failure flaky); the first violation is kept and later steps do nothing.
    """

    ctx: ClassVar[CheckContext]
    found: ClassVar[list[Violation]]

    def active(self) -> bool:
        return not self.found and not self.ctx.expired()

    def guarded(self, step: Any, *args: Any) -> None:
        if not self.active():
            return
        try:
            step(*args)
        except Violation as violation:
            self.found.append(violation)


def run_machine(machine: type[ContractMachine], ctx: CheckContext, *, max_examples: int,
                steps: int = 8) -> None:
    """Run `machine` bound to `ctx`; raise the first violation it found."""
    found: list[Violation] = []
    bound = type(machine.__name__, (machine,), {"ctx": ctx, "found": found})
    hypothesis.seed(ctx.seed)(bound)
    settings = hypothesis.settings(ctx.settings(max_examples), stateful_step_count=steps)
    run_state_machine_as_test(bound, settings=settings)
    ctx.examples += max_examples
    if found:
        raise found[0]


_children = st.lists(st.fixed_dictionaries({"name": texts(max_size=20)}), max_size=2)


class SubscriptionLifecycle(ContractMachine):
    """One event; users subscribe, change what they bring, and leave.

    Model: places taken per user, `1 + additional_subscribers + len(children)` each
    (DECISIONS.md, Subscribers). Invariant: the event's free `slots` is its `slots_limit`
    minus the places taken, and the subscriber list holds exactly the subscribed users.
    """

    def __init__(self) -> None:
        super().__init__()
        self.event_id: int | None = None
        self.limit = 0
        self.taken: dict[User, int] = {}
        self.users: list[User] = ["main", "other"] if self.ctx.target.has_user("other") \
            else ["main"]

    @property
    def free(self) -> int:
        return self.limit - sum(self.taken.values())

    def _user_id(self, user: User) -> str:
        return str(self.ctx.me(user)["id"])

    @initialize(body=event_bodies(min_slots=1, max_slots=10, subscription_disabled=False))
    def create_event(self, body: dict[str, Any]) -> None:
        def step() -> None:
            event = self.ctx.create_event(body)
            self.event_id = event["id"]
            self.limit = body["slots"]

        self.guarded(step)

    @precondition(lambda self: self.event_id is not None)
    @rule(who=st.sampled_from(("main", "other")), additional=st.integers(0, 4),
          children=_children)
    def subscribe(self, who: User, additional: int, children: list[dict[str, str]]) -> None:
        def step() -> None:
            user = who if who in self.users else "main"
            places = 1 + additional + len(children)
            already = user in self.taken
            fits = places <= self.free
            expected = 201 if fits and not already else 422
            reason = ("a second subscription of the same user" if already
                      else f"{places} places when {self.free} are free")
            self.ctx.call("POST", "activities", f"/v1/events/{self.event_id}/subscribers",
                          user=user, json={"user": self._user_id(user),
                                           "additional_subscribers": additional,
                                           "children": children},
                          expect=expected, what=f"subscribing ({reason})")
            if expected == 201:
                self.taken[user] = places

        self.guarded(step)

    @precondition(lambda self: self.event_id is not None)
    @rule(who=st.sampled_from(("main", "other")), additional=st.integers(0, 4))
    def change_places(self, who: User, additional: int) -> None:
        def step() -> None:
            user = who if who in self.users else "main"
            path = f"/v1/events/{self.event_id}/subscribers/{self._user_id(user)}"
            if user not in self.taken:
                self.ctx.call("PATCH", "activities", path, user=user,
                              json={"additional_subscribers": additional}, expect=404,
                              what="changing the places of a user who is not subscribed")
                return
            # Children are kept by a PATCH that does not mention them.
            response = self.ctx.call("GET", "activities",
                                     f"/v1/events/{self.event_id}/subscribers/me", user=user,
                                     expect=200, what="reading one's own subscription")
            children = len(self.ctx.json(response).get("children") or [])
            wanted = 1 + additional + children
            fits = wanted - self.taken[user] <= self.free
            self.ctx.call("PATCH", "activities", path, user=user,
                          json={"additional_subscribers": additional},
                          expect=200 if fits else 422,
                          what=f"changing one's places to {wanted} ({self.free} free besides "
                               f"one's {self.taken[user]})")
            if fits:
                self.taken[user] = wanted

        self.guarded(step)

    @precondition(lambda self: self.event_id is not None)
    @rule(who=st.sampled_from(("main", "other")))
    def unsubscribe(self, who: User) -> None:
        def step() -> None:
            user = who if who in self.users else "main"
            subscribed = user in self.taken
            self.ctx.call("DELETE", "activities",
                          f"/v1/events/{self.event_id}/subscribers/{self._user_id(user)}",
                          user=user, expect=200 if subscribed else 404,
                          what="unsubscribing" + ("" if subscribed else " a user not subscribed"))
            self.taken.pop(user, None)

        self.guarded(step)

    @invariant()
    def places_agree(self) -> None:
        event_id = self.event_id
        if event_id is None:
            return

        def step() -> None:
            event = self.ctx.get_event(event_id)
            self.ctx.expect(event.get("slots_limit") == self.limit,
                            f"slots_limit is {event.get('slots_limit')}, the event was created "
                            f"with {self.limit} places")
            self.ctx.expect(event.get("slots") == self.free,
                            f"{event.get('slots')} places are shown free; {self.limit} minus "
                            f"the {sum(self.taken.values())} taken ({self.taken}) leaves "
                            f"{self.free}")
            response = self.ctx.call("GET", "activities",
                                     f"/v1/events/{self.event_id}/subscribers",
                                     headers={"X-Desired-Limit": "100"}, expect=200)
            listed = {item.get("id") for item in self.ctx.json(response).get("data") or []}
            expected = {self._user_id(user) for user in self.taken}
            self.ctx.expect(listed == expected, f"the subscriber list holds {sorted(listed)}, "
                            f"expected {sorted(expected)}", response)

        self.guarded(step)


@behaviour_check(
    rule=("A subscription takes 1 + additional_subscribers + len(children) places and an "
          "unsubscription gives them back: after any sequence of subscriptions, changes and "
          "removals, the free `slots` is `slots_limit` minus the places taken and the "
          "subscriber list holds exactly the subscribed users."),
    cites=(f"{ACTIVITIES} > Subscribers > Add a new subscriber to an event",
           f"{ACTIVITIES} > Subscribers > Update a subscriber",
           f"{ACTIVITIES} > Subscribers > Remove a subscriber from an event",
           "DECISIONS.md > Subscribers", "openapi.yaml > addSubscriber, removeSubscriber"),
    operations=("createEvent", "addSubscriber", "updateSubscriber", "removeSubscriber",
                "getMySubscription", "listSubscribers", "getEvent", "getAuthenticatedUser",
                "cancelEvent"),
)
def subscription_takes_places_and_unsubscription_gives_them_back(ctx: CheckContext) -> None:
    run_machine(SubscriptionLifecycle, ctx, max_examples=min(ctx.max_examples, 8))
