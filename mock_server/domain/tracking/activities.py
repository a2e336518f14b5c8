"""Activities of the Sports Tracking Data mock, shaped like the real service's.

An activity here carries the same fields, in the same order and formats, as the documented
``GET /v2/activities/{id}`` example (``shared/reference/sportstrackingdata-activity-example.json``)
minus the JSON-LD keys, because ``application/json`` answers are plain objects. The seeded
activities a store starts with are made by ``mock_server.seed.tracking``.

Thumbnails are stored as paths on the mock (``/thumbnails/{user}/maps/{id}.png``) and made
absolute only when serialised, so the same state serves whatever host and port the mock runs on.
A replaced thumbnail is remembered: DECISIONS.md promises that a previous thumbnail stays
reachable at its URL.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from mock_server.domain.clock import Clock, SystemClock
from mock_server.domain.errors import Forbidden, NotFound, RuleViolation
from mock_server.domain.ports import ActivityStore
from mock_server.domain.tracking.referentials import sport_iri

__all__ = [
    "DEFAULT_PER_PAGE",
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
    "format_timestamp",
    "parse_timestamp",
]

#: ``GET /v2/activities`` pages hold 30 activities (DECISIONS.md, Tracking).
DEFAULT_PER_PAGE = 30
#: Bounds on ``PUT`` values, as ``openapi.yaml`` declares them (ActivityUpdate, HttpUrl).
MAX_IMAGES = 50
MAX_URL_LENGTH = 2048

_TOKEN = re.compile(r"eu2[0-9a-f]{17}")
# openapi.yaml's HttpUrl pattern: an absolute http(s) URL without whitespace.
_HTTP_URL = re.compile(r"https?://[^\s/$.?#][^\s]*")


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
