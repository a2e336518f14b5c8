"""Event rules: visibility, validation, ownership, status moves, capacity, list filters/order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mock_server.domain.activities.events import (
    EventQuery,
    cancel_event,
    create_event,
    duplicate_event,
    get_event,
    list_mine,
    list_public_events,
    patch_event,
)
from mock_server.domain.activities.models import CANCELED, PENDING, PUBLISHED, User
from mock_server.domain.activities.subscriptions import subscribe
from mock_server.domain.errors import Forbidden, NotFound, RuleViolation
from mock_server.domain.geo import haversine_km
from mock_server.seed import DEFAULT_USER_ID, FIXTURE_BASE_DATE, LILLE, build_fixtures
from mock_server.state.memory import InMemoryStore

FIXTURES = build_fixtures(seed=42, events=300)
NOW = FIXTURE_BASE_DATE
OTHER_ID = "4c68165b-3869-4c22-8098-a4a429c97509"
SECOND_FED_ID = "1c4884b6-c92b-4b0a-9808-373049fe6c25"


@pytest.fixture
def store(make_store) -> InMemoryStore:  # type: ignore[no-untyped-def]
    """Each test runs on every backend (tests/unit/conftest.py)."""
    store: InMemoryStore = make_store(FIXTURES)
    return store


@pytest.fixture
def owner(store: InMemoryStore) -> User:
    user = store.get_user(DEFAULT_USER_ID)
    assert user is not None
    return user


@pytest.fixture
def other(store: InMemoryStore) -> User:
    user = store.get_user(OTHER_ID)
    assert user is not None
    return user


def body(**changes: Any) -> dict[str, Any]:
    """A valid create body (the documents' example), with some fields changed or dropped."""
    payload: dict[str, Any] = {
        "title": "Test title",
        "description": "Test description",
        "start_date": "2026-12-21T17:32:28Z",
        "end_date": "2026-12-25T17:32:28Z",
        "publish_date": None,
        "picture": "http://foo.bar/jdoe.jpg",
        "sport_id": 186,
        "latitude": 50.6456406,
        "longitude": 3.1400856,
        "level": [5],
        "age_min": 5,
        "age_max": 19,
        "slots": 60,
        "owner_message": "Test organizer message",
        "equipment_provided": "Test provided equipment",
        "equipment_required": "Test required equipment",
        "equipment_linked": [],
        "subscription_disabled": False,
    }
    payload.update(changes)
    return {key: value for key, value in payload.items() if value is not ...}


def rule_fields(error: pytest.ExceptionInfo[RuleViolation]) -> set[str]:
    return set(error.value.errors or {})


# -- create ------------------------------------------------------------------------------------


def test_create_returns_a_published_event_owned_by_the_caller(
    store: InMemoryStore, owner: User
) -> None:
    event = create_event(store, owner, body(), NOW)
    assert event.id == 301
    assert event.status == PUBLISHED
    assert event.owner == owner
    payload = event.to_json()
    assert payload["slots_limit"] == 60 and payload["slots"] == 60
    assert payload["start_date"] == "2026-12-21T17:32:28Z"
    assert payload["extra_location"] is None
    assert store.get_event(301) == event
    assert create_event(store, owner, body(), NOW).id == 302


def test_create_pending_when_asked(store: InMemoryStore, owner: User) -> None:
    assert create_event(store, owner, body(status="PENDING"), NOW).status == PENDING


def test_create_keeps_optional_fields(store: InMemoryStore, owner: User) -> None:
    location = {"place_id": "x", "custom_adress": {"name": "Decathlon Croix"}}
    event = create_event(
        store,
        owner,
        body(extra_location=location, equipment_linked=["8529012"], subscription_disabled=True),
        NOW,
    )
    location["place_id"] = "mutated by the caller afterwards"
    assert event.extra_location == {"place_id": "x", "custom_adress": {"name": "Decathlon Croix"}}
    assert event.equipment_linked == ("8529012",)
    assert event.subscription_disabled is True


def test_create_requires_every_documented_required_field(store: InMemoryStore, owner: User) -> None:
    required = ["title", "description", "sport_id", "start_date", "end_date", "latitude"]
    required += ["longitude", "level", "age_min", "age_max", "slots"]
    with pytest.raises(RuleViolation) as caught:
        create_event(store, owner, body(**dict.fromkeys(required, ...)), NOW)
    assert rule_fields(caught) == set(required)
    assert store.event_count() == 300


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": 12}, "title"),
        ({"title": None}, "title"),
        ({"sport_id": "186"}, "sport_id"),
        ({"sport_id": True}, "sport_id"),
        ({"start_date": "21/07/2018"}, "start_date"),
        ({"end_date": "2026-12-21T17:32:28"}, "end_date"),
        ({"end_date": "2026-12-21T17:32:28Z"}, "end_date"),
        ({"end_date": "2026-12-20T17:32:28Z"}, "end_date"),
        ({"latitude": 90.5}, "latitude"),
        ({"longitude": -180.1}, "longitude"),
        ({"latitude": "50"}, "latitude"),
        ({"level": [7]}, "level"),
        ({"level": [5, 5]}, "level"),
        ({"level": []}, "level"),
        ({"age_min": -1}, "age_min"),
        ({"age_min": 30, "age_max": 19}, "age_max"),
        ({"slots": 0}, "slots"),
        ({"slots": 1.5}, "slots"),
        ({"status": "CANCELED"}, "status"),
        ({"status": "DRAFT"}, "status"),
        ({"extra_location": "Croix"}, "extra_location"),
        ({"equipment_linked": [1]}, "equipment_linked"),
        ({"subscription_disabled": "no"}, "subscription_disabled"),
        ({"slots_limit": 3}, "slots_limit"),
        ({"owner": DEFAULT_USER_ID}, "owner"),
    ],
)
def test_create_refuses_invalid_fields(
    store: InMemoryStore, owner: User, changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(RuleViolation) as caught:
        create_event(store, owner, body(**changes), NOW)
    assert field in rule_fields(caught)
    assert store.event_count() == 300


def test_create_accepts_boundaries(store: InMemoryStore, owner: User) -> None:
    event = create_event(
        store, owner, body(latitude=90, longitude=-180, age_min=7, age_max=7, slots=1), NOW
    )
    assert (event.latitude, event.longitude, event.slots_limit) == (90, -180, 1)


# -- read --------------------------------------------------------------------------------------


def test_get_a_public_event_anonymously(store: InMemoryStore) -> None:
    assert get_event(store, None, 1, NOW).title == "Running meeting"


def test_get_unknown_event_is_not_found(store: InMemoryStore, owner: User) -> None:
    with pytest.raises(NotFound):
        get_event(store, owner, 9999, NOW)


def test_pending_event_is_hidden_from_all_but_its_owner(
    store: InMemoryStore, owner: User, other: User
) -> None:
    assert get_event(store, owner, 6, NOW).status == PENDING
    for caller in (None, other):
        with pytest.raises(NotFound):
            get_event(store, caller, 6, NOW)


def test_scheduled_event_appears_at_its_publish_date(store: InMemoryStore, other: User) -> None:
    event = store.get_event(5)
    assert event is not None and event.publish_date is not None
    with pytest.raises(NotFound):
        get_event(store, other, 5, NOW)
    assert get_event(store, other, 5, event.publish_date).id == 5
    assert get_event(store, other, 5, event.publish_date + timedelta(seconds=1)).id == 5


def test_canceled_event_is_still_readable(store: InMemoryStore, other: User) -> None:
    assert get_event(store, other, 7, NOW).status == CANCELED


# -- public list -------------------------------------------------------------------------------


def lille(**criteria: Any) -> EventQuery:
    return EventQuery(latitude=LILLE[0], longitude=LILLE[1], **criteria)


def test_public_list_shows_only_published_public_events_in_order(store: InMemoryStore) -> None:
    found = list_public_events(store, lille(distance=20_000), NOW)
    assert found
    assert all(e.status == PUBLISHED for e in found)
    assert all(e.publish_date is None or e.publish_date <= NOW for e in found)
    keys = [(e.start_date, e.id) for e in found]
    assert keys == sorted(keys)
    ids = {e.id for e in found}
    assert 1 in ids and not {5, 6, 7} & ids
    expected = {
        e.id
        for e in store.events()
        if e.status == PUBLISHED and (e.publish_date is None or e.publish_date <= NOW)
    }
    assert ids == expected


def test_public_list_default_distance_is_100_km(store: InMemoryStore) -> None:
    found = list_public_events(store, lille(), NOW)
    assert all(haversine_km(*LILLE, e.latitude, e.longitude) <= 100 for e in found)
    everything = list_public_events(store, lille(distance=20_000), NOW)
    near = [e for e in everything if haversine_km(*LILLE, e.latitude, e.longitude) <= 100]
    assert found == near
    assert len(near) < len(everything)


def test_public_list_filters_by_sport(store: InMemoryStore) -> None:
    found = list_public_events(store, lille(sport=186), NOW)
    assert found and all(e.sport_id == 186 for e in found)


def test_public_list_filters_by_any_level(store: InMemoryStore) -> None:
    found = list_public_events(store, lille(levels=(20,)), NOW)
    assert found and all(20 in e.level for e in found)
    both = list_public_events(store, lille(levels=(5, 20)), NOW)
    assert {e.id for e in both} == {
        e.id for e in list_public_events(store, lille(), NOW) if {5, 20} & set(e.level)
    }


def make(store: InMemoryStore, owner: User, **changes: Any) -> int:
    return create_event(store, owner, body(**changes), NOW).id


def test_public_list_time_window_keeps_overlapping_events(
    store: InMemoryStore, owner: User
) -> None:
    # A place of its own, far from every fixture event.
    here: dict[str, Any] = {"latitude": -45.0, "longitude": 170.0}
    spans = {
        "before": ("2027-03-01T07:00:00Z", "2027-03-01T08:59:59Z"),
        "touching_start": ("2027-03-01T09:00:00Z", "2027-03-01T10:00:00Z"),
        "inside": ("2027-03-02T08:00:00Z", "2027-03-02T09:00:00Z"),
        "around": ("2027-02-01T08:00:00Z", "2027-04-01T09:00:00Z"),
        "touching_end": ("2027-03-03T09:00:00Z", "2027-03-03T10:00:00Z"),
        "after": ("2027-03-03T09:00:01Z", "2027-03-03T10:00:00Z"),
    }
    ids = {
        name: make(store, owner, start_date=start, end_date=end, **here)
        for name, (start, end) in spans.items()
    }
    window = EventQuery(
        **here,
        start_date=datetime(2027, 3, 1, 9, tzinfo=UTC),
        end_date=datetime(2027, 3, 3, 9, tzinfo=UTC),
    )
    found = [e.id for e in list_public_events(store, window, NOW)]
    assert found == [ids["around"], ids["touching_start"], ids["inside"], ids["touching_end"]]
    open_end = EventQuery(**here, start_date=datetime(2027, 3, 3, 9, 30, tzinfo=UTC))
    assert [e.id for e in list_public_events(store, open_end, NOW)] == [
        ids["around"],
        ids["touching_end"],
        ids["after"],
    ]


def test_public_list_age_range_keeps_overlapping_events(store: InMemoryStore, owner: User) -> None:
    here: dict[str, Any] = {"latitude": -45.0, "longitude": 170.0}
    kids = make(store, owner, age_min=6, age_max=12, **here)
    teens = make(store, owner, age_min=12, age_max=17, **here)
    adults = make(store, owner, age_min=18, age_max=99, **here)

    def ids(**ages: Any) -> set[int]:
        return {e.id for e in list_public_events(store, EventQuery(**here, **ages), NOW)}

    assert ids(age_min=12, age_max=12) == {kids, teens}
    assert ids(age_min=13) == {teens, adults}
    assert ids(age_max=11) == {kids}
    assert ids(age_min=100) == set()


def test_public_list_same_start_is_ordered_by_id(store: InMemoryStore, owner: User) -> None:
    here: dict[str, Any] = {"latitude": -45.0, "longitude": 170.0}
    first = make(store, owner, **here)
    second = make(store, owner, **here)
    found = list_public_events(store, EventQuery(**here), NOW)
    assert [e.id for e in found] == [first, second]


@pytest.mark.parametrize(
    ("criteria", "field"),
    [
        ({"distance": 0}, "distance"),
        ({"distance": 20_001}, "distance"),
        ({"latitude": 91.0}, "latitude"),
        ({"longitude": 181.0}, "longitude"),
        ({"age_min": -3}, "age_min"),
        ({"levels": (7,)}, "level"),
    ],
)
def test_public_list_refuses_invalid_criteria(
    store: InMemoryStore, criteria: dict[str, Any], field: str
) -> None:
    query = {"latitude": LILLE[0], "longitude": LILLE[1], **criteria}
    with pytest.raises(RuleViolation) as caught:
        list_public_events(store, EventQuery(**query), NOW)
    assert field in rule_fields(caught)


@pytest.mark.parametrize(
    "criteria",
    [
        {"age_min": 20, "age_max": 10},
        {
            "start_date": datetime(2027, 1, 2, tzinfo=UTC),
            "end_date": datetime(2027, 1, 1, tzinfo=UTC),
        },
    ],
)
def test_inverted_ranges_are_filters_not_errors(
    store: InMemoryStore, owner: User, criteria: dict[str, Any]
) -> None:
    """A schema-valid query is answered (200), never refused: an inverted range is a filter."""
    here: dict[str, Any] = {"latitude": -45.0, "longitude": 170.0}
    event_id = make(store, owner, **here)
    found = list_public_events(store, EventQuery(**here, **criteria), NOW)
    assert all(e.id != event_id or _overlaps(e, criteria) for e in found)


def _overlaps(event: Any, criteria: dict[str, Any]) -> bool:
    if "age_min" in criteria:
        return event.age_max >= criteria["age_min"] and event.age_min <= criteria["age_max"]
    return event.end_date >= criteria["start_date"] and event.start_date <= criteria["end_date"]


# -- patch -------------------------------------------------------------------------------------


def test_owner_patches_some_fields(store: InMemoryStore, owner: User) -> None:
    before = store.get_event(1)
    event = patch_event(store, owner, 1, {"title": "Test title 2"}, NOW)
    assert event.title == "Test title 2"
    assert store.get_event(1) == event
    assert before is not None and before.title == "Running meeting"  # old snapshot unchanged
    assert patch_event(store, owner, 1, {}, NOW) == event


def test_only_the_owner_patches(store: InMemoryStore, other: User) -> None:
    with pytest.raises(Forbidden):
        patch_event(store, other, 1, {"title": "Mine now"}, NOW)


def test_patching_a_hidden_event_of_someone_else_is_not_found(
    store: InMemoryStore, other: User
) -> None:
    with pytest.raises(NotFound):
        patch_event(store, other, 6, {"title": "x"}, NOW)
    with pytest.raises(NotFound):
        patch_event(store, other, 9999, {"title": "x"}, NOW)


def test_status_moves_between_pending_and_published(store: InMemoryStore, owner: User) -> None:
    assert patch_event(store, owner, 6, {"status": "PUBLISHED"}, NOW).status == PUBLISHED
    assert patch_event(store, owner, 6, {"status": "PENDING"}, NOW).status == PENDING
    with pytest.raises(RuleViolation) as caught:
        patch_event(store, owner, 6, {"status": "CANCELED"}, NOW)
    assert rule_fields(caught) == {"status"}


def test_canceled_event_cannot_be_patched(store: InMemoryStore, owner: User) -> None:
    with pytest.raises(RuleViolation, match="canceled"):
        patch_event(store, owner, 7, {"title": "Back on"}, NOW)


def test_capacity_cannot_drop_below_places_taken(store: InMemoryStore, owner: User) -> None:
    assert store.get_event(3).places_taken == 4  # type: ignore[union-attr]
    with pytest.raises(RuleViolation) as caught:
        patch_event(store, owner, 3, {"slots": 3}, NOW)
    assert rule_fields(caught) == {"slots"}
    event = patch_event(store, owner, 3, {"slots": 6}, NOW)
    assert (event.slots_limit, event.slots) == (6, 2)
    assert patch_event(store, owner, 3, {"slots": 4}, NOW).slots == 0


def test_patch_rechecks_rules_across_fields(store: InMemoryStore, owner: User) -> None:
    event = store.get_event(1)
    assert event is not None
    too_early = (event.start_date - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    with pytest.raises(RuleViolation) as caught:
        patch_event(store, owner, 1, {"end_date": too_early}, NOW)
    assert rule_fields(caught) == {"end_date"}
    with pytest.raises(RuleViolation) as caught:
        patch_event(store, owner, 1, {"age_min": 101}, NOW)
    assert rule_fields(caught) == {"age_min"}
    with pytest.raises(RuleViolation) as caught:
        patch_event(store, owner, 1, {"title": None, "colour": "red"}, NOW)
    assert rule_fields(caught) == {"title", "colour"}
    assert store.get_event(1) == event


def test_moving_an_event_moves_it_in_the_radius_search(store: InMemoryStore, owner: User) -> None:
    marseille = EventQuery(latitude=43.2965, longitude=5.3698, distance=1)
    assert 1 not in {e.id for e in list_public_events(store, marseille, NOW)}
    patch_event(store, owner, 1, {"latitude": 43.2965, "longitude": 5.3698}, NOW)
    assert 1 in {e.id for e in list_public_events(store, marseille, NOW)}
    assert 1 not in {e.id for e in list_public_events(store, lille(distance=5), NOW)}


# -- cancel and duplicate ----------------------------------------------------------------------


def test_cancel_is_final_and_hides_the_event(store: InMemoryStore, owner: User) -> None:
    event = cancel_event(store, owner, 1, NOW)
    assert event.status == CANCELED
    assert 1 not in {e.id for e in list_public_events(store, lille(), NOW)}
    with pytest.raises(RuleViolation, match="already canceled"):
        cancel_event(store, owner, 1, NOW)
    with pytest.raises(RuleViolation):
        subscribe(store, owner, 1, {"user": owner.id}, NOW)


def test_cancel_keeps_subscriptions(store: InMemoryStore, owner: User) -> None:
    assert cancel_event(store, owner, 2, NOW).places_taken == 2
    assert len(store.subscriptions_of(2)) == 2


def test_only_the_owner_cancels(store: InMemoryStore, other: User) -> None:
    with pytest.raises(Forbidden):
        cancel_event(store, other, 1, NOW)


def test_duplicate_is_a_pending_copy_without_subscribers(store: InMemoryStore, owner: User) -> None:
    original = store.get_event(3)
    assert original is not None
    copy = duplicate_event(store, owner, 3, NOW)
    assert copy.id == 301 and copy.status == PENDING
    assert (copy.slots_limit, copy.slots, copy.places_taken) == (4, 4, 0)
    assert store.subscriptions_of(301) == []
    assert store.get_event(3) == original
    differ = {"id", "status", "slots"}
    assert {k: v for k, v in copy.to_json().items() if k not in differ} == {
        k: v for k, v in original.to_json().items() if k not in differ
    }


def test_a_canceled_event_can_be_duplicated(store: InMemoryStore, owner: User) -> None:
    assert duplicate_event(store, owner, 7, NOW).status == PENDING


def test_only_the_owner_duplicates(store: InMemoryStore, other: User) -> None:
    with pytest.raises(Forbidden):
        duplicate_event(store, other, 1, NOW)


# -- mine --------------------------------------------------------------------------------------


def test_mine_created_lists_every_status_in_order(store: InMemoryStore, owner: User) -> None:
    mine = list_mine(store, owner, "created")
    assert {1, 2, 3, 4, 5, 6, 7, 8} <= {e.id for e in mine}
    assert all(e.owner.id == owner.id for e in mine)
    assert len(mine) == sum(1 for e in store.events() if e.owner.id == owner.id)
    keys = [(e.start_date, e.id) for e in mine]
    assert keys == sorted(keys)
    new = create_event(store, owner, body(status="PENDING"), NOW)
    assert new.id in {e.id for e in list_mine(store, owner, "created")}


def test_mine_subscribed_and_the_event_filter(store: InMemoryStore, owner: User) -> None:
    subscribed = list_mine(store, owner, "subscribed")
    assert 2 in {e.id for e in subscribed}
    assert [e.id for e in list_mine(store, owner, "subscribed", 2)] == [2]
    assert list_mine(store, owner, "subscribed", 1) == []
    second = store.get_user(SECOND_FED_ID)
    assert second is not None
    assert 3 in {e.id for e in list_mine(store, second, "subscribed")}


def test_mine_refuses_an_unknown_type(store: InMemoryStore, owner: User) -> None:
    with pytest.raises(RuleViolation) as caught:
        list_mine(store, owner, "liked")
    assert rule_fields(caught) == {"type"}
