"""Fixtures: deterministic per seed, the documents' users and events, realistic and consistent."""

from __future__ import annotations

import random
from collections import Counter

from mock_server.domain.activities.events import EventQuery, get_event, list_public_events
from mock_server.domain.activities.models import CANCELED, DKTCONNECT, FED, PENDING, PUBLISHED
from mock_server.domain.geo import haversine_km
from mock_server.seed import (
    DEFAULT_USER_ID,
    FIXTURE_BASE_DATE,
    LILLE,
    SPORTS,
    build_fixtures,
)
from mock_server.state.memory import InMemoryStore

FIXTURES = build_fixtures(seed=42, events=300)


def test_same_seed_same_state() -> None:
    first = InMemoryStore(build_fixtures(seed=7, events=200)).export_state()
    second = InMemoryStore(build_fixtures(seed=7, events=200)).export_state()
    assert first == second
    assert InMemoryStore(build_fixtures(seed=8, events=200)).export_state() != first


def test_the_global_random_generator_is_left_alone() -> None:
    random.seed(1234)
    expected = [random.random() for _ in range(3)]
    random.seed(1234)
    build_fixtures(seed=5, events=50)
    assert [random.random() for _ in range(3)] == expected


def test_the_documents_users_are_there_with_their_ids() -> None:
    by_id = {user.id: user for user in FIXTURES.users}
    default = by_id[DEFAULT_USER_ID]
    assert (default.type, default.name, default.external_id) == (FED, "John D", "JOHND01")
    assert default.site is not None and (default.site.id, default.site_id) == (648, "0070064800648")
    assert default.mail == "hello@world.com"
    assert default.photo == "//iam.subsidia.org/photos/users/JOHND01.jpg"
    assert by_id["1c4884b6-c92b-4b0a-9808-373049fe6c25"].external_id == "ZXXDOEJ"
    john2 = by_id["3d416216-7a1d-11e8-adc0-fa7ae01bbebc"]
    assert (john2.type, john2.name) == (DKTCONNECT, "John2 D")
    assert by_id["4c68165b-3869-4c22-8098-a4a429c97509"].type == DKTCONNECT


def test_faker_users_look_real_and_are_unique() -> None:
    assert 50 <= len(FIXTURES.users) <= 60
    assert len({u.id for u in FIXTURES.users}) == len(FIXTURES.users)
    assert len({(u.type, u.external_id) for u in FIXTURES.users}) == len(FIXTURES.users)
    types = Counter(u.type for u in FIXTURES.users)
    assert types[FED] > 20 and types[DKTCONNECT] > 10
    for user in FIXTURES.users[4:]:
        if user.type == FED:
            assert user.site is not None and user.site_id and user.mail and user.title
            assert user.photo == f"//iam.subsidia.org/photos/users/{user.external_id}.jpg"
            assert user.mail.endswith("@decathlon.com")
        else:
            assert user.site is None and user.photo is None and user.mail is None


def test_the_default_user_owns_public_events_near_lille() -> None:
    store = InMemoryStore(FIXTURES)
    owned = store.events_owned_by(DEFAULT_USER_ID)
    assert len(owned) >= 8
    near = [
        e
        for e in owned
        if e.is_public(FIXTURE_BASE_DATE) and haversine_km(*LILLE, e.latitude, e.longitude) < 20
    ]
    assert len(near) >= 3
    public = list_public_events(store, EventQuery(*LILLE), FIXTURE_BASE_DATE)
    assert {e.id for e in near} <= {e.id for e in public}
    assert get_event(store, None, 1, FIXTURE_BASE_DATE).title == "Running meeting"
    statuses = {e.id: e.status for e in owned}
    assert (statuses[6], statuses[7]) == (PENDING, CANCELED)


def test_events_are_realistic_and_mostly_near_lille() -> None:
    events = FIXTURES.events
    assert [e.id for e in events] == list(range(1, 301))
    statuses = Counter(e.status for e in events)
    assert statuses[PUBLISHED] > 200 and statuses[PENDING] > 5 and statuses[CANCELED] > 3
    near = sum(haversine_km(*LILLE, e.latitude, e.longitude) <= 100 for e in events)
    assert near / len(events) > 0.6
    assert any(haversine_km(*LILLE, e.latitude, e.longitude) > 500 for e in events)
    profiles = {sport.sport_id: sport for sport in SPORTS}
    for event in events[8:]:
        sport = profiles[event.sport_id]
        assert any(t.split("{city}")[0].split(" de ")[0] in event.title for t in sport.titles)
        assert event.start_date < event.end_date
        assert event.age_min <= event.age_max
        assert event.level and set(event.level) <= {5, 10, 20}
        assert abs((event.start_date - FIXTURE_BASE_DATE).days) <= 280
        assert event.start_date.second == 0 and event.start_date.minute % 15 == 0
    assert sum(e.extra_location is not None for e in events) > 30
    location = next(e.extra_location for e in events[8:] if e.extra_location)
    assert set(location) == {"place_id", "autocomplete_name", "custom_adress", "formatted_address"}
    assert set(location["custom_adress"]) == {"name", "adress", "address_zip"}


def test_subscriptions_fit_and_match_places_taken() -> None:
    events = {e.id: e for e in FIXTURES.events}
    assert len(FIXTURES.subscriptions) > 30
    for event_id, subs in FIXTURES.subscriptions.items():
        event = events[event_id]
        assert event.places_taken == sum(s.places for s in subs) <= event.slots_limit
        assert len({s.user_id for s in subs}) == len(subs)
        if event_id > 8:
            assert all(s.user_id != event.owner.id for s in subs)
    store = InMemoryStore(FIXTURES)
    assert all(store.get_event(i) == e for i, e in events.items())


def test_event_count_is_exact_even_below_the_documents_events() -> None:
    assert len(build_fixtures(events=3).events) == 3
    assert build_fixtures(events=3).subscriptions.keys() == {2, 3}
    assert build_fixtures(events=0).events == ()


def test_a_larger_build_stays_consistent() -> None:
    fixtures = build_fixtures(seed=1, events=20_000)
    assert len(fixtures.events) == 20_000
    store = InMemoryStore(fixtures)
    assert store.event_count() == 20_000
    found = list_public_events(store, EventQuery(*LILLE, distance=10), FIXTURE_BASE_DATE)
    assert found and all(haversine_km(*LILLE, e.latitude, e.longitude) <= 10 for e in found)


def test_builds_share_no_mutable_object_of_the_documents_table() -> None:
    """Event 1's location comes from documents.json, read once: each build gets its own."""
    first, second = build_fixtures(events=8), build_fixtures(events=8)
    assert first.events[0].extra_location == second.events[0].extra_location
    assert first.events[0].extra_location is not second.events[0].extra_location
