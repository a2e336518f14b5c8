"""The public list's columnar catalog gives exactly the brute-force answer, page by page."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from mock_server.domain.activities.catalog import EventCatalog
from mock_server.domain.activities.events import EventQuery, event_order
from mock_server.domain.activities.models import CANCELED, PUBLISHED, Event
from mock_server.domain.geo import haversine_km
from mock_server.seed import FIXTURE_BASE_DATE, build_fixtures

FIXTURES = build_fixtures(seed=11, events=3_000)
NOW = FIXTURE_BASE_DATE


def brute_force(events: list[Event], query: EventQuery, now=NOW) -> list[int]:  # type: ignore[no-untyped-def]
    found = [
        e for e in events
        if e.status == PUBLISHED
        and (e.publish_date is None or e.publish_date <= now)
        and haversine_km(query.latitude, query.longitude, e.latitude, e.longitude)
        <= query.distance
        and (query.sport is None or e.sport_id == query.sport)
        and (query.start_date is None or e.end_date >= query.start_date)
        and (query.end_date is None or e.start_date <= query.end_date)
        and (query.age_min is None or e.age_max >= query.age_min)
        and (query.age_max is None or e.age_min <= query.age_max)
        and (not query.levels or set(query.levels) & set(e.level))
    ]
    return [e.id for e in sorted(found, key=event_order)]


def catalog_of(events: list[Event]) -> EventCatalog:
    catalog = EventCatalog()
    catalog.build(events)
    return catalog


queries = st.builds(
    EventQuery,
    latitude=st.one_of(st.floats(42.0, 52.0), st.floats(-90.0, 90.0)),
    longitude=st.one_of(st.floats(-2.0, 8.0), st.floats(-180.0, 180.0)),
    distance=st.one_of(st.sampled_from([1, 10, 100, 500, 20_000]), st.floats(1, 20_000)),
    sport=st.one_of(st.none(), st.sampled_from([121, 381, 186, 5])),
    start_date=st.one_of(st.none(), st.integers(-100, 300).map(
        lambda d: NOW + timedelta(days=d))),
    end_date=st.one_of(st.none(), st.integers(-100, 300).map(lambda d: NOW + timedelta(days=d))),
    age_min=st.one_of(st.none(), st.integers(0, 99)),
    age_max=st.one_of(st.none(), st.integers(0, 99)),
    levels=st.lists(st.sampled_from([5, 10, 20]), max_size=2, unique=True).map(tuple),
)


@given(query=queries, page=st.integers(1, 4), per_page=st.sampled_from([1, 7, 25, 100]))
def test_pages_and_totals_equal_brute_force(query: EventQuery, page: int, per_page: int) -> None:
    events = list(FIXTURES.events)
    catalog = catalog_of(events)
    expected = brute_force(events, query)
    total, ids = catalog.select(query, NOW, (page - 1) * per_page, per_page)
    assert total == len(expected)
    assert ids == expected[(page - 1) * per_page: page * per_page]
    assert catalog.select(query, NOW)[1] == expected


@given(query=queries, changes=st.lists(st.tuples(st.integers(1, 3_000), st.integers(0, 3)),
                                       max_size=40))
def test_writes_are_seen_like_a_rebuild(query: EventQuery, changes: list[tuple[int, int]]) -> None:
    events = {e.id: e for e in FIXTURES.events}
    catalog = catalog_of(list(events.values()))
    next_id = max(events) + 1
    for event_id, kind in changes:
        event = events[event_id]
        if kind == 0:  # moved (to the query's centre, to hit the circle)
            event = replace(event, latitude=query.latitude, longitude=query.longitude)
        elif kind == 1:
            event = replace(event, status=CANCELED)
        elif kind == 2:  # a new event, a copy published now
            event = replace(event, id=next_id, status=PUBLISHED, publish_date=None)
            next_id += 1
        else:  # only the places change: not a listed field
            event = replace(event, places_taken=0)
        catalog.put(event, events.get(event.id))
        events[event.id] = event
    assert len(catalog) == len(events)
    assert catalog.select(query, NOW)[1] == brute_force(list(events.values()), query)
    assert catalog.select(query, NOW)[0] == len(catalog.select(query, NOW)[1])


def test_merging_the_delta_keeps_the_answer() -> None:
    events = {e.id: e for e in FIXTURES.events[:200]}
    catalog = catalog_of(list(events.values()))
    query = EventQuery(latitude=50.6292, longitude=3.0573, distance=300)
    for step in range(6_000):  # more than the delta holds before a merge
        event = replace(FIXTURES.events[step % 200], id=1_000 + step, status=PUBLISHED,
                        publish_date=None)
        events[event.id] = event
        catalog.put(event)
    assert len(catalog) == len(events)
    assert catalog.select(query, NOW)[1] == brute_force(list(events.values()), query)


def test_scheduled_publication_follows_now() -> None:
    event = replace(FIXTURES.events[0], publish_date=NOW + timedelta(days=1), status=PUBLISHED)
    catalog = catalog_of([event])
    query = EventQuery(latitude=event.latitude, longitude=event.longitude, distance=1)
    assert catalog.select(query, NOW) == (0, [])
    assert catalog.select(query, NOW + timedelta(days=1)) == (1, [event.id])


def test_huge_integers_from_a_direct_caller_do_not_break_it() -> None:
    event = replace(FIXTURES.events[0], status=PUBLISHED, publish_date=None,
                    sport_id=2**70, age_max=2**70)
    catalog = catalog_of([event])
    here = {"latitude": event.latitude, "longitude": event.longitude, "distance": 1}
    catalog.select(EventQuery(**here, sport=2**70), NOW)  # no OverflowError
    assert catalog.select(EventQuery(**here, sport=-(2**70)), NOW)[0] == 0
    assert catalog.select(EventQuery(**here, age_min=10**30), NOW)[0] == 0
