"""The store: invariants it refuses to break, reset, and export/import round trips."""

from __future__ import annotations

import json
import threading
from dataclasses import replace

import pytest

from mock_server.domain.activities.events import cancel_event, patch_event
from mock_server.domain.activities.models import Child, Subscription, User
from mock_server.domain.activities.subscriptions import subscribe, unsubscribe
from mock_server.domain.errors import RuleViolation
from mock_server.seed import DEFAULT_USER_ID, FIXTURE_BASE_DATE, build_fixtures
from mock_server.state.memory import STATE_FORMAT, InMemoryStore

FIXTURES = build_fixtures(seed=3, events=120)
NOW = FIXTURE_BASE_DATE
JANE_ID = "4c68165b-3869-4c22-8098-a4a429c97509"


@pytest.fixture
def store(make_store) -> InMemoryStore:  # type: ignore[no-untyped-def]
    """Each test runs on every backend (tests/unit/conftest.py)."""
    store: InMemoryStore = make_store(FIXTURES)
    return store


def owner_of(store: InMemoryStore) -> User:
    user = store.get_user(DEFAULT_USER_ID)
    assert user is not None
    return user


def mutate(store: InMemoryStore) -> None:
    """A bit of everything: patch, move, cancel, subscribe, unsubscribe, a new user."""
    owner = owner_of(store)
    jane = store.get_user(JANE_ID)
    assert jane is not None
    patch_event(store, owner, 1, {"title": "Changed", "latitude": 45.0, "slots": 9}, NOW)
    cancel_event(store, owner, 4, NOW)
    subscribe(store, jane, 1, {"user": JANE_ID, "children": [{"name": "Suzie"}]}, NOW)
    unsubscribe(store, owner, 2, DEFAULT_USER_ID)
    store.add_user(User(id="u-new", type="DKTCONNECT", name="New U", external_id="999"))


def test_an_empty_store_works() -> None:
    empty = InMemoryStore()
    assert empty.event_count() == 0 and empty.users() == []
    assert empty.export_state()["events"] == []


def test_export_is_json_serialisable_and_round_trips(store: InMemoryStore) -> None:
    mutate(store)
    state = store.export_state()
    assert state["format"] == STATE_FORMAT
    text = json.dumps(state)
    other = InMemoryStore()
    other.import_state(json.loads(text))
    assert other.export_state() == state
    assert other.get_event(1) == store.get_event(1)
    assert other.subscriptions_of(1) == store.subscriptions_of(1)
    assert [e.id for e in other.events_near(45.0, 3.0573, 1)] == [1]
    assert other.events_owned_by(DEFAULT_USER_ID) == store.events_owned_by(DEFAULT_USER_ID)
    assert other.events_subscribed_by(JANE_ID) == store.events_subscribed_by(JANE_ID)


def test_import_keeps_the_next_id() -> None:
    store = InMemoryStore(FIXTURES)  # whole-state lifecycle: the memory store's own
    state = store.export_state()
    state["next_event_id"] = 500
    store.import_state(state)
    first = store.get_event(1)
    assert first is not None
    assert store.add_event(replace(first, id=0, places_taken=0)).id == 500


def test_reset_returns_to_the_fixtures() -> None:
    store = InMemoryStore(FIXTURES)
    initial = store.export_state()
    mutate(store)
    assert store.export_state() != initial
    store.reset()
    assert store.export_state() == initial
    # ...including after an import.
    store.import_state(InMemoryStore().export_state())
    assert store.event_count() == 0
    store.reset()
    assert store.export_state() == initial
    # The pristine copy was not touched by the first round of changes.
    mutate(store)
    store.reset()
    assert store.export_state() == initial


@pytest.mark.parametrize(
    "breakage",
    [
        lambda s: s.update(format="something else"),
        lambda s: s["events"][0].update(owner_id="nobody"),
        lambda s: s["events"][0].pop("title"),
        lambda s: s["subscriptions"].append({"event_id": 1, "user_id": "nobody"}),
        lambda s: s["subscriptions"].append({"event_id": 3, "user_id": JANE_ID}),  # 3 is full
        lambda s: s.update(next_event_id=2),
        lambda s: s["users"].append(dict(s["users"][0])),
    ],
)
def test_invalid_import_is_refused_and_changes_nothing(breakage) -> None:  # type: ignore[no-untyped-def]
    store = InMemoryStore(FIXTURES)
    before = store.export_state()
    broken = json.loads(json.dumps(before))
    breakage(broken)
    with pytest.raises(RuleViolation):
        store.import_state(broken)
    assert store.export_state() == before


def test_places_taken_follow_subscriptions_even_if_fixtures_disagree() -> None:
    event = replace(FIXTURES.events[0], places_taken=5)
    fixtures = replace(FIXTURES, events=(event, *FIXTURES.events[1:]))
    store = InMemoryStore(fixtures)
    assert store.get_event(1).places_taken == 0  # type: ignore[union-attr]
    assert store.get_event(2).places_taken == 2  # type: ignore[union-attr]


def test_store_refuses_writes_that_break_the_places_invariant(store: InMemoryStore) -> None:
    full = store.get_event(3)
    assert full is not None and full.slots == 0
    with pytest.raises(ValueError):
        store.put_subscription(3, Subscription(JANE_ID.replace("4c", "00")))
    with pytest.raises(ValueError):
        store.put_subscription(3, Subscription("3d416216-7a1d-11e8-adc0-fa7ae01bbebc"))
    with pytest.raises(ValueError):
        store.replace_event(replace(full, places_taken=0))
    with pytest.raises(ValueError):
        store.replace_event(replace(full, slots_limit=3))
    with pytest.raises(ValueError):
        store.replace_event(replace(full, owner=FIXTURES.user(JANE_ID)))
    with pytest.raises(ValueError):
        store.add_event(full)  # carries places taken
    assert store.get_event(3) == full


def test_replacing_a_subscription_keeps_its_position(store: InMemoryStore) -> None:
    order = [s.user_id for s in store.subscriptions_of(3)]
    current = store.get_subscription(3, order[0])
    assert current is not None
    updated = replace(current, children=())
    event = store.put_subscription(3, updated)
    assert [s.user_id for s in store.subscriptions_of(3)] == order
    assert event.places_taken == sum(s.places for s in store.subscriptions_of(3))
    removed = store.remove_subscription(3, order[0])
    assert removed == updated
    assert store.remove_subscription(3, order[0]) is None


def test_add_user_refuses_duplicates(store: InMemoryStore) -> None:
    with pytest.raises(ValueError):
        store.add_user(User(id=DEFAULT_USER_ID, type="FED", name="x", external_id="other"))
    with pytest.raises(ValueError):
        store.add_user(User(id="new", type="FED", name="x", external_id="JOHND01"))
    store.add_user(User(id="new", type="DKTCONNECT", name="x", external_id="JOHND01"))


def test_transaction_is_reentrant_and_exclusive(store: InMemoryStore) -> None:
    seen: list[str] = []
    with store.transaction():
        with store.transaction():

            def work() -> None:
                with store.transaction():
                    seen.append("worker")

            worker = threading.Thread(target=work)
            worker.start()
            worker.join(timeout=0.2)
            assert worker.is_alive()  # another writer waits for the write lock we hold
            seen.append("holder")
    worker.join()
    assert seen == ["holder", "worker"]


def test_subscriptions_with_children_survive_a_round_trip(store: InMemoryStore) -> None:
    store.put_subscription(1, Subscription(JANE_ID, 1, True, (Child("Suzie"), Child("Léo"))))
    twin = InMemoryStore()
    twin.import_state(store.export_state())
    assert twin.get_subscription(1, JANE_ID) == store.get_subscription(1, JANE_ID)
    assert twin.get_event(1).places_taken == 4  # type: ignore[union-attr]
