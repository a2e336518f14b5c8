"""Tracking activities: fixture shape and determinism, list, update rules, state."""

from __future__ import annotations

import json
import math
import re
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_server.domain.clock import VirtualClock
from mock_server.domain.errors import Forbidden, NotFound, RuleViolation
from mock_server.domain.tracking.activities import (
    MAX_IMAGES,
    ActivityForbidden,
    ActivityNotFound,
    ActivityRejected,
    TrackingActivities,
)
from mock_server.domain.tracking.paths import thumbnail_path
from mock_server.domain.tracking.referentials import DATATYPES, activity_label
from mock_server.seed import FIXTURE_SPORTS, build_activities
from mock_server.state.memory_tracking import InMemoryActivityStore

USERS = [
    ("820d0aa7013969", 50.741407, 3.237637),  # Lille area, like the documented example
    ("u-paris", 48.8566, 2.3522),
    ("u-chamonix", 45.9237, 6.8694),
]
BASE = "http://localhost:8000"
REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference"
# Keys of the documented example, in its order, without the JSON-LD "@" keys.
EXAMPLE_KEYS = [
    "id", "name", "user", "sport", "userDevice", "startdate", "duration", "latitude",
    "longitude", "elevation", "manual", "comment", "connector", "userSession",
    "correctedElevation", "images", "thumbnail", "dataSummaries", "trackFlag", "datastreamFlag",
    "globalChallenge", "availableDatatypes", "createdAt", "updatedAt", "datastream",
    "locations", "tags",
]  # fmt: skip
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00")
PHOTO = "https://example.com/2caf4b77b497b64bef1c3ba2b1d0744f25db3ce3"


def store(clock: VirtualClock | None = None, per_user: int = 4) -> TrackingActivities:
    return TrackingActivities(InMemoryActivityStore(build_activities(7, USERS, per_user)), clock)


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    x = math.radians(lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    return 6_371_000 * math.hypot(x, math.radians(lat2 - lat1))


# --- fixtures ------------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_activities() -> None:
    first = [a.to_json(BASE) for a in build_activities(7, USERS)]
    second = [a.to_json(BASE) for a in build_activities(7, USERS)]
    assert first == second
    assert first != [a.to_json(BASE) for a in build_activities(8, USERS)]


def test_adding_a_user_does_not_change_the_others_activities() -> None:
    alone = [a.to_json(BASE) for a in build_activities(7, USERS[:1])]
    together = [a.to_json(BASE) for a in build_activities(7, USERS) if a.user_id == USERS[0][0]]
    assert alone == together


def test_each_user_gets_per_user_activities_with_unique_ids() -> None:
    activities = build_activities(7, USERS, per_user=5)
    assert len(activities) == 15
    assert len({a.id for a in activities}) == 15
    assert build_activities(7, USERS, per_user=0) == []


def test_an_activity_has_the_documented_keys_and_formats() -> None:
    activity = build_activities(7, USERS)[0]
    body = activity.to_json(BASE)
    assert list(body) == EXAMPLE_KEYS
    assert re.fullmatch(r"eu2[0-9a-f]{17}", body["id"])
    assert body["user"] == f"/v2/users/{activity.user_id}"
    assert re.fullmatch(r"/v2/sports/\d+", body["sport"])
    assert int(body["sport"].rsplit("/", 1)[1]) in FIXTURE_SPORTS
    assert body["name"] == (
        f"{activity_label(activity.sport_id)} {body['startdate'][:10]} {body['startdate'][11:16]}"
    )
    for key in ("startdate", "createdAt", "updatedAt"):
        assert TIMESTAMP.fullmatch(body[key]), key
    assert body["createdAt"] <= body["updatedAt"]
    assert (body["userDevice"], body["comment"], body["connector"]) == (None, None, None)
    assert (body["images"], body["tags"], body["trackFlag"]) == ([], [], True)
    assert not any(key.startswith("@") for key in body)
    json.dumps(body, allow_nan=False)


def test_the_default_thumbnail_is_the_generated_map_on_the_mocks_host() -> None:
    activity = build_activities(7, USERS)[0]
    path = f"/thumbnails/{activity.user_id}/maps/{activity.id}.png"
    assert activity.thumbnail == path == thumbnail_path(activity.user_id, activity.id)
    assert activity.to_json("http://localhost:8000")["thumbnail"] == "http://localhost:8000" + path
    assert activity.to_json("http://127.0.0.1:9/")["thumbnail"] == "http://127.0.0.1:9" + path


def test_a_user_id_is_encoded_as_one_path_segment_of_the_thumbnail() -> None:
    assert thumbnail_path("a/b c", "eu2") == "/thumbnails/a%2Fb%20c/maps/eu2.png"


def test_datastream_and_locations_are_short_and_consistent() -> None:
    for activity in build_activities(7, USERS, per_user=6):
        seconds = [int(s) for s in activity.datastream]
        assert list(activity.locations) == list(activity.datastream)
        assert 12 <= len(seconds) <= 20
        assert seconds == sorted(set(seconds))
        assert seconds[0] == 0 and seconds[-1] == activity.duration
        summaries = activity.data_summaries
        assert summaries["24"] == activity.duration
        assert summaries["5"] == round(activity.datastream[str(seconds[-1])]["5"])
        assert summaries["16"] <= summaries["15"]
        keys = {int(k) for k in summaries} | {
            int(k) for p in activity.datastream.values() for k in p
        }
        assert sorted(keys) == activity.available_datatypes
        assert set(activity.available_datatypes) <= set(DATATYPES)


def test_tracks_are_loops_near_the_users_location() -> None:
    homes = {user: (lat, lon) for user, lat, lon in USERS}
    for activity in build_activities(7, USERS, per_user=6):
        home = homes[activity.user_id]
        points = activity.track_points()
        assert (activity.latitude, activity.longitude) == points[0]
        assert distance_m(*home, *points[0]) < 500
        travelled = [p["5"] for p in activity.datastream.values()]
        for point, along_the_track in zip(points, travelled, strict=True):
            assert distance_m(*points[0], *point) <= along_the_track * 1.01 + 1
        start_to_end = distance_m(*points[0], *points[-1])
        assert start_to_end < 0.15 * activity.data_summaries["5"]  # it comes back


def test_the_json_of_an_activity_stays_small() -> None:
    for activity in build_activities(7, USERS, per_user=6):
        assert len(json.dumps(activity.to_json(BASE))) < 6_000


def test_without_details_datastream_and_locations_are_left_out() -> None:
    body = build_activities(7, USERS)[0].to_json(BASE, details=False)
    assert "datastream" not in body and "locations" not in body
    assert list(body)[-1] == "tags"


@pytest.mark.skipif(not REFERENCE.is_dir(), reason="shared/reference is not next to the repo")
def test_the_keys_match_the_documented_example() -> None:
    example = json.loads((REFERENCE / "sportstrackingdata-activity-example.json").read_text())
    assert [k for k in example["example"] if not k.startswith("@")] == EXAMPLE_KEYS


@given(
    seed=st.integers(min_value=0, max_value=2**32),
    latitude=st.floats(min_value=-70, max_value=70),
    longitude=st.floats(min_value=-179, max_value=179),
)
def test_any_seed_and_place_give_valid_deterministic_activities(
    seed: int, latitude: float, longitude: float
) -> None:
    users = [("someone", latitude, longitude)]
    first = [a.to_json(BASE) for a in build_activities(seed, users, per_user=2)]
    assert first == [a.to_json(BASE) for a in build_activities(seed, users, per_user=2)]
    for body in first:
        json.dumps(body, allow_nan=False)
        assert all(-90 <= p["latitude"] <= 90 for p in body["locations"].values())


# --- reading -------------------------------------------------------------------------------


def test_get_answers_a_copy_for_the_owner() -> None:
    activities = store()
    token = activities.list_for_user(USERS[0][0])[0].id
    got = activities.get(token, USERS[0][0])
    got.images.append(PHOTO)
    assert activities.get(token).images == []


def test_get_of_an_unknown_token_is_not_found_and_of_anothers_is_forbidden() -> None:
    activities = store()
    token = activities.list_for_user(USERS[0][0])[0].id
    with pytest.raises(ActivityNotFound) as missing:
        activities.get("eu2" + "0" * 17)
    assert missing.value.status == 404 and isinstance(missing.value, NotFound)
    with pytest.raises(ActivityForbidden) as forbidden:
        activities.get(token, USERS[1][0])
    assert forbidden.value.status == 403 and isinstance(forbidden.value, Forbidden)


def test_list_is_the_users_own_newest_first_30_per_page() -> None:
    activities = store(per_user=70)
    user = USERS[1][0]
    pages = [activities.list_for_user(user, page) for page in (1, 2, 3, 4)]
    assert [len(p) for p in pages] == [30, 30, 10, 0]
    listed = [a for page in pages for a in page]
    assert {a.user_id for a in listed} == {user}
    assert [(a.startdate, a.id) for a in listed] == sorted(
        ((a.startdate, a.id) for a in listed), reverse=True
    )
    assert activities.count_for_user(user) == 70
    assert activities.list_for_user("nobody") == []
    assert len(activities.list_for_user(user, 2, per_page=50)) == 20
    with pytest.raises(ValueError):
        activities.list_for_user(user, 0)


# --- updating ------------------------------------------------------------------------------


def test_update_of_unknown_or_anothers_activity_is_refused() -> None:
    activities = store()
    token = activities.list_for_user(USERS[0][0])[0].id
    with pytest.raises(ActivityNotFound):
        activities.update("eu2" + "f" * 17, USERS[0][0], images=[PHOTO])
    with pytest.raises(ActivityForbidden):
        activities.update(token, USERS[1][0], images=[PHOTO])
    assert activities.get(token).images == []


def test_images_replace_the_whole_list() -> None:
    activities = store()
    user = USERS[0][0]
    token = activities.list_for_user(user)[0].id
    activities.update(token, user, images=[PHOTO])
    updated = activities.update(token, user, images=[PHOTO + "1", PHOTO + "2"])
    assert updated.images == [PHOTO + "1", PHOTO + "2"]
    assert activities.update(token, user, images=[]).images == []


def test_update_sets_updated_at_from_the_clock_and_keeps_created_at() -> None:
    clock = VirtualClock(datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC))
    activities = store(clock)
    user = USERS[0][0]
    before = activities.list_for_user(user)[0]
    after = activities.update(before.id, user, thumbnail=PHOTO)
    assert after.updated_at == datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
    assert after.created_at == before.created_at
    assert after.to_json(BASE)["updatedAt"] == "2026-03-01T12:00:00+00:00"
    clock.advance(timedelta(hours=1))
    assert activities.update(before.id, user).updated_at == after.updated_at  # nothing changed


def test_a_replaced_thumbnail_stays_in_the_history_and_its_map_servable() -> None:
    activities = store()
    user = USERS[0][0]
    original = activities.list_for_user(user)[0]
    generated = original.thumbnail
    activities.update(original.id, user, thumbnail=PHOTO)
    activities.update(original.id, user, thumbnail=PHOTO)  # same again: no duplicate
    current = activities.update(original.id, user, thumbnail=PHOTO + "b")
    assert current.to_json(BASE)["thumbnail"] == PHOTO + "b"
    assert activities.thumbnail_history(original.id) == [generated, PHOTO]
    assert activities.map_track(user, original.id) == original.track_points()
    assert activities.map_track(USERS[1][0], original.id) is None
    assert activities.map_track(user, "eu2" + "0" * 17) is None


@pytest.mark.parametrize(
    ("images", "thumbnail", "field"),
    [
        (["not a url"], None, "images[0]"),
        ([PHOTO, "ftp://example.com/x"], None, "images[1]"),
        ([PHOTO, 42], None, "images[1]"),
        ([PHOTO] * (MAX_IMAGES + 1), None, "images"),
        ("https://example.com/a", None, "images"),
        (None, "", "thumbnail"),
        (None, "https://example.com/" + "x" * 2048, "thumbnail"),
        (None, "https://exa mple.com/", "thumbnail"),
        ([PHOTO], "/relative/path.png", "thumbnail"),
    ],
)
def test_unusable_values_are_rejected_naming_the_field_and_change_nothing(
    images: object, thumbnail: object, field: str
) -> None:
    activities = store()
    user = USERS[0][0]
    before = activities.list_for_user(user)[0]
    with pytest.raises(ActivityRejected) as caught:
        activities.update(before.id, user, images=images, thumbnail=thumbnail)  # type: ignore[arg-type]
    assert isinstance(caught.value, RuleViolation) and caught.value.status == 422
    assert caught.value.field == field
    assert caught.value.errors == {field: [caught.value.message]}
    assert activities.get(before.id) == before


def test_delete_removes_the_callers_activity_only() -> None:
    activities = store()
    user = USERS[0][0]
    token = activities.list_for_user(user)[0].id
    with pytest.raises(ActivityForbidden):
        activities.delete(token, USERS[1][0])
    activities.delete(token, user)
    with pytest.raises(ActivityNotFound):
        activities.get(token)
    with pytest.raises(ActivityNotFound):
        activities.delete(token, user)
    assert activities.map_track(user, token) is None


def test_twenty_concurrent_thumbnail_changes_keep_a_complete_history() -> None:
    activities = store()
    user = USERS[0][0]
    activity = activities.list_for_user(user)[0]
    urls = [f"{PHOTO}?v={i}" for i in range(20)]
    barrier = threading.Barrier(len(urls))

    def change(url: str) -> None:
        barrier.wait()
        activities.update(activity.id, user, thumbnail=url)

    threads = [threading.Thread(target=change, args=(url,)) for url in urls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    history = activities.thumbnail_history(activity.id)
    current = activities.get(activity.id).thumbnail
    assert len(history) == 20
    assert history[0] == activity.thumbnail
    assert current is not None
    assert sorted([*history[1:], current]) == sorted(urls)


# --- state ---------------------------------------------------------------------------------


def test_reset_returns_to_the_fixtures_and_forgets_the_history() -> None:
    activities = store()
    user = USERS[0][0]
    token = activities.list_for_user(user)[0].id
    pristine = activities.store.export_state()
    activities.update(token, user, images=[PHOTO], thumbnail=PHOTO)
    activities.delete(activities.list_for_user(user)[1].id, user)
    activities.store.reset()
    assert activities.store.export_state() == pristine
    assert activities.thumbnail_history(token) == []


def test_export_import_round_trip_through_json() -> None:
    source = store()
    user = USERS[0][0]
    token = source.list_for_user(user)[0].id
    source.update(token, user, images=[PHOTO], thumbnail=PHOTO)
    snapshot = json.loads(json.dumps(source.store.export_state()))
    target = InMemoryActivityStore()
    target.import_state(snapshot)
    assert target.export_state() == snapshot
    assert target.get(token) == source.get(token)
    assert target.history(token) == source.thumbnail_history(token)
    assert target.count() == len(source) == 12


@pytest.mark.parametrize(
    "breakage",
    [
        {"activities": "nope"},
        {"activities": [{"id": "x"}]},
        {"activities": [], "thumbnail_history": {"eu2" + "0" * 17: ["x"]}},
    ],
)
def test_a_bad_snapshot_is_refused_and_changes_nothing(breakage: dict[str, object]) -> None:
    activities = store()
    pristine = activities.store.export_state()
    with pytest.raises(ValueError):
        activities.store.import_state(breakage)
    assert activities.store.export_state() == pristine


def test_a_snapshot_with_a_tampered_id_is_refused() -> None:
    activities = store()
    snapshot = activities.store.export_state()
    snapshot["activities"][0]["id"] = "../../etc"
    with pytest.raises(ValueError, match="id"):
        activities.store.import_state(snapshot)
