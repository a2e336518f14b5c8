"""Hypothesis state machines of the documented lifecycles, over HTTP.

A machine keeps a model of what the server should hold (who took how many places of an
event) and, after every step, compares the model with what the API shows. Hypothesis picks
the sequence of steps (subscribe, change what one brings along, unsubscribe, as one user or
another), which finds orderings a hand-written scenario would not think of.
"""

from __future__ import annotations

from collections.abc import Callable
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
    would call the failure flaky); the first violation is kept, with the sequence of steps
    that led to it, and later steps do nothing. An answer the model did not expect never
    crashes the machine: a step that trips over it (a missing field, a body that is not what
    the spec says) is reported as a violation too. Rules stay enabled once the machine has
    stopped, so hypothesis always has a step to take (it refuses to run a machine whose rules
    all have a false precondition) and finishes its examples quickly.
    """

    ctx: ClassVar[CheckContext]
    found: ClassVar[list[Violation]]

    def __init__(self) -> None:
        super().__init__()
        self.steps: list[str] = []

    def active(self) -> bool:
        return not self.found and not self.ctx.expired()

    def guarded(self, description: str, step: Callable[[], None]) -> None:
        if not self.active():
            return
        self.steps.append(description)
        try:
            step()
        except Violation as violation:
            self.found.append(self._with_sequence(violation))
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            unexpected = Violation(f"an answer the documented rules do not allow stopped the "
                                   f"sequence ({type(exc).__name__}: {exc})",
                                   self.ctx.last_exchange)
            self.found.append(self._with_sequence(unexpected))

    def _with_sequence(self, violation: Violation) -> Violation:
        steps = "\n".join(f"  {number}. {step}" for number, step in enumerate(self.steps, 1))
        message = f"{violation.message}\nSequence that broke it (seed {self.ctx.seed}):\n{steps}"
        return Violation(message, violation.exchange, violation.operation)


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


def _ready(machine: SubscriptionLifecycle) -> bool:
    """A rule may run once the event exists, and always once the machine stopped."""
    return machine.event_id is not None or not machine.active()


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

    @initialize(body=event_bodies(min_slots=1, max_slots=10, subscription_disabled=False),
                first=st.sampled_from(("main", "other")), additional=st.integers(0, 3))
    def create_event(self, body: dict[str, Any], first: User, additional: int) -> None:
        """Every sequence starts with an event and a first subscription to it, so that the
        subscription rules are exercised whatever steps hypothesis picks after."""

        def step() -> None:
            event = self.ctx.create_event(body)
            self.event_id = event["id"]
            self.limit = body["slots"]

        self.guarded(f"the main user creates an event with {body['slots']} places", step)
        self._subscribe(first if first in self.users else "main", additional, [])

    def _subscribe(self, user: User, additional: int, children: list[dict[str, str]]) -> None:
        places = 1 + additional + len(children)

        def step() -> None:
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

        self.guarded(f"the {user} user subscribes with {places} place(s)", step)

    @precondition(_ready)
    @rule(who=st.sampled_from(("main", "other")), additional=st.integers(0, 4),
          children=_children)
    def subscribe(self, who: User, additional: int, children: list[dict[str, str]]) -> None:
        self._subscribe(who if who in self.users else "main", additional, children)

    @precondition(_ready)
    @rule(who=st.sampled_from(("main", "other")), additional=st.integers(0, 4))
    def change_places(self, who: User, additional: int) -> None:
        user = who if who in self.users else "main"

        def step() -> None:
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

        self.guarded(f"the {user} user changes additional_subscribers to {additional}", step)

    @precondition(_ready)
    @rule(who=st.sampled_from(("main", "other")))
    def unsubscribe(self, who: User) -> None:
        user = who if who in self.users else "main"

        def step() -> None:
            subscribed = user in self.taken
            self.ctx.call("DELETE", "activities",
                          f"/v1/events/{self.event_id}/subscribers/{self._user_id(user)}",
                          user=user, expect=200 if subscribed else 404,
                          what="unsubscribing" + ("" if subscribed else " a user not subscribed"))
            self.taken.pop(user, None)

        self.guarded(f"the {user} user unsubscribes", step)

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

        self.guarded("the event's free places and its subscriber list are read", step)


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
    long_running=True,
)
def subscription_takes_places_and_unsubscription_gives_them_back(ctx: CheckContext) -> None:
    run_machine(SubscriptionLifecycle, ctx, max_examples=min(ctx.max_examples, 8))
