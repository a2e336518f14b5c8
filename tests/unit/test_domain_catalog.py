"""The public list's columnar catalog gives exactly the brute-force answer, page by page."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_server.domain.activities.catalog import SCAN_LIMIT, EventCatalog, is_listed
from mock_server.domain.activities.events import EventQuery, event_order
from mock_server.domain.activities.models import CANCELED, PUBLISHED, Event
from mock_server.domain.geo import haversine_km
from mock_server.seed import FIXTURE_BASE_DATE, build_fixtures

FIXTURES = build_fixtures(seed=11, events=3_000)
NOW = FIXTURE_BASE_DATE


def brute_force(events: list[Event], query: EventQuery, now=NOW) -> list[int]:  # type: ignore[no-untyped-def]
    return [e.id for e in sorted((e for e in events if is_listed(e, query, now)),
                                 key=event_order)]


def catalog_of(events: list[Event], scan_limit: int = SCAN_LIMIT) -> EventCatalog:
    catalog = EventCatalog(scan_limit=scan_limit)
    catalog.build(events)
    return catalog


#: Both ways a query reads the sorted rows: planned cell by cell (a dense place among many
#: events) and the rows of its circle's latitudes scanned one by one (the default data, or a
#: few events near it); each must give the brute-force answer.
BOTH_PLANS = pytest.mark.parametrize("scan_limit", [0, SCAN_LIMIT], ids=["cells", "scan"])


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


@BOTH_PLANS
@given(query=queries, page=st.integers(1, 4), per_page=st.sampled_from([1, 7, 25, 100]))
def test_pages_and_totals_equal_brute_force(query: EventQuery, page: int, per_page: int,
                                            scan_limit: int) -> None:
    events = list(FIXTURES.events)
    catalog = catalog_of(events, scan_limit)
    expected = brute_force(events, query)
    total, ids = catalog.select(query, NOW, (page - 1) * per_page, per_page)
    assert total == len(expected)
    assert ids == expected[(page - 1) * per_page: page * per_page]
    assert catalog.select(query, NOW)[1] == expected


@BOTH_PLANS
@given(query=queries, changes=st.lists(st.tuples(st.integers(1, 3_000), st.integers(0, 3)),
                                       max_size=40))
def test_writes_are_seen_like_a_rebuild(query: EventQuery, changes: list[tuple[int, int]],
                                        scan_limit: int) -> None:
    events = {e.id: e for e in FIXTURES.events}
    catalog = catalog_of(list(events.values()), scan_limit)
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
    expected = brute_force(list(events.values()), query)
    assert catalog.select(query, NOW) == (len(expected), expected)
    # A page mixes sorted rows (by rank) and the delta's (by start and id).
    assert catalog.select(query, NOW, 3, 5) == (len(expected), expected[3:8])


@given(changes=st.lists(st.tuples(st.integers(1, 400), st.integers(1, 400),
                                  st.sampled_from([0, 0, 1, -1]), st.booleans(),
                                  st.booleans()), min_size=1, max_size=60),
       pages=st.lists(st.tuples(st.integers(0, 300), st.integers(1, 40)), min_size=1,
                      max_size=4))
@BOTH_PLANS
def test_a_merge_keeps_list_order(changes: list[tuple[int, int, int, bool, bool]],
                                  pages: list[tuple[int, int]], scan_limit: int) -> None:
    """Merging places the delta's rows among the ranked ones. Start dates are taken from
    other events, so ties broken by id cross the two (old ids re-dated, new ids), or a minute
    off one, a start the ranked rows do not have."""
    events = {e.id: replace(e, status=PUBLISHED, publish_date=None)
              for e in FIXTURES.events[:400]}
    catalog = catalog_of(list(events.values()), scan_limit)
    next_id = 401
    query = EventQuery(latitude=50.6292, longitude=3.0573, distance=20_000)
    for event_id, donor, minutes, new, merge in changes:
        start = events[donor].start_date + timedelta(minutes=minutes)
        span = events[event_id].end_date - events[event_id].start_date
        event = replace(events[event_id], start_date=start, end_date=start + span)
        if new:
            event = replace(event, id=next_id)
            next_id += 1
        catalog.put(event, events.get(event.id))
        events[event.id] = event
        if merge:
            catalog._merge()
    catalog._merge()
    expected = brute_force(list(events.values()), query)
    assert len(catalog) == len(events)
    for offset, limit in pages:
        assert catalog.select(query, NOW, offset, limit) == (
            len(expected), expected[offset: offset + limit])


@BOTH_PLANS
def test_merging_the_delta_keeps_the_answer(scan_limit: int) -> None:
    events = {e.id: e for e in FIXTURES.events[:200]}
    catalog = catalog_of(list(events.values()), scan_limit)
    query = EventQuery(latitude=50.6292, longitude=3.0573, distance=300)
    for step in range(6_000):  # more than the delta holds before a merge
        event = replace(FIXTURES.events[step % 200], id=1_000 + step, status=PUBLISHED,
                        publish_date=None)
        events[event.id] = event
        catalog.put(event)
    assert len(catalog) == len(events)
    assert catalog.select(query, NOW)[1] == brute_force(list(events.values()), query)


@BOTH_PLANS
def test_scheduled_publication_follows_now(scan_limit: int) -> None:
    event = replace(FIXTURES.events[0], publish_date=NOW + timedelta(days=1), status=PUBLISHED)
    catalog = catalog_of([event], scan_limit)
    query = EventQuery(latitude=event.latitude, longitude=event.longitude, distance=1)
    assert catalog.select(query, NOW) == (0, [])
    assert catalog.select(query, NOW + timedelta(days=1)) == (1, [event.id])


def test_the_reference_states_each_rule() -> None:
    """``is_listed`` is what the columns are checked against, so its rules are pinned here."""
    event = replace(FIXTURES.events[0], status=PUBLISHED, publish_date=None, sport_id=121,
                    age_min=10, age_max=20, level=(10,))
    here = {"latitude": event.latitude, "longitude": event.longitude, "distance": 1}
    day = timedelta(days=1)
    assert is_listed(event, EventQuery(**here), NOW)
    assert not is_listed(replace(event, status=CANCELED), EventQuery(**here), NOW)
    assert not is_listed(replace(event, publish_date=NOW + day), EventQuery(**here), NOW)
    assert is_listed(replace(event, publish_date=NOW), EventQuery(**here), NOW)
    far = replace(event, latitude=event.latitude + 0.1)  # 11 km north
    assert not is_listed(far, EventQuery(**here), NOW)
    assert not is_listed(event, EventQuery(**here, sport=381), NOW)
    assert is_listed(event, EventQuery(**here, start_date=event.end_date), NOW)
    assert not is_listed(event, EventQuery(**here, start_date=event.end_date + day), NOW)
    assert is_listed(event, EventQuery(**here, end_date=event.start_date), NOW)
    assert not is_listed(event, EventQuery(**here, end_date=event.start_date - day), NOW)
    assert is_listed(event, EventQuery(**here, age_min=20, age_max=30), NOW)
    assert not is_listed(event, EventQuery(**here, age_min=21), NOW)
    assert not is_listed(event, EventQuery(**here, age_max=9), NOW)
    assert is_listed(event, EventQuery(**here, levels=(5, 10)), NOW)
    assert not is_listed(event, EventQuery(**here, levels=(20,)), NOW)


@BOTH_PLANS
def test_huge_integers_from_a_direct_caller_do_not_break_it(scan_limit: int) -> None:
    event = replace(FIXTURES.events[0], status=PUBLISHED, publish_date=None,
                    sport_id=2**70, age_max=2**70)
    catalog = catalog_of([event], scan_limit)
    here = {"latitude": event.latitude, "longitude": event.longitude, "distance": 1}
    catalog.select(EventQuery(**here, sport=2**70), NOW)  # no OverflowError
    assert catalog.select(EventQuery(**here, sport=-(2**70)), NOW)[0] == 0
    assert catalog.select(EventQuery(**here, age_min=10**30), NOW)[0] == 0


# -- the circle anywhere on the globe: whole cells inside it, edges, poles, the antimeridian ----

TEMPLATE = replace(FIXTURES.events[0], status=PUBLISHED, publish_date=None)


def _wrap(lon: float) -> float:
    return (lon + 180.0) % 360.0 - 180.0


centres = st.one_of(
    st.tuples(st.floats(-90, 90), st.floats(-180, 180)),
    st.tuples(st.sampled_from([90.0, -90.0, 89.95, -89.5, 0.0, 48.8566]),
              st.sampled_from([180.0, -180.0, 179.97, -179.5, 0.0, 2.3522])),
)
offsets = st.lists(st.tuples(st.floats(-4, 4), st.floats(-8, 8)), min_size=1, max_size=150)
spread = st.lists(st.tuples(st.floats(-90, 90), st.floats(-180, 180)), max_size=20)


def events_at(points: list[tuple[float, float]]) -> list[Event]:
    start = TEMPLATE.start_date
    return [
        replace(TEMPLATE, id=i + 1, latitude=lat, longitude=lon,
                start_date=start + timedelta(hours=i % 5),
                end_date=start + timedelta(hours=i % 5 + 1))
        for i, (lat, lon) in enumerate(points)
    ]


@BOTH_PLANS
@given(centre=centres, near=offsets, far=spread, radius=st.one_of(
    st.sampled_from([1.0, 30.0, 100.0, 250.0, 800.0, 3_000.0, 12_000.0, 19_999.0]),
    st.floats(0.5, 20_000)), tie=st.booleans(),
    cell=st.sampled_from([0.1, 0.5, 2.0, 15.0]))
def test_any_circle_equals_brute_force(centre: tuple[float, float],
                                       near: list[tuple[float, float]],
                                       far: list[tuple[float, float]], radius: float,
                                       tie: bool, cell: float, scan_limit: int) -> None:
    """Dense clusters make whole cells fall inside the circle; ``tie`` puts a point exactly on
    it (the radius is that point's distance), which the list includes (``<=``)."""
    lat, lon = centre
    points = [(min(90.0, max(-90.0, lat + d_lat)), _wrap(lon + d_lon)) for d_lat, d_lon in near]
    points += far
    if tie:
        radius = haversine_km(lat, lon, *points[0])
    events = events_at(points)
    catalog = EventCatalog(cell, scan_limit)
    catalog.build(events)
    query = EventQuery(latitude=lat, longitude=lon, distance=radius)
    expected = brute_force(events, query)
    assert catalog.select(query, NOW) == (len(expected), expected)
    assert catalog.select(query, NOW, 2, 3) == (len(expected), expected[2:5])


@given(centre=centres, near=offsets, radius=st.floats(1, 19_000),
       cell=st.sampled_from([0.1, 1.0, 5.0]))
def test_cells_taken_whole_are_inside_the_circle(centre: tuple[float, float],
                                                 near: list[tuple[float, float]],
                                                 radius: float, cell: float) -> None:
    """The property the speed rests on, checked directly: every row of a run taken without a
    distance is well inside the circle, and every row of the box is in exactly one run."""
    lat, lon = centre
    points = [(min(90.0, max(-90.0, lat + d_lat)), _wrap(lon + d_lon)) for d_lat, d_lon in near]
    catalog = EventCatalog(cell)
    catalog.build(events_at(points))
    inside, edge = catalog._base_runs(lat, lon, radius)
    rows = [row for a, b in inside + edge for row in range(a, b)]
    assert len(rows) == len(set(rows))
    lats, lons = catalog._base["lat"], catalog._base["lon"]
    for a, b in inside:
        for row in range(a, b):
            assert haversine_km(lat, lon, lats[row], lons[row]) <= radius - 0.0005
    covered = set(rows)
    for row in range(catalog._base.size):
        if row not in covered:
            assert haversine_km(lat, lon, lats[row], lons[row]) > radius


def test_a_dense_city_is_mostly_taken_whole() -> None:
    """Around a packed centre, the rows that need a distance are a small part of the circle's:
    the reason the list stays fast at Paris's density (a fifth of a million events)."""
    rows = [(48.8566 + (i % 61 - 30) * 0.004, 2.3522 + (i // 61 - 30) * 0.006)
            for i in range(61 * 61)]
    catalog = EventCatalog()
    catalog.build(events_at(rows))
    inside, edge = catalog._base_runs(48.8566, 2.3522, 100)
    taken_whole = sum(b - a for a, b in inside)
    assert taken_whole == len(rows)  # the cluster spans 27 x 27 km, deep inside 100 km
    assert edge == []


@pytest.mark.parametrize("lat", [90.0, -90.0])
def test_a_circle_around_a_pole_takes_its_cap_whole(lat: float) -> None:
    # A point in every cell of the last two bands: the cap's cells are inside, the rest of
    # the bands (every longitude, as the box covers the pole) on the edge, none in both.
    points = [(math.copysign(88.05 + (i % 19) / 10, lat), -179.5 + i % 360) for i in range(720)]
    catalog = EventCatalog(1.0, scan_limit=0)
    catalog.build(events_at(points))
    inside, _edge = catalog._base_runs(lat, 0.0, 400)
    assert sum(b - a for a, b in inside) > 0
    query = EventQuery(latitude=lat, longitude=0.0, distance=400)
    expected = brute_force(events_at(points), query)
    assert catalog.select(query, NOW) == (len(expected), expected)


def test_a_far_crowd_leaves_a_small_circle_scanned() -> None:
    """The default data plus tens of thousands of events on the other side of the world (what
    a load test's creates leave): the circle's latitudes still hold few rows, so the query
    scans them instead of planning cells, and answers what the planned query answers."""
    near = list(FIXTURES.events[:300])
    far = [replace(TEMPLATE, id=10_000 + i, latitude=-44.0 + (i % 100) / 100,
                   longitude=-121.0 + (i // 100) / 100) for i in range(25_000)]
    scanned, planned = catalog_of(near + far), catalog_of(near + far, scan_limit=0)
    query = EventQuery(latitude=50.6292, longitude=3.0573, distance=100)
    start, stop = scanned._band_rows(query.latitude, query.distance)
    assert stop - start < 300 < SCAN_LIMIT < len(scanned)
    expected = brute_force(near + far, query)
    assert expected
    assert scanned.select(query, NOW, 0, 25) == planned.select(query, NOW, 0, 25) == (
        len(expected), expected[:25])
