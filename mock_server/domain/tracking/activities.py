"""Activities of the Sports Tracking Data mock, shaped like the real service's.

An activity here carries the same fields, in the same order and formats, as the documented
``GET /v2/activities/{id}`` example (``shared/reference/sportstrackingdata-activity-example.json``)
minus the JSON-LD keys, because ``application/json`` answers are plain objects. Fixtures are
generated from a seed so every run (and every test) sees the same users' tracks; the tracks are
short (12 to 20 points) so payloads stay small while maps still look like a run or a ride.

Thumbnails are stored as paths on the mock (``/thumbnails/{user}/maps/{id}.png``) and made
absolute only when serialised, so the same state serves whatever host and port the mock runs on.
A replaced thumbnail is remembered: DECISIONS.md promises that a previous thumbnail stays
reachable at its URL.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from mock_server.domain.clock import Clock, SystemClock
from mock_server.domain.errors import Forbidden, NotFound, RuleViolation
from mock_server.domain.ports import ActivityStore
from mock_server.domain.tracking.paths import thumbnail_path
from mock_server.domain.tracking.referentials import activity_label, sport_iri

__all__ = [
    "DEFAULT_PER_PAGE",
    "FIXTURE_ANCHOR",
    "FIXTURE_SPORTS",
    "MAX_IMAGES",
    "MAX_URL_LENGTH",
    "ActivityForbidden",
    "ActivityNotFound",
    "ActivityRejected",
    "TrackingActivities",
    "TrackingActivity",
    "activities_from_snapshot",
    "activities_to_snapshot",
    "activity_from_state",
    "activity_to_state",
    "build_activities",
    "format_timestamp",
    "parse_timestamp",
]

#: ``GET /v2/activities`` pages hold 30 activities (DECISIONS.md, Tracking).
DEFAULT_PER_PAGE = 30
#: Fixtures date back from this instant, not from "now", so a seed always gives the same data.
FIXTURE_ANCHOR = datetime(2025, 1, 15, 18, 0, 0, tzinfo=UTC)
#: Sports fixtures are drawn from: running, bicycle, walking, hiking, trail, mountain biking.
FIXTURE_SPORTS: tuple[int, ...] = (121, 381, 113, 168, 126, 388)
#: Bounds on ``PUT`` values, as ``openapi.yaml`` declares them (ActivityUpdate, HttpUrl).
MAX_IMAGES = 50
MAX_URL_LENGTH = 2048

_TOKEN = re.compile(r"eu2[0-9a-f]{17}")
# openapi.yaml's HttpUrl pattern: an absolute http(s) URL without whitespace.
_HTTP_URL = re.compile(r"https?://[^\s/$.?#][^\s]*")
_EARTH_RADIUS_M = 6_371_008.8


class ActivityNotFound(NotFound):
    """No activity has this token (404)."""

    def __init__(self, token: str) -> None:
        super().__init__(f"No activity {token!r}.")
        self.token = token


class ActivityForbidden(Forbidden):
    """The activity exists but belongs to another user (403)."""

    def __init__(self, token: str) -> None:
        super().__init__(f"Activity {token!r} belongs to another user.")
        self.token = token


class ActivityRejected(RuleViolation):
    """A value sent to update an activity is unusable (422, ``errors`` names the field)."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message, {field_name: [message]})
        self.field = field_name


def format_timestamp(moment: datetime) -> str:
    """The service's timestamp form, ``2019-02-12T14:07:33+00:00`` (UTC, whole seconds)."""
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def parse_timestamp(text: str) -> datetime:
    """Inverse of ``format_timestamp`` (accepts any ISO 8601 offset), as an aware datetime."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"timestamp without an offset: {text!r}")
    return moment.astimezone(UTC)


@dataclass
class TrackingActivity:
    """One activity, in Python names; ``to_json`` gives the service's field names."""

    id: str
    name: str | None
    user_id: str
    sport_id: int
    startdate: datetime
    duration: int
    latitude: float | None
    longitude: float | None
    elevation: float | None
    created_at: datetime
    updated_at: datetime
    manual: bool = False
    comment: str | None = None
    connector: str | None = None
    user_session: str | None = None
    user_device: str | None = None
    corrected_elevation: bool = False
    images: list[str] = field(default_factory=list)
    thumbnail: str | None = None
    data_summaries: dict[str, int | float] = field(default_factory=dict)
    track_flag: bool = False
    datastream_flag: bool = False
    global_challenge: str | None = None
    available_datatypes: list[int] = field(default_factory=list)
    datastream: dict[str, dict[str, int | float]] = field(default_factory=dict)
    locations: dict[str, dict[str, float]] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)

    def __deepcopy__(self, memo: dict[int, Any]) -> TrackingActivity:
        """What ``copy.deepcopy`` gives, ten times faster: every container holds immutable
        scalars or dicts of them, so one level of copying suffices (the store copies on every
        read and reset, and the fixtures' copies were a quarter of the mock's start-up)."""
        return dataclasses.replace(
            self,
            images=list(self.images),
            data_summaries=dict(self.data_summaries),
            available_datatypes=list(self.available_datatypes),
            datastream={key: dict(value) for key, value in self.datastream.items()},
            locations={key: dict(value) for key, value in self.locations.items()},
            tags=list(self.tags),
        )

    def track_points(self) -> list[tuple[float, float]]:
        """(latitude, longitude) of the track in time order, for drawing its map."""
        return [
            (point["latitude"], point["longitude"])
            for _, point in sorted(self.locations.items(), key=lambda item: int(item[0]))
        ]

    def to_json(self, base_url: str, *, details: bool = True) -> dict[str, Any]:
        """The activity as the service's ``application/json`` object.

        ``base_url`` is the mock's root (``http://localhost:8000``); paths stored on the mock
        become absolute URLs on it. ``details=False`` leaves out ``datastream`` and
        ``locations``, as the service's ``activity-read`` group (lists, PUT answer) does.
        """
        body: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "user": f"/v2/users/{self.user_id}",
            "sport": sport_iri(self.sport_id),
            "userDevice": self.user_device,
            "startdate": format_timestamp(self.startdate),
            "duration": self.duration,
            "latitude": self.latitude,
            "longitude": self.longitude,
            "elevation": self.elevation,
            "manual": self.manual,
            "comment": self.comment,
            "connector": self.connector,
            "userSession": self.user_session,
            "correctedElevation": self.corrected_elevation,
            "images": [_absolute(base_url, url) for url in self.images],
            "thumbnail": None if self.thumbnail is None else _absolute(base_url, self.thumbnail),
            "dataSummaries": dict(self.data_summaries),
            "trackFlag": self.track_flag,
            "datastreamFlag": self.datastream_flag,
            "globalChallenge": self.global_challenge,
            "availableDatatypes": list(self.available_datatypes),
            "createdAt": format_timestamp(self.created_at),
            "updatedAt": format_timestamp(self.updated_at),
        }
        if details:
            body["datastream"] = copy.deepcopy(self.datastream)
            body["locations"] = copy.deepcopy(self.locations)
        body["tags"] = list(self.tags)
        return body


def _absolute(base_url: str, url: str) -> str:
    """Prefix mock-relative paths (``/...`` but not ``//host``) with the mock's root."""
    if url.startswith("/") and not url.startswith("//"):
        return base_url.rstrip("/") + url
    return url


class TrackingActivities:
    """The tracking API's rules over an ``ActivityStore``: who may read or change what.

    The store (``mock_server.state``) keeps the activities and their thumbnail history and
    hands out copies; these rules decide, and raise the documented errors.
    """

    def __init__(self, store: ActivityStore, clock: Clock | None = None) -> None:
        self.store = store
        self._clock: Clock = clock or SystemClock()

    def __len__(self) -> int:
        return self.store.count()

    def add(self, activity: TrackingActivity) -> None:
        """Store a new activity; a token already in use is a programming error."""
        with self.store.transaction():
            if self.store.get(activity.id) is not None:
                raise ValueError(f"activity {activity.id!r} already exists")
            self.store.put(activity, [])

    def get(self, token: str, caller_user_id: str | None = None) -> TrackingActivity:
        """The activity ``token``; with ``caller_user_id``, only if it is the caller's.

        Raises ``ActivityNotFound`` or ``ActivityForbidden``.
        """
        return self._owned(token, caller_user_id)

    def list_for_user(
        self, user_id: str, page: int = 1, per_page: int = DEFAULT_PER_PAGE
    ) -> list[TrackingActivity]:
        """One page of the user's activities, newest ``startdate`` first (then id, for ties).

        A page past the last one is empty rather than an error, like the other lists.
        """
        if page < 1 or per_page < 1:
            raise ValueError("page and per_page start at 1")
        mine = self.store.of_user(user_id)
        mine.sort(key=lambda a: (a.startdate, a.id), reverse=True)
        start = (page - 1) * per_page
        return mine[start : start + per_page]

    def count_for_user(self, user_id: str) -> int:
        """How many activities the user has (for pagination headers or links)."""
        return len(self.store.of_user(user_id))

    def update(
        self,
        token: str,
        caller_user_id: str,
        images: list[str] | None = None,
        thumbnail: str | None = None,
    ) -> TrackingActivity:
        """Apply ``PUT /v2/activities/{token}``: ``images`` replaces the whole list,
        ``thumbnail`` replaces the thumbnail; ``None`` leaves a field as it is.

        The previous thumbnail goes to the activity's history so its URL stays servable.
        Everything is validated before anything changes. Raises ``ActivityNotFound``,
        ``ActivityForbidden`` or ``ActivityRejected``.
        """
        new_images = None if images is None else _checked_images(images)
        new_thumbnail = None if thumbnail is None else _checked_url("thumbnail", thumbnail)
        with self.store.transaction():
            activity = self._owned(token, caller_user_id)
            history = self.store.history(token)
            if new_images is not None:
                activity.images = new_images
            if new_thumbnail is not None and new_thumbnail != activity.thumbnail:
                if activity.thumbnail is not None and activity.thumbnail not in history:
                    history.append(activity.thumbnail)
                activity.thumbnail = new_thumbnail
            if new_images is not None or new_thumbnail is not None:
                now = self._clock.now().replace(microsecond=0)
                activity.updated_at = max(now, activity.created_at)
                self.store.put(activity, history)
            return activity

    def delete(self, token: str, caller_user_id: str) -> None:
        """Remove the caller's activity (``DELETE /v2/activities/{token}``)."""
        with self.store.transaction():
            self._owned(token, caller_user_id)
            self.store.delete(token)

    def thumbnail_history(self, token: str) -> list[str]:
        """Thumbnails the activity had before its current one, oldest first."""
        if self.store.get(token) is None:
            raise ActivityNotFound(token)
        return self.store.history(token)

    def map_track(self, user_id: str, activity_id: str) -> list[tuple[float, float]] | None:
        """The track to draw for ``/thumbnails/{user_id}/maps/{activity_id}.png``, or ``None``.

        The generated map stays available after the thumbnail is replaced (it is the first
        entry of the history), for as long as the activity exists.
        """
        activity = self.store.get(activity_id)
        if activity is None or activity.user_id != user_id:
            return None
        return activity.track_points()

    def _owned(self, token: str, caller_user_id: str | None) -> TrackingActivity:
        activity = self.store.get(token) if isinstance(token, str) else None
        if activity is None:
            raise ActivityNotFound(str(token))
        if caller_user_id is not None and activity.user_id != caller_user_id:
            raise ActivityForbidden(token)
        return activity


def _checked_url(field_name: str, value: object) -> str:
    """The same rule as openapi.yaml's ``HttpUrl``, so the domain is safe even when called
    without the HTTP layer's validation (admin imports, tests, other entry points)."""
    if not isinstance(value, str):
        raise ActivityRejected(field_name, f"{field_name} must be a string (a URL).")
    if len(value) > MAX_URL_LENGTH:
        raise ActivityRejected(
            field_name, f"{field_name} is longer than {MAX_URL_LENGTH} characters."
        )
    if not _HTTP_URL.fullmatch(value):
        raise ActivityRejected(
            field_name,
            f"{field_name} must be an absolute http(s) URL without spaces, "
            "e.g. https://example.com/2caf4b77b497b64bef1c3ba2b1d0744f25db3ce3.",
        )
    return value


def _checked_images(images: object) -> list[str]:
    if not isinstance(images, list):
        raise ActivityRejected("images", "images must be a list of URLs (send the full list).")
    if len(images) > MAX_IMAGES:
        raise ActivityRejected("images", f"images holds more than {MAX_IMAGES} URLs.")
    return [_checked_url(f"images[{i}]", url) for i, url in enumerate(images)]


# --- snapshots: the codec every store and the admin export use ------------------------------

_TIMESTAMP_FIELDS = ("startdate", "created_at", "updated_at")


def activity_to_state(activity: TrackingActivity) -> dict[str, Any]:
    """An activity as JSON-ready data (Python field names, timestamps as text)."""
    state = copy.deepcopy(vars(activity))
    for name in _TIMESTAMP_FIELDS:
        state[name] = format_timestamp(state[name])
    return state


def activity_from_state(entry: object) -> TrackingActivity:
    """Inverse of ``activity_to_state``; ``ValueError`` naming what is wrong."""
    if not isinstance(entry, dict):
        raise ValueError("each activity in a snapshot must be an object")
    values = copy.deepcopy(entry)
    try:
        for name in _TIMESTAMP_FIELDS:
            values[name] = parse_timestamp(values[name])
        activity = TrackingActivity(**values)
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"bad activity in snapshot: {error}") from None
    if not _TOKEN.fullmatch(activity.id):
        raise ValueError(f"bad activity id in snapshot: {activity.id!r}")
    if not isinstance(activity.user_id, str) or not activity.user_id:
        raise ValueError(f"activity {activity.id!r} has no user")
    if not isinstance(activity.sport_id, int):
        raise ValueError(f"activity {activity.id!r} has a non-integer sport")
    return activity


def activities_to_snapshot(activities: Iterable[TrackingActivity],
                           history: Mapping[str, list[str]]) -> dict[str, Any]:
    """``{"activities": [...], "thumbnail_history": {...}}``, the export document's part."""
    return {
        "activities": [activity_to_state(a) for a in activities],
        "thumbnail_history": {k: list(v) for k, v in history.items() if v},
    }


def activities_from_snapshot(
    state: object,
) -> tuple[dict[str, TrackingActivity], dict[str, list[str]]]:
    """Every activity by id and the thumbnail history, checked whole; ``ValueError`` else."""
    if not isinstance(state, dict) or not isinstance(state.get("activities"), list):
        raise ValueError('an activity snapshot is {"activities": [...], ...}')
    by_id: dict[str, TrackingActivity] = {}
    for entry in state["activities"]:
        activity = activity_from_state(entry)
        if activity.id in by_id:
            raise ValueError(f"activity {activity.id!r} appears twice")
        by_id[activity.id] = activity
    raw_history = state.get("thumbnail_history", {})
    if not isinstance(raw_history, dict):
        raise ValueError("thumbnail_history must be an object")
    history: dict[str, list[str]] = {}
    for token, urls in raw_history.items():
        if token not in by_id:
            raise ValueError(f"thumbnail history of unknown activity {token!r}")
        if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
            raise ValueError(f"thumbnail history of {token!r} must be a list of strings")
        history[token] = list(urls)
    return by_id, history


# --- fixtures ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _SportProfile:
    distance_m: tuple[float, float]
    speed_mps: tuple[float, float]
    heart_rate: tuple[int, int]
    cadence: tuple[int, int] | None  # steps/min, only for sports on foot
    elevation_swing_m: tuple[float, float]
    kcal_per_km: float


_PROFILES: dict[int, _SportProfile] = {
    121: _SportProfile((5_000, 15_000), (2.7, 3.6), (140, 165), (160, 180), (8, 40), 65),
    381: _SportProfile((15_000, 45_000), (5.0, 7.5), (115, 140), None, (15, 80), 32),
    113: _SportProfile((3_000, 8_000), (1.2, 1.5), (90, 110), (100, 120), (5, 20), 50),
    168: _SportProfile((8_000, 20_000), (0.9, 1.3), (105, 130), (90, 110), (80, 350), 60),
    126: _SportProfile((8_000, 25_000), (2.0, 3.0), (145, 170), (150, 175), (100, 600), 75),
    388: _SportProfile((15_000, 40_000), (3.5, 5.5), (125, 155), None, (100, 500), 40),
}


def build_activities(
    seed: int | str,
    users: Sequence[tuple[str, float, float]],
    per_user: int = 3,
    *,
    now: datetime = FIXTURE_ANCHOR,
) -> list[TrackingActivity]:
    """``per_user`` plausible activities for each ``(user_id, latitude, longitude)``.

    Each user gets a Random seeded from ``seed`` and their id, so adding a user never changes
    another user's activities. Tracks are loops starting near the user's location.
    """
    if per_user < 0:
        raise ValueError("per_user must be >= 0")
    activities: list[TrackingActivity] = []
    taken: set[str] = set()
    for user_id, latitude, longitude in users:
        rng = random.Random(f"sportstrackingdata:{seed}:{user_id}")
        days_ago = sorted(rng.sample(range(1, 61), k=min(per_user, 60)), reverse=True)
        while len(days_ago) < per_user:  # more than 60: several a day
            days_ago.append(rng.randint(1, 60))
        for days in days_ago:
            activities.append(
                _fixture_activity(rng, user_id, latitude, longitude, now, days, taken)
            )
    return activities


def _fixture_activity(
    rng: random.Random,
    user_id: str,
    home_lat: float,
    home_lon: float,
    now: datetime,
    days_ago: int,
    taken: set[str],
) -> TrackingActivity:
    token = _new_token(rng, taken)
    sport_id = rng.choice(FIXTURE_SPORTS)
    profile = _PROFILES[sport_id]
    start = (now - timedelta(days=days_ago)).replace(
        hour=rng.randint(6, 19), minute=rng.randint(0, 59), second=rng.randint(0, 59)
    )

    track = _loop(rng, home_lat, home_lon, rng.uniform(*profile.distance_m), rng.randint(12, 20))
    base = rng.uniform(5, 300) if profile.elevation_swing_m[1] < 100 else rng.uniform(200, 1200)
    swing = rng.uniform(*profile.elevation_swing_m)
    phase = rng.uniform(0, 2 * math.pi)
    last = len(track) - 1
    elevations = [
        round(base + swing * math.sin(phase + 2 * math.pi * i / last) + rng.uniform(-1, 1), 1)
        for i in range(len(track))
    ]

    speed = rng.uniform(*profile.speed_mps)
    elapsed, distances, speeds = [0], [0.0], [0.0]
    for (lat1, lon1), (lat2, lon2) in zip(track, track[1:], strict=False):
        segment = _haversine_m(lat1, lon1, lat2, lon2)
        segment_speed = speed * rng.uniform(0.85, 1.15)
        distances.append(distances[-1] + segment)
        speeds.append(segment_speed)
        elapsed.append(max(elapsed[-1] + 1, round(elapsed[-1] + segment / segment_speed)))
    duration = elapsed[-1]
    total_m = distances[-1]

    hr_low, hr_high = profile.heart_rate
    heart_rates = [rng.randint(hr_low, hr_high) for _ in track]
    heart_rates[0] = hr_low - rng.randint(10, 25)  # the watch starts before the effort does
    datastream: dict[str, dict[str, int | float]] = {}
    locations: dict[str, dict[str, float]] = {}
    for i, (lat, lon) in enumerate(track):
        second = str(elapsed[i])
        point: dict[str, int | float] = {
            "1": heart_rates[i],
            "5": round(distances[i], 2),
            "6": round(speeds[i] * 3600),
            "14": elevations[i],
        }
        if profile.cadence is not None:
            point["10"] = rng.randint(*profile.cadence) if i else 0
        datastream[second] = dict(sorted(point.items(), key=lambda item: int(item[0])))
        locations[second] = {"latitude": lat, "longitude": lon, "elevation": elevations[i]}

    climbs = [b - a for a, b in zip(elevations, elevations[1:], strict=False)]
    summaries: dict[str, int | float] = {
        "3": max(heart_rates),
        "4": round(sum(heart_rates) / len(heart_rates)),
        "5": round(total_m),
        "7": round(max(speeds) * 3600),
        "9": round(total_m / duration * 3600),
        "15": round(max(elevations)),
        "16": round(min(elevations)),
        "18": round(sum(c for c in climbs if c > 0)),
        "19": round(-sum(c for c in climbs if c < 0)),
        "23": round(profile.kcal_per_km * total_m / 1000 * rng.uniform(0.9, 1.1)),
        "24": duration,
    }
    datatypes = sorted(
        {int(k) for k in summaries} | {int(k) for p in datastream.values() for k in p}
    )
    created = start + timedelta(seconds=duration + rng.randint(60, 3600))
    return TrackingActivity(
        id=token,
        name=f"{activity_label(sport_id)} {start:%Y-%m-%d %H:%M}",
        user_id=user_id,
        sport_id=sport_id,
        startdate=start,
        duration=duration,
        latitude=track[0][0],
        longitude=track[0][1],
        elevation=elevations[0],
        created_at=created,
        updated_at=created + timedelta(seconds=rng.randint(1, 10)),
        manual=False,
        corrected_elevation=rng.random() < 0.7,
        thumbnail=thumbnail_path(user_id, token),
        data_summaries=summaries,
        track_flag=True,
        datastream_flag=True,
        available_datatypes=datatypes,
        datastream=datastream,
        locations=locations,
    )


def _new_token(rng: random.Random, taken: set[str]) -> str:
    """``eu2`` and 17 hex digits, like ``eu2cbe4bbb24082fd9ad``; unique within the fixtures."""
    while True:
        token = f"eu2{rng.getrandbits(68):017x}"
        if token not in taken:
            taken.add(token)
            return token


def _loop(
    rng: random.Random, home_lat: float, home_lon: float, distance_m: float, count: int
) -> list[tuple[float, float]]:
    """``count`` points on a wobbly loop of about ``distance_m`` starting near home.

    The loop's centre lies one radius away from the start in a random direction; the radius
    wobbles smoothly so the shape reads as streets or trails rather than a circle.
    """
    radius = distance_m / (2 * math.pi)
    start_lat = home_lat + _metres_to_lat(rng.uniform(-300, 300))
    start_lon = home_lon + _metres_to_lon(rng.uniform(-300, 300), home_lat)
    heading = rng.uniform(0, 2 * math.pi)  # direction from the start to the centre
    direction = rng.choice((-1, 1))
    lobes, wobble, wobble_phase = rng.randint(2, 4), rng.uniform(0.1, 0.3), rng.uniform(0, 6.3)
    # The watch is stopped a little before the start point, so start and end show apart.
    closed = rng.uniform(0.92, 0.96)
    points: list[tuple[float, float]] = []
    for i in range(count):
        angle = heading + math.pi + direction * 2 * math.pi * closed * i / (count - 1)
        stretch = (
            1
            + wobble * math.sin(lobes * angle + wobble_phase)
            - wobble * math.sin(lobes * (heading + math.pi) + wobble_phase)
        )  # the wobble is zero at the start, so the loop really starts there
        north = radius * (math.sin(heading) + stretch * math.sin(angle))
        east = radius * (math.cos(heading) + stretch * math.cos(angle))
        points.append(
            (
                round(start_lat + _metres_to_lat(north), 7),
                round(start_lon + _metres_to_lon(east, start_lat), 7),
            )
        )
    return points


def _metres_to_lat(metres: float) -> float:
    return math.degrees(metres / _EARTH_RADIUS_M)


def _metres_to_lon(metres: float, latitude: float) -> float:
    return math.degrees(metres / (_EARTH_RADIUS_M * max(math.cos(math.radians(latitude)), 0.01)))


def _haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi, d_lambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * _EARTH_RADIUS_M * math.asin(math.sqrt(a))
