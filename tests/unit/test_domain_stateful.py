"""Lifecycle state machine: whatever clients do, places never go negative or over capacity.

Hypothesis drives create/patch/cancel/duplicate/subscribe/update/unsubscribe calls by random
users (owners, subscribers, strangers) and checks after every step that the store's places
equal the subscriptions' places within capacity, and that the public list never shows a
canceled or pending event. Domain errors are expected answers; anything else fails the test.
"""

from __future__ import annotations

from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
)

from mock_server.domain.activities.events import (
    EventQuery,
    cancel_event,
    create_event,
    duplicate_event,
    list_public_events,
    patch_event,
)
from mock_server.domain.activities.models import PUBLISHED
from mock_server.domain.activities.subscriptions import subscribe, unsubscribe, update_subscription
from mock_server.domain.errors import DomainError
from mock_server.domain.geo import HALF_CIRCUMFERENCE_KM
from mock_server.seed import FIXTURE_BASE_DATE, LILLE, build_fixtures
from mock_server.state.memory import InMemoryStore

FIXTURES = build_fixtures(seed=11, events=12)
NOW = FIXTURE_BASE_DATE
# Few users, so the same people meet on the same events often.
USER_IDS = [user.id for user in FIXTURES.users[:6]]

users = st.sampled_from(USER_IDS)
event_ids = st.integers(1, 14)  # the fixture events and two unknown ids
party = st.fixed_dictionaries(
    {},
    optional={
        "additional_subscribers": st.integers(0, 3),
        "children": st.lists(st.fixed_dictionaries({"name": st.sampled_from(["Suzie", "Léo"])}),
                             max_size=2),
    },
)  # fmt: skip
roles = st.sampled_from(["owner", "member", "member", "stranger"])  # strangers are mostly refused
patches = st.fixed_dictionaries(
    {},
    optional={
        "slots": st.integers(1, 8),
        "status": st.sampled_from(["PUBLISHED", "PENDING", "CANCELED"]),
        "title": st.sampled_from(["Sortie running", "Randonnée"]),
        "latitude": st.floats(50.0, 51.0),
        "subscription_disabled": st.booleans(),
    },
)


created = Bundle("created")  # ids of events made during the run
subscribed = Bundle("subscribed")  # (event id, user id) of successful subscriptions
some_event = st.one_of(created, created, event_ids)  # mostly the run's own, small events


class EventLifecycle(RuleBasedStateMachine):
    created = created
    subscribed = subscribed

    def __init__(self) -> None:
        super().__init__()
        self.store = InMemoryStore(FIXTURES)

    def user(self, user_id: str) -> Any:
        return self.store.get_user(user_id)

    def acting(self, role: str, event_id: int, member: str, stranger: str) -> Any:
        """The caller playing ``role`` for this event: its owner, the member, or anyone."""
        event = self.store.get_event(event_id)
        if role == "owner" and event is not None:
            return event.owner
        return self.user(member if role == "member" else stranger)

    def attempt(self, action: Any, *args: Any) -> Any:
        try:
            return action(self.store, *args)
        except DomainError:
            return None  # a refusal is a valid answer; only the invariants matter

    @initialize(target=created, owner=users, slots=st.integers(1, 4))
    def first_event(self, owner: str, slots: int) -> Any:
        """Start with one small event so the rules below have something to fill from step one."""
        return self.create(owner, slots, pending=False)

    @rule(target=created, owner=users, slots=st.integers(1, 6), pending=st.booleans())
    def create(self, owner: str, slots: int, pending: bool) -> int:
        body = {
            "title": "Sortie vélo",
            "description": "Balade",
            "sport_id": 381,
            "start_date": "2026-12-20T09:00:00Z",
            "end_date": "2026-12-20T12:00:00Z",
            "latitude": LILLE[0],
            "longitude": LILLE[1],
            "level": [5],
            "age_min": 8,
            "age_max": 99,
            "slots": slots,
            "status": "PENDING" if pending else "PUBLISHED",
        }
        return create_event(self.store, self.user(owner), body, NOW).id

    @rule(event_id=some_event, role=roles, stranger=users, body=patches)
    def patch(self, event_id: int, role: str, stranger: str, body: dict[str, Any]) -> None:
        caller = self.acting(role, event_id, stranger, stranger)
        self.attempt(patch_event, caller, event_id, body, NOW)

    @rule(event_id=some_event, role=roles, stranger=users)
    def cancel(self, event_id: int, role: str, stranger: str) -> None:
        self.attempt(cancel_event, self.acting(role, event_id, stranger, stranger), event_id, NOW)

    @rule(target=created, event_id=some_event, role=roles, stranger=users)
    def duplicate(self, event_id: int, role: str, stranger: str) -> Any:
        caller = self.acting(role, event_id, stranger, stranger)
        copy = self.attempt(duplicate_event, caller, event_id, NOW)
        return multiple() if copy is None else copy.id

    @rule(
        target=subscribed,
        event_id=some_event,
        member=users,
        role=roles,
        stranger=users,
        body=party,
    )
    def subscribe(
        self, event_id: int, member: str, role: str, stranger: str, body: dict[str, Any]
    ) -> Any:
        caller = self.acting(role, event_id, member, stranger)
        done = self.attempt(subscribe, caller, event_id, {"user": member, **body}, NOW)
        return multiple() if done is None else (event_id, member)

    @rule(pair=subscribed, role=roles, stranger=users, body=party, attended=st.booleans())
    def update(
        self,
        pair: tuple[int, str],
        role: str,
        stranger: str,
        body: dict[str, Any],
        attended: bool,
    ) -> None:
        event_id, member = pair
        caller = self.acting(role, event_id, member, stranger)
        changes = {**body, "has_attended": attended} if attended else body
        self.attempt(update_subscription, caller, event_id, member, changes)

    @rule(pair=subscribed, extra=st.integers(1, 4), with_child=st.booleans())
    def grow_party(self, pair: tuple[int, str], extra: int, with_child: bool) -> None:
        """The subscriber asks for more places: the capacity must be checked again."""
        event_id, member = pair
        current = self.store.get_subscription(event_id, member)
        if current is None:
            return
        body: dict[str, Any] = {"additional_subscribers": current.additional_subscribers + extra}
        if with_child:
            body["children"] = [{"name": "Suzie"}]
        self.attempt(update_subscription, self.user(member), event_id, member, body)

    @rule(pair=subscribed, role=roles, stranger=users)
    def unsubscribe(self, pair: tuple[int, str], role: str, stranger: str) -> None:
        event_id, member = pair
        caller = self.acting(role, event_id, member, stranger)
        self.attempt(unsubscribe, caller, event_id, member)

    @invariant()
    def places_stay_within_capacity(self) -> None:
        for event in self.store.events():
            subs = self.store.subscriptions_of(event.id)
            assert event.places_taken == sum(sub.places for sub in subs)
            assert 0 <= event.slots <= event.slots_limit
            assert len({sub.user_id for sub in subs}) == len(subs)

    @invariant()
    def public_list_shows_only_public_events(self) -> None:
        everywhere = EventQuery(*LILLE, distance=min(20_000, HALF_CIRCUMFERENCE_KM))
        for event in list_public_events(self.store, everywhere, NOW):
            assert event.status == PUBLISHED
            assert event.publish_date is None or event.publish_date <= NOW


EventLifecycle.TestCase.settings = settings(stateful_step_count=40)
TestEventLifecycle = EventLifecycle.TestCase
