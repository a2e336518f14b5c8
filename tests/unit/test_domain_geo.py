"""Great-circle distance and the grid index: the index must answer exactly like brute force."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_server.domain.geo import HALF_CIRCUMFERENCE_KM, GeoIndex, haversine_km

LILLE = (50.6292, 3.0573)
PARIS = (48.8566, 2.3522)


def brute_force(points: dict[int, tuple[float, float]], lat: float, lon: float, km: float) -> set:
    return {i for i, (p_lat, p_lon) in points.items() if haversine_km(lat, lon, p_lat, p_lon) <= km}


def test_haversine_known_distances() -> None:
    assert haversine_km(*LILLE, *LILLE) == 0.0
    assert haversine_km(*LILLE, *PARIS) == pytest.approx(204, abs=1.5)
    assert haversine_km(0, 0, 0, 180) == pytest.approx(HALF_CIRCUMFERENCE_KM)
    assert haversine_km(90, 0, -90, 0) == pytest.approx(HALF_CIRCUMFERENCE_KM)
    # Across the antimeridian the short way round, not the long one.
    assert haversine_km(0, 179.5, 0, -179.5) == pytest.approx(111.2, abs=0.1)
    # Every meridian meets at the pole.
    assert haversine_km(90, 0, 90, 123) == pytest.approx(0, abs=1e-9)


def test_query_finds_points_within_radius_only() -> None:
    index = GeoIndex()
    index.add(1, *LILLE)
    index.add(2, *PARIS)
    assert sorted(index.query(*LILLE, 100)) == [1]
    assert sorted(index.query(*LILLE, 250)) == [1, 2]
    assert index.query(*LILLE, -1) == []
    assert sorted(index.query(0, 0, HALF_CIRCUMFERENCE_KM)) == [1, 2]


def test_query_includes_a_point_exactly_on_the_circle() -> None:
    index = GeoIndex()
    index.add(1, *PARIS)
    assert index.query(*LILLE, haversine_km(*LILLE, *PARIS)) == [1]


def test_query_across_the_antimeridian_and_over_a_pole() -> None:
    index = GeoIndex()
    index.add(1, 10.0, 179.9)
    index.add(2, 10.0, -179.9)
    index.add(3, 89.9, 0.0)
    index.add(4, 89.9, 180.0)
    index.add(5, -89.99, 45.0)
    assert sorted(index.query(10.0, 180.0, 50)) == [1, 2]
    assert sorted(index.query(10.0, -180.0, 50)) == [1, 2]
    assert sorted(index.query(90.0, 0.0, 20)) == [3, 4]
    assert sorted(index.query(-90.0, -120.0, 5)) == [5]


def test_remove_and_move() -> None:
    index = GeoIndex()
    index.add(1, *LILLE)
    index.add(2, *LILLE)
    index.move(1, *LILLE, *PARIS)
    assert sorted(index.query(*LILLE, 10)) == [2]
    assert sorted(index.query(*PARIS, 10)) == [1]
    index.remove(2, *LILLE)
    assert index.query(*LILLE, 10) == []
    assert len(index) == 1
    with pytest.raises(KeyError):
        index.remove(2, *LILLE)
    with pytest.raises(KeyError):
        index.remove(1, *LILLE)


def test_bulk_add_then_single_changes() -> None:
    index = GeoIndex()
    spots = {i: 50.6 + i * 1e-3 for i in range(100)}
    index.add_many([(i, lat, 3.05) for i, lat in spots.items()])
    index.add(100, 50.65, 3.05)
    index.remove(10, spots[10], 3.05)
    index.move(20, spots[20], 3.05, 50.6005, 3.05)
    assert len(index) == 100
    near = set(index.query(50.6, 3.05, 0.1))
    assert near == {0, 20}
    assert 10 not in index.query(50.61, 3.05, 0.5)
    assert 100 in index.query(50.65, 3.05, 0.01)


def test_copy_is_independent() -> None:
    index = GeoIndex()
    index.add(1, *LILLE)
    twin = index.copy()
    index.remove(1, *LILLE)
    assert twin.query(*LILLE, 1) == [1]
    assert index.query(*LILLE, 1) == []


@pytest.mark.parametrize("point", [(90.1, 0), (-91, 0), (0, 180.5), (0, -181), (math.nan, 0)])
def test_out_of_range_coordinates_are_refused(point: tuple[float, float]) -> None:
    with pytest.raises(ValueError):
        GeoIndex().add(1, *point)
    with pytest.raises(ValueError):
        GeoIndex().query(*point, 10)


def test_dense_cluster_uses_whole_cells_and_stays_exact() -> None:
    """Thousands of points around Lille: many cells are taken whole, the answer is unchanged."""
    index = GeoIndex()
    points = {}
    for i in range(4000):
        lat = 49.5 + (i % 80) * 0.03
        lon = 1.5 + (i // 80) * 0.06
        points[i] = (lat, lon)
        index.add(i, lat, lon)
    for radius in (5, 60, 100, 150):
        assert set(index.query(*LILLE, radius)) == brute_force(points, *LILLE, radius)


latitudes = st.one_of(
    st.floats(-90, 90),
    st.floats(85, 90),
    st.floats(-90, -85),
    st.sampled_from([-90.0, 90.0, 0.0]),
)
longitudes = st.one_of(
    st.floats(-180, 180),
    st.floats(170, 180),
    st.floats(-180, -170),
    st.sampled_from([-180.0, 180.0, 0.0]),
)
points = st.tuples(latitudes, longitudes)
radii = st.one_of(st.floats(0, 500), st.floats(0, 21_000), st.sampled_from([0.0, 100.0]))


@given(
    spots=st.lists(points, min_size=0, max_size=60),
    center=points,
    radius=radii,
    cell=st.sampled_from([0.1, 0.5, 5.0, 30.0]),
)
def test_query_equals_brute_force(
    spots: list[tuple[float, float]], center: tuple[float, float], radius: float, cell: float
) -> None:
    table = dict(enumerate(spots))
    one_by_one = GeoIndex(cell)
    for i, (lat, lon) in table.items():
        one_by_one.add(i, lat, lon)
    in_bulk = GeoIndex(cell)
    in_bulk.add_many((i, lat, lon) for i, (lat, lon) in table.items())
    expected = brute_force(table, *center, radius)
    for index in (one_by_one, in_bulk):
        found = index.query(*center, radius)
        assert len(found) == len(set(found))
        assert set(found) == expected


@given(center=points, offsets=st.lists(st.tuples(st.floats(-3, 3), st.floats(-3, 3)), max_size=80))
def test_query_equals_brute_force_for_clusters(
    center: tuple[float, float], offsets: list[tuple[float, float]]
) -> None:
    """Points clustered around the centre, so whole-cell acceptance is exercised near edges."""
    index = GeoIndex()
    table = {}
    for i, (d_lat, d_lon) in enumerate(offsets):
        lat = max(-90.0, min(90.0, center[0] + d_lat))
        lon = (center[1] + d_lon + 180.0) % 360.0 - 180.0
        table[i] = (lat, lon)
        index.add(i, lat, lon)
    for radius in (10.0, 120.0, 400.0):
        assert set(index.query(*center, radius)) == brute_force(table, *center, radius)
