"""Seeded tracking activities (Sports Tracking Data): a few plausible tracks per user.

Fixtures are generated from a seed so every run (and every test) sees the same users' tracks;
the tracks are short (12 to 20 points) so payloads stay small while maps still look like a run
or a ride. What each sport's track looks like (distance, pace, heart rate, cadence, climbing,
calories) is ``fixtures/tables/tracking_sports.json``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Final

from mock_server.domain.geo import EARTH_RADIUS_KM, haversine_km
from mock_server.domain.tracking.activities import TrackingActivity
from mock_server.domain.tracking.paths import thumbnail_path
from mock_server.domain.tracking.referentials import activity_label
from mock_server.seed.fixtures import FixtureSet
from mock_server.seed.tables import LILLE, TABLES, TrackingSportProfile

#: Fixtures date back from this instant, not from "now", so a seed always gives the same data.
FIXTURE_ANCHOR: Final = datetime(2025, 1, 15, 18, 0, 0, tzinfo=UTC)
_PROFILES: Final[dict[int, TrackingSportProfile]] = {
    profile.sport_id: profile for profile in TABLES.tracking_sports
}
#: Sports fixtures are drawn from: running, bicycle, walking, hiking, trail, mountain biking.
FIXTURE_SPORTS: Final[tuple[int, ...]] = tuple(_PROFILES)
_EARTH_RADIUS_M: Final = EARTH_RADIUS_KM * 1000  # exactly the 6_371_008.8 it always was


def fixture_activities(fixtures: FixtureSet, per_user: int = 3) -> list[TrackingActivity]:
    """The tracking activities of a fixture set's users, ``per_user`` each, from the same
    seed; their tracks start in Lille, where the fixtures' world is."""
    return build_activities(fixtures.seed, [(user.id, *LILLE) for user in fixtures.users],
                            per_user)


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
        segment = haversine_km(lat1, lon1, lat2, lon2) * 1000
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
