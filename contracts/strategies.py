"""Hypothesis strategies for the behaviour checks: valid requests a client would send.

Shape checks fuzz the schema; these strategies instead draw *meaningful* inputs (an event
that ends after it starts, a real JPEG container, a query point near where events are) so a
behaviour check exercises the rule it names instead of stopping at validation.

Text is drawn without leading or trailing whitespace: the documents promise nothing about
trimming, and a deployment that trims (as Laravel does by default) must not fail a read-back.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

__all__ = [
    "DATE_FORMAT",
    "EVENT_GROUPS",
    "KNOWN_PLACES",
    "LEVELS",
    "UPLOAD_KINDS",
    "event_bodies",
    "event_body",
    "event_patches",
    "format_date",
    "great_circle_km",
    "jpeg_bytes",
    "listing_filters",
    "query_points",
    "texts",
    "upload_files",
]

DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
LEVELS = (5, 10, 20)
#: Where the documents' examples (and most events of a seeded deployment) are, plus a few
#: places elsewhere in Europe.
KNOWN_PLACES: tuple[tuple[float, float], ...] = (
    (50.6292, 3.0573),  # Lille, the documents' example point
    (50.617922, 3.081998),  # the documented list query
    (50.6456406, 3.1400856),  # the documented created event
    (48.8566, 2.3522),  # Paris
    (45.7640, 4.8357),  # Lyon
    (50.8503, 4.3517),  # Brussels
    (43.2965, 5.3698),  # Marseille
)
#: Fields that must change together to keep an event valid (end after start, min <= max).
EVENT_GROUPS: tuple[tuple[str, ...], ...] = (("start_date", "end_date"), ("age_min", "age_max"))
_EARTH_RADIUS_KM = 6371.0088


def format_date(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(DATE_FORMAT)


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance, the "great-circle distance in kilometres" of the spec."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def texts(*, min_size: int = 1, max_size: int = 60) -> st.SearchStrategy[str]:
    """Printable text with accents and punctuation, no surrounding whitespace."""
    alphabet = st.characters(codec="utf-8", categories=("L", "N", "P", "Zs"))
    return (
        st.text(alphabet, min_size=min_size, max_size=max_size)
        .map(str.strip)
        .filter(lambda text: len(text) >= min_size)
    )


def _optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


@st.composite
def _date_spans(draw: st.DrawFn, now: datetime) -> tuple[str, str]:
    start = now + timedelta(days=draw(st.integers(1, 365)), seconds=draw(st.integers(0, 86399)))
    end = start + timedelta(minutes=draw(st.integers(30, 5 * 24 * 60)))
    return format_date(start), format_date(end)


@st.composite
def _age_ranges(draw: st.DrawFn) -> tuple[int, int]:
    low = draw(st.integers(0, 120))
    return low, draw(st.integers(low, 120))


def _coordinate(value: float) -> float:
    return round(value, 6)


@st.composite
def event_bodies(
    draw: st.DrawFn,
    *,
    near: tuple[float, float] = KNOWN_PLACES[0],
    spread_km: float = 3.0,
    statuses: tuple[str | None, ...] = (None, "PUBLISHED"),
    min_slots: int = 1,
    max_slots: int = 200,
    subscription_disabled: bool | None = False,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A valid `POST /v1/events` body (documented fields, rules of DECISIONS.md respected).

    `statuses` may include `None` (field absent: the event is PUBLISHED by default).
    """
    now = now or datetime.now(UTC)
    start, end = draw(_date_spans(now))
    age_min, age_max = draw(_age_ranges())
    # About 111 km per degree of latitude; longitude degrees shrink with the cosine.
    delta = spread_km / 111.0
    lat = near[0] + draw(st.floats(-delta, delta))
    lon = near[1] + draw(st.floats(-delta, delta)) / max(math.cos(math.radians(near[0])), 0.1)
    body: dict[str, Any] = {
        "title": draw(texts(max_size=80)),
        "description": draw(texts(max_size=300)),
        "start_date": start,
        "end_date": end,
        "publish_date": None,
        "picture": draw(_optional(st.from_regex(r"https://example\.com/p/[0-9a-f]{8}\.jpg",
                                                fullmatch=True))),
        "sport_id": draw(st.integers(1, 1_000_000)),
        "latitude": _coordinate(max(-90.0, min(90.0, lat))),
        "longitude": _coordinate(max(-180.0, min(180.0, lon))),
        "level": draw(st.lists(st.sampled_from(LEVELS), min_size=1, max_size=3, unique=True)),
        "age_min": age_min,
        "age_max": age_max,
        "slots": draw(st.integers(min_slots, max_slots)),
        "owner_message": draw(_optional(texts(max_size=120))),
        "equipment_provided": draw(_optional(texts(max_size=80))),
        "equipment_required": draw(_optional(texts(max_size=80))),
        "equipment_linked": draw(st.lists(st.from_regex(r"[0-9]{6,8}", fullmatch=True),
                                          max_size=3)),
        "subscription_disabled": (draw(st.booleans()) if subscription_disabled is None
                                  else subscription_disabled),
    }
    if draw(st.booleans()):
        body["extra_location"] = draw(_optional(st.fixed_dictionaries({
            "place_id": st.from_regex(r"[A-Za-z0-9_-]{10,27}", fullmatch=True),
            "formatted_address": texts(max_size=80),
        })))
    status = draw(st.sampled_from(statuses))
    if status is not None:
        body["status"] = status
    return body


def event_body(*, near: tuple[float, float], title: str = "Contract check",
               slots: int = 10, now: datetime | None = None) -> dict[str, Any]:
    """One valid `POST /v1/events` body, for checks that need an event but no variety."""
    start = (now or datetime.now(UTC)).replace(microsecond=0) + timedelta(days=30)
    return {
        "title": title, "description": "An event made by the contract kit.",
        "start_date": format_date(start), "end_date": format_date(start + timedelta(hours=2)),
        "sport_id": 121, "latitude": _coordinate(near[0]), "longitude": _coordinate(near[1]),
        "level": [5], "age_min": 10, "age_max": 70, "slots": slots,
    }


@st.composite
def event_patches(draw: st.DrawFn, *, now: datetime | None = None,
                  statuses: tuple[str, ...] = ("PUBLISHED", "PENDING")) -> dict[str, Any]:
    """A valid, non-empty `PATCH /v1/events/{id}` body for an event without subscribers.

    Fields bound by a rule (dates, ages) are patched together so the result stays valid.
    """
    source = draw(event_bodies(now=now, statuses=statuses, subscription_disabled=None))
    source.setdefault("status", "PUBLISHED")
    grouped = {name for group in EVENT_GROUPS for name in group}
    units: list[tuple[str, ...]] = [*EVENT_GROUPS, *((name,) for name in source
                                                      if name not in grouped)]
    chosen = draw(st.lists(st.sampled_from(units), min_size=1, max_size=5, unique=True))
    return {name: source[name] for unit in chosen for name in unit}


@st.composite
def query_points(draw: st.DrawFn) -> tuple[float, float]:
    """Query centres: mostly near known places (so lists are not empty), sometimes anywhere."""
    if draw(st.integers(0, 4)) == 0:
        return (_coordinate(draw(st.floats(-90, 90))), _coordinate(draw(st.floats(-180, 180))))
    lat, lon = draw(st.sampled_from(KNOWN_PLACES))
    return (_coordinate(lat + draw(st.floats(-0.5, 0.5))),
            _coordinate(lon + draw(st.floats(-0.5, 0.5))))


@st.composite
def listing_filters(draw: st.DrawFn, *, sports: tuple[int, ...] = (),
                    now: datetime | None = None) -> dict[str, Any]:
    """Query parameters of `GET /v1/events` besides the point (each one optional)."""
    now = now or datetime.now(UTC)
    params: dict[str, Any] = {}
    if draw(st.booleans()):
        params["distance"] = draw(st.sampled_from((1, 5, 20, 100, 500, 20000))
                                  | st.integers(1, 20000))
    if draw(st.integers(0, 2)) == 0:
        params["sport"] = draw(st.sampled_from(sports) if sports else st.integers(1, 1000))
    if draw(st.integers(0, 2)) == 0:
        params["level[]"] = draw(st.lists(st.sampled_from(LEVELS), min_size=1, max_size=3,
                                          unique=True))
    ages = draw(_age_ranges())
    which = draw(st.sampled_from(("none", "min", "max", "both")))
    if which in ("min", "both"):
        params["age_min"] = ages[0]
    if which in ("max", "both"):
        params["age_max"] = ages[1]
    window_start = now + timedelta(days=draw(st.integers(-30, 200)))
    window_end = window_start + timedelta(days=draw(st.integers(0, 200)))
    which = draw(st.sampled_from(("none", "start", "end", "both")))
    if which in ("start", "both"):
        params["start_date"] = format_date(window_start)
    if which in ("end", "both"):
        params["end_date"] = format_date(window_end)
    return params


def jpeg_bytes(payload: bytes, *, size: int | None = None) -> bytes:
    """A structurally valid JPEG container (SOI, JFIF APP0, comment segments, EOI).

    `size` pads with comment segments to exactly that many bytes, which is how the 3 MiB
    boundary is reached without an image library.
    """
    soi, eoi = b"\xff\xd8", b"\xff\xd9"
    app0 = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"

    def comments(data: bytes) -> bytes:
        out = bytearray()
        for start in range(0, len(data), 65533):
            chunk = data[start:start + 65533]
            out += b"\xff\xfe" + (len(chunk) + 2).to_bytes(2, "big") + chunk
        return bytes(out)

    body = soi + app0 + comments(payload) + eoi
    if size is None:
        return body
    missing = size - len(body)
    if missing < 0:
        raise ValueError(f"payload too large for {size} bytes")
    if missing == 0:
        return body
    if missing < 5:  # a comment segment needs at least 4 bytes plus one of data
        raise ValueError(f"cannot pad by {missing} bytes")
    padding = bytearray()
    while missing > 0:
        chunk = min(missing - 4, 65533)
        if 0 < missing - (chunk + 4) < 5:  # leave room for a last segment of at least 5 bytes
            chunk -= 5
        padding += b"\xff\xfe" + (chunk + 2).to_bytes(2, "big") + b"\x00" * chunk
        missing -= chunk + 4
    return soi + app0 + comments(payload) + bytes(padding) + eoi


#: The kinds of file the documents accept (jpg as jpeg, DECISIONS.md).
UPLOAD_KINDS = ("jpg", "jpeg", "json", "gpx", "tcx", "xml")


@st.composite
def upload_files(draw: st.DrawFn, *,
                 kinds: tuple[str, ...] = UPLOAD_KINDS) -> tuple[str, bytes, str]:
    """(file name, bytes, content type) of an accepted kind: jpeg, json, gpx, tcx, xml."""
    kind = draw(st.sampled_from(kinds))
    name = draw(st.from_regex(r"[a-z][a-z0-9_-]{0,11}", fullmatch=True))
    if kind in ("jpg", "jpeg"):
        payload = draw(st.binary(min_size=0, max_size=2048))
        return f"{name}.{kind}", jpeg_bytes(payload), "image/jpeg"
    if kind == "json":
        value = draw(st.dictionaries(st.from_regex(r"[a-z]{1,8}", fullmatch=True),
                                     st.integers() | texts(max_size=20) | st.booleans(),
                                     max_size=5))
        return f"{name}.json", json.dumps(value).encode(), "application/json"
    label = draw(st.from_regex(r"[A-Za-z0-9 ]{1,20}", fullmatch=True)).strip() or "run"
    if kind == "gpx":
        data = ('<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="contracts" '
                f'xmlns="http://www.topografix.com/GPX/1/1"><trk><name>{label}</name></trk></gpx>')
        return f"{name}.gpx", data.encode(), "application/gpx+xml"
    if kind == "tcx":
        data = ('<?xml version="1.0" encoding="UTF-8"?>\n<TrainingCenterDatabase xmlns='
                '"http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"><Activities>'
                f'<Activity Sport="Running"><Notes>{label}</Notes></Activity></Activities>'
                '</TrainingCenterDatabase>')
        return f"{name}.tcx", data.encode(), "application/vnd.garmin.tcx+xml"
    data = f'<?xml version="1.0" encoding="UTF-8"?>\n<note><body>{label}</body></note>'
    return f"{name}.xml", data.encode(), "application/xml"
