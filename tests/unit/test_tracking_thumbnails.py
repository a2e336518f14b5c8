"""Generated map thumbnails: real PNGs, small, deterministic, cached."""

from __future__ import annotations

import io
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from mock_server.domain.tracking.thumbnails import _render, render_track_map
from mock_server.domain.tracking.uploads import THUMBNAIL_RECOMMENDED_BYTES
from mock_server.seed import build_activities

TRACK = [(50.74 + 0.01 * math.sin(t / 3), 3.23 + 0.015 * math.cos(t / 3)) for t in range(18)]


def open_png(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_the_map_is_a_png_under_the_recommended_thumbnail_size() -> None:
    data = render_track_map(TRACK)
    image = open_png(data)
    assert (image.format, image.size) == ("PNG", (256, 256))
    assert len(data) < THUMBNAIL_RECOMMENDED_BYTES


def test_start_and_end_markers_are_drawn_in_green_and_red() -> None:
    counts = open_png(render_track_map(TRACK)).convert("RGB").getcolors(4096)
    assert counts is not None
    colours: set[tuple[int, int, int]] = {c for _, c in counts}  # type: ignore[misc]
    assert any(g > 140 and r < 80 and b < 100 for r, g, b in colours), "green start marker"
    assert any(r > 180 and g < 60 and b < 70 for r, g, b in colours), "red end marker"
    assert any(b > 180 and r < 30 for r, g, b in colours), "blue track"


def test_the_same_track_gives_the_same_bytes_even_after_the_cache_is_cleared() -> None:
    first = render_track_map(TRACK)
    _render.cache_clear()
    assert render_track_map(TRACK) == first
    assert render_track_map([(lat, lon) for lat, lon in TRACK]) == first


def test_a_repeated_request_is_served_from_the_cache() -> None:
    render_track_map(TRACK)
    hits = _render.cache_info().hits
    assert render_track_map(list(TRACK)) is render_track_map(TRACK)
    assert _render.cache_info().hits >= hits + 2


def test_different_tracks_give_different_maps() -> None:
    assert render_track_map(TRACK) != render_track_map(TRACK[::-1])


@pytest.mark.parametrize("points", [[], [(50.0, 3.0)], [(50.0, 3.0), (50.0, 3.0)]])
def test_degenerate_tracks_still_give_a_map(points: list[tuple[float, float]]) -> None:
    assert open_png(render_track_map(points)).size == (256, 256)


def test_the_size_can_be_chosen_within_bounds() -> None:
    assert open_png(render_track_map(TRACK, size=(120, 80))).size == (120, 80)
    with pytest.raises(ValueError):
        render_track_map(TRACK, size=(8, 8))
    with pytest.raises(ValueError):
        render_track_map(TRACK, size=(5000, 256))


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_coordinates_are_refused(bad: float) -> None:
    with pytest.raises(ValueError):
        render_track_map([(50.0, 3.0), (bad, 3.0)])


def test_every_fixture_activity_has_a_small_valid_map() -> None:
    users = [("a", 50.63, 3.06), ("b", 45.92, 6.87)]
    for activity in build_activities(3, users, per_user=4):
        data = render_track_map(activity.track_points())
        assert open_png(data).format == "PNG"
        assert len(data) < 20 * 1024


@given(
    points=st.lists(
        st.tuples(st.floats(min_value=-85, max_value=85), st.floats(min_value=-180, max_value=180)),
        max_size=30,
    )
)
def test_any_track_gives_a_valid_small_png(points: list[tuple[float, float]]) -> None:
    data = render_track_map(points)
    assert open_png(data).size == (256, 256)
    assert len(data) < THUMBNAIL_RECOMMENDED_BYTES
