"""Subscriber rules: who may add/change/remove whom, capacity, and atomicity under threads."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest

from mock_server.domain.activities.events import create_event
from mock_server.domain.activities.models import DKTCONNECT, User
from mock_server.domain.activities.subscriptions import (
    list_subscribers,
    my_subscription,
    subscribe,
    unsubscribe,
    update_subscription,
)
from mock_server.domain.errors import DomainError, Forbidden, NotFound, RuleViolation
from mock_server.seed import DEFAULT_USER_ID, FIXTURE_BASE_DATE, build_fixtures
from mock_server.state.memory import InMemoryStore

FIXTURES = build_fixtures(seed=42, events=40)
NOW = FIXTURE_BASE_DATE
JOHN2_ID = "3d416216-7a1d-11e8-adc0-fa7ae01bbebc"
JANE_ID = "4c68165b-3869-4c22-8098-a4a429c97509"
SECOND_FED_ID = "1c4884b6-c92b-4b0a-9808-373049fe6c25"


@pytest.fixture
def store(make_store) -> InMemoryStore:  # type: ignore[no-untyped-def]
    """Each test runs on every backend (tests/unit/conftest.py)."""
    store: InMemoryStore = make_store(FIXTURES)
    return store


def user(store: InMemoryStore, user_id: str) -> User:
    found = store.get_user(user_id)
    assert found is not None
    return found


@pytest.fixture
def owner(store: InMemoryStore) -> User:
    return user(store, DEFAULT_USER_ID)


@pytest.fixture
def jane(store: InMemoryStore) -> User:
    return user(store, JANE_ID)


def new_event(store: InMemoryStore, owner: User, **changes: Any) -> int:
    body = {
        "title": "Sortie running à Lille",
        "description": "Allure libre",
        "sport_id": 121,
        "start_date": "2026-12-20T09:00:00Z",
        "end_date": "2026-12-20T11:00:00Z",
        "latitude": 50.63,
        "longitude": 3.06,
        "level": [5, 10],
        "age_min": 12,
        "age_max": 99,
        "slots": 5,
        **changes,
    }
    return create_event(store, owner, body, NOW).id


def places_taken(store: InMemoryStore, event_id: int) -> int:
    event = store.get_event(event_id)
    assert event is not None
    return event.places_taken


# -- list and me -------------------------------------------------------------------------------


def test_list_subscribers_in_subscription_order_with_documented_shapes(
    store: InMemoryStore, jane: User
) -> None:
    found = [s.to_json() for s in list_subscribers(store, jane, 2, NOW)]
    assert [s["id"] for s in found] == [DEFAULT_USER_ID, JOHN2_ID]
    assert found[0]["site"] == {"id": 648, "name": "Magasin b'Twin village"}
    assert found[1] == {
        "id": JOHN2_ID,
        "type": "DKTCONNECT",
        "name": "John2 D",
        "additional_subscribers": 0,
        "has_attended": False,
        "children": [],
    }


def test_subscribers_of_a_hidden_event_are_not_found(store: InMemoryStore, jane: User) -> None:
    with pytest.raises(NotFound):
        list_subscribers(store, jane, 6, NOW)
    with pytest.raises(NotFound):
        list_subscribers(store, jane, 9999, NOW)


def test_my_subscription(store: InMemoryStore, owner: User, jane: User) -> None:
    mine = my_subscription(store, owner, 2).to_json()
    assert mine["id"] == DEFAULT_USER_ID and mine["children"] == []
    with pytest.raises(NotFound):
        my_subscription(store, jane, 2)
    with pytest.raises(NotFound):
        my_subscription(store, owner, 9999)


# -- subscribe ---------------------------------------------------------------------------------


def test_subscribe_oneself_takes_places(store: InMemoryStore, owner: User, jane: User) -> None:
    event_id = new_event(store, owner)
    body = {"user": JANE_ID, "children": [{"name": "Suzie"}], "additional_subscribers": 1}
    subscriber = subscribe(store, jane, event_id, body, NOW)
    assert subscriber.subscription.places == 3
    assert places_taken(store, event_id) == 3
    assert store.get_event(event_id).to_json()["slots"] == 2  # type: ignore[union-attr]
    assert my_subscription(store, jane, event_id).to_json()["children"] == [{"name": "Suzie"}]


def test_twice_is_refused(store: InMemoryStore, owner: User, jane: User) -> None:
    event_id = new_event(store, owner)
    subscribe(store, jane, event_id, {"user": JANE_ID}, NOW)
    with pytest.raises(RuleViolation, match="already subscribed"):
        subscribe(store, jane, event_id, {"user": JANE_ID}, NOW)
    assert places_taken(store, event_id) == 1


def test_only_the_owner_subscribes_someone_else(
    store: InMemoryStore, owner: User, jane: User
) -> None:
    event_id = new_event(store, owner)
    with pytest.raises(Forbidden):
        subscribe(store, jane, event_id, {"user": JOHN2_ID}, NOW)
    subscribe(store, owner, event_id, {"user": JOHN2_ID}, NOW)
    assert [s.user_id for s in store.subscriptions_of(event_id)] == [JOHN2_ID]


def test_unknown_user_is_a_rule_violation_on_user(store: InMemoryStore, owner: User) -> None:
    event_id = new_event(store, owner)
    with pytest.raises(RuleViolation) as caught:
        subscribe(store, owner, event_id, {"user": str(uuid.uuid4())}, NOW)
    assert set(caught.value.errors or {}) == {"user"}


@pytest.mark.parametrize(
    ("event_id", "message"),
    [(3, "full"), (7, "canceled"), (8, "disabled")],
)
def test_full_canceled_or_disabled_events_refuse(
    store: InMemoryStore, jane: User, event_id: int, message: str
) -> None:
    with pytest.raises(RuleViolation, match=message):
        subscribe(store, user(store, JOHN2_ID), event_id, {"user": JOHN2_ID}, NOW)


def test_a_party_larger_than_the_free_places_is_refused(
    store: InMemoryStore, owner: User, jane: User
) -> None:
    event_id = new_event(store, owner, slots=3)
    with pytest.raises(RuleViolation, match="full"):
        subscribe(store, jane, event_id, {"user": JANE_ID, "additional_subscribers": 3}, NOW)
    subscribe(store, jane, event_id, {"user": JANE_ID, "additional_subscribers": 2}, NOW)
    assert places_taken(store, event_id) == 3


def test_pending_event_only_reachable_by_its_owner(
    store: InMemoryStore, owner: User, jane: User
) -> None:
    with pytest.raises(NotFound):
        subscribe(store, jane, 6, {"user": JANE_ID}, NOW)
    subscribe(store, owner, 6, {"user": JANE_ID}, NOW)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "user"),
        ({"user": ""}, "user"),
        ({"user": JANE_ID, "additional_subscribers": -1}, "additional_subscribers"),
        ({"user": JANE_ID, "children": [{"age": 3}]}, "children"),
        ({"user": JANE_ID, "has_attended": True}, "has_attended"),
    ],
)
def test_invalid_subscribe_bodies(
    store: InMemoryStore, jane: User, body: dict[str, Any], field: str
) -> None:
    with pytest.raises(RuleViolation) as caught:
        subscribe(store, jane, 1, body, NOW)
    assert field in (caught.value.errors or {})


# -- update ------------------------------------------------------------------------------------


def test_owner_marks_attendance_subscriber_cannot(store: InMemoryStore, owner: User) -> None:
    john2 = user(store, JOHN2_ID)
    update_subscription(store, owner, 2, JOHN2_ID, {"has_attended": True})
    assert store.get_subscription(2, JOHN2_ID).has_attended is True  # type: ignore[union-attr]
    with pytest.raises(Forbidden):
        update_subscription(store, john2, 2, JOHN2_ID, {"has_attended": False})


def test_subscriber_and_owner_change_the_party_only_owner_marks_attendance(
    store: InMemoryStore, owner: User
) -> None:
    john2 = user(store, JOHN2_ID)
    children = [{"name": "Suzie"}, {"name": "Michael"}]
    update_subscription(store, john2, 2, JOHN2_ID, {"children": children})
    assert places_taken(store, 2) == 4
    with pytest.raises(Forbidden):
        update_subscription(store, john2, 2, JOHN2_ID, {"has_attended": True})
    # the documents' own example: the owner sends attendance and children together
    update_subscription(store, owner, 2, JOHN2_ID, {"has_attended": True, "children": children})
    update_subscription(store, owner, 2, JOHN2_ID, {"additional_subscribers": 1})
    assert places_taken(store, 2) == 5
    update_subscription(store, john2, 2, JOHN2_ID, {"children": [], "additional_subscribers": 0})
    assert places_taken(store, 2) == 2
    assert [s.user_id for s in store.subscriptions_of(2)] == [DEFAULT_USER_ID, JOHN2_ID]


def test_owner_who_subscribed_may_change_both(store: InMemoryStore, owner: User) -> None:
    body = {"has_attended": True, "additional_subscribers": 1}
    subscriber = update_subscription(store, owner, 2, DEFAULT_USER_ID, body)
    assert subscriber.subscription.has_attended and subscriber.subscription.places == 2


def test_update_rechecks_capacity(store: InMemoryStore, owner: User, jane: User) -> None:
    event_id = new_event(store, owner, slots=3)
    subscribe(store, jane, event_id, {"user": JANE_ID}, NOW)
    with pytest.raises(RuleViolation, match="full"):
        update_subscription(store, jane, event_id, JANE_ID, {"additional_subscribers": 3})
    update_subscription(store, jane, event_id, JANE_ID, {"additional_subscribers": 2})
    assert places_taken(store, event_id) == 3


def test_update_of_someone_not_subscribed(store: InMemoryStore, owner: User, jane: User) -> None:
    with pytest.raises(NotFound):
        update_subscription(store, owner, 2, JANE_ID, {"has_attended": True})
    with pytest.raises(NotFound):
        update_subscription(store, jane, 2, JANE_ID, {"children": []})
    with pytest.raises(Forbidden):
        update_subscription(store, jane, 2, JOHN2_ID, {"children": []})


def test_update_refuses_unknown_fields(store: InMemoryStore, owner: User) -> None:
    with pytest.raises(RuleViolation) as caught:
        update_subscription(store, owner, 2, DEFAULT_USER_ID, {"user": JANE_ID})
    assert set(caught.value.errors or {}) == {"user"}


# -- unsubscribe -------------------------------------------------------------------------------


def test_unsubscribe_oneself_gives_places_back(store: InMemoryStore) -> None:
    jane = user(store, JANE_ID)
    unsubscribe(store, jane, 3, JANE_ID)
    assert places_taken(store, 3) == 2
    assert store.get_subscription(3, JANE_ID) is None
    with pytest.raises(NotFound):
        unsubscribe(store, jane, 3, JANE_ID)


def test_owner_removes_anyone_others_cannot(store: InMemoryStore, owner: User) -> None:
    jane = user(store, JANE_ID)
    with pytest.raises(Forbidden):
        unsubscribe(store, jane, 3, SECOND_FED_ID)
    unsubscribe(store, owner, 3, SECOND_FED_ID)
    assert places_taken(store, 3) == 2
    with pytest.raises(NotFound):
        unsubscribe(store, owner, 9999, SECOND_FED_ID)


def test_places_freed_can_be_taken_again(store: InMemoryStore, owner: User) -> None:
    john2 = user(store, JOHN2_ID)
    with pytest.raises(RuleViolation):
        subscribe(store, john2, 3, {"user": JOHN2_ID}, NOW)
    unsubscribe(store, owner, 3, JANE_ID)
    subscribe(store, john2, 3, {"user": JOHN2_ID, "additional_subscribers": 1}, NOW)
    assert places_taken(store, 3) == 4


# -- concurrency -------------------------------------------------------------------------------


@pytest.mark.parametrize("places", [1, 7, 49])
def test_fifty_threads_race_for_k_places_exactly_k_win(
    store: InMemoryStore, owner: User, places: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    event_id = new_event(store, owner, slots=places)
    # Widen the window between "is there room?" and "take it" so that a missing lock would
    # overbook every time, not once in a thousand runs.
    check = store.get_subscription

    def slow_check(event: int, user_id: str) -> Any:
        time.sleep(0.0005)
        return check(event, user_id)

    monkeypatch.setattr(store, "get_subscription", slow_check)
    racers = []
    for number in range(50):
        racer = User(id=str(uuid.UUID(int=number + 1)), type=DKTCONNECT,
                     name=f"Racer {number}", external_id=f"racer-{number}")  # fmt: skip
        store.add_user(racer)
        racers.append(racer)
    start = threading.Barrier(len(racers))
    outcomes: list[str] = []
    record = threading.Lock()

    def race(racer: User) -> None:
        start.wait()
        try:
            subscribe(store, racer, event_id, {"user": racer.id}, NOW)
            outcome = "in"
        except DomainError as exc:
            outcome = f"{exc.status}"
        except Exception as exc:  # e.g. the store refusing an overbooking
            outcome = repr(exc)
        with record:
            outcomes.append(outcome)

    threads = [threading.Thread(target=race, args=(racer,)) for racer in racers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("in") == places
    assert outcomes.count("422") == 50 - places
    assert places_taken(store, event_id) == places
    assert len(store.subscriptions_of(event_id)) == places
