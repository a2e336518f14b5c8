"""The public list's index: what `GET /v1/events` filters on, in columns, for a million events.

`list_public_events` used to fetch every event within the radius as Python objects, filter them
one by one and sort them all, for one page of 25: fine for hundreds of events, seconds for the
hundreds of thousands a 100 km circle holds at the million scale. Here the fields the list
filters and orders on (position, dates, publication, sport, ages, levels, id) live in NumPy
columns, so one query is a few dozen vectorised operations over the candidates of the circle:

* rows are kept sorted by the grid cell of their point (cells of ``cell_degrees``, as in
  ``geo.GeoIndex``), so the candidates of a circle are contiguous runs of rows, one or three per
  latitude band of its bounding box (found with ``searchsorted``), not a scan of everything;
* cells certainly inside the circle (their four corners 1 m inside it, the rule ``GeoIndex``
  uses, see ``geo``) are taken without computing a distance, as slices of the columns: around
  Paris, a fifth of the million, that is 93 % of the candidates. Only rows of the cells the
  circle's edge crosses get a distance: the cosine of their angle to the centre (a dot product
  of stored unit vectors) where it is clearly on one side, else the haversine with the same
  formula as ``geo.haversine_km``, and a point within a nanometre of the circle is decided by
  ``haversine_km`` itself, so the result is exactly the brute-force answer (``is_listed``);
* the other rules are as ``events.list_public_events`` states them (DECISIONS.md): PUBLISHED and
  already public (one column, ``public_from``: the moment an event becomes listed, the largest
  integer for one that is not PUBLISHED, so one comparison decides), the time span and age range
  overlapping the asked windows, any of the asked levels, the sport;
* a query whose circle's latitudes hold few rows (``SCAN_LIMIT``: the default data, or a few
  thousand events near the point among a million elsewhere) takes those rows, one run, and
  tests each of them like the edge rows below, skipping the plan, whose fixed cost (~100 us
  of small NumPy calls) is ten times such a scan's;
* every row carries its *rank* in list order (start date, then id) among the sorted rows, so the
  page is the ``offset + limit`` smallest ranks of the matches (one ``np.partition`` of 32-bit
  integers), ordered, and their rows come back through the inverse permutation. The count of
  all matches (``meta.total``) comes for free.

Writes: a new or changed event goes to a small unsorted *delta* (scanned whole by every query)
and its old row is marked dead; when the delta outgrows 1/32 of the sorted rows, both are merged
and re-sorted by cell, the delta's rows placed among the ranked ones (about 0.15 s at a
million, once every 31,000 writes; 0.05 s without ranks).
Subscriptions change no listed field, so they never touch the catalog. Not thread-safe by
itself: the store calls it under its lock.

One module of some 650 lines on purpose: the columns' layout, their build, a query's planning
over them and the merge of new rows are one data structure, each part written against the
others' layout; split, every piece would have to know the rest.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from mock_server.domain.activities.models import PUBLISHED, Event
from mock_server.domain.geo import (
    _BOX_SLACK_DEG,
    _CORNER_TRUST_LIMIT_KM,
    _INSIDE_SLACK_KM,
    EARTH_RADIUS_KM,
    HALF_CIRCUMFERENCE_KM,
    bounding_box,
    haversine_km,
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_NEVER = np.iinfo(np.int64).min  # publish_date unset: public since forever
_HIDDEN = np.iinfo(np.int64).max  # not PUBLISHED, or a dead row: never listed
_LEVEL_BITS = {5: 1, 10: 2, 20: 4}
# Distances this close to the radius (km) are re-decided by geo.haversine_km (math, not NumPy),
# whose rounding may differ from NumPy's by a few units in the last place.
_TIE_KM = 1e-9
# Edge rows whose cosine of the angle to the centre is this far (or more) from the radius's are
# decided by it; a closer one goes to the haversine. The unit vectors are stored as float32
# (half the memory), so the dot product (computed in float64) is off by at most 3 * 2**-24,
# 1.8e-7; what remains of 1e-6 is at least 5 m of distance anywhere (|d cos θ / dθ| <= 1),
# far above haversine's worst rounding (25 cm, see geo): the cosine only decides where
# haversine_km would decide the same. At 100 km that leaves a band of 400 m either side of
# the circle to the haversine.
_COSINE_MARGIN = 1e-6
# Degrees taken off the analytic half width of the circle along a parallel before the cells in
# it are checked by their corners: keeps rounding on the safe side (about 1 cm).
_WIDTH_SHRINK_DEG = 1e-7
_MIN_DELTA_CAPACITY = 1024
# A query whose circle's latitudes hold up to this many sorted rows scans them all rather than
# planning cell by cell: a plan costs ~100-150 us of fixed NumPy calls whatever the size, a
# scan ~13 us for the default 300 events and ~80 us for 20,000; above, the plan wins.
SCAN_LIMIT = 20_000

Int64Array = npt.NDArray[np.int64]
Int32Array = npt.NDArray[np.int32]
FloatArray = npt.NDArray[np.float64]
Runs = list[tuple[int, int]]

# Column name -> dtype. One row per event version; a changed event gets a new row.
_COLUMNS: dict[str, Any] = {
    "id": np.int64,
    "key": np.int32,  # grid cell (6.48 million of 0.1 degree)
    "lat": np.float64,
    "lon": np.float64,
    "x": np.float32,  # the point on the unit sphere, for the cosine test of edge rows
    "y": np.float32,
    "z": np.float32,
    "start": np.int64,  # microseconds since the epoch, UTC
    "end": np.int64,
    "public_from": np.int64,  # listed from then on (_NEVER: always; _HIDDEN: never)
    "sport": np.int64,
    "age_min": np.int64,
    "age_max": np.int64,
    "levels": np.int8,
    "alive": np.bool_,
}


class ListCriteria(Protocol):
    """What a public list query asks (``events.EventQuery`` has these attributes)."""

    @property
    def latitude(self) -> float: ...
    @property
    def longitude(self) -> float: ...
    @property
    def distance(self) -> float: ...
    @property
    def sport(self) -> int | None: ...
    @property
    def start_date(self) -> datetime | None: ...
    @property
    def end_date(self) -> datetime | None: ...
    @property
    def age_min(self) -> int | None: ...
    @property
    def age_max(self) -> int | None: ...
    @property
    def levels(self) -> tuple[int, ...]: ...


def is_listed(event: Event, query: ListCriteria, now: datetime) -> bool:
    """The rules for one event, in plain Python: what the columns decide for all at once.

    The reference the catalog is checked against (its property tests, ``bench/catalog.py
    --check``); too slow to serve a million events, which is why the columns exist.
    """
    return (
        event.is_public(now)
        and haversine_km(query.latitude, query.longitude, event.latitude, event.longitude)
        <= query.distance
        and (query.sport is None or event.sport_id == query.sport)
        and (query.start_date is None or event.end_date >= query.start_date)
        and (query.end_date is None or event.start_date <= query.end_date)
        and (query.age_min is None or event.age_max >= query.age_min)
        and (query.age_max is None or event.age_min <= query.age_max)
        and (not query.levels or not set(query.levels).isdisjoint(event.level))
    )


def micros(moment: datetime) -> int:
    """Exact microseconds since the epoch of an aware datetime (no float rounding)."""
    return (moment - _EPOCH) // _MICROSECOND


class _MicrosCache(dict[datetime, int]):
    """``micros`` of the few thousand distinct dates a million fixture events share."""

    def __missing__(self, moment: datetime) -> int:
        value = self[moment] = micros(moment)
        return value


def _level_mask(levels: Iterable[int]) -> int:
    mask = 0
    for level in levels:
        mask |= _LEVEL_BITS.get(level, 0)
    return mask


_INT64_MIN = int(np.iinfo(np.int64).min)
_INT64_MAX = int(np.iinfo(np.int64).max)


def _compare(column: np.ndarray[Any, Any], op: str, value: int) -> np.ndarray[Any, Any]:
    """``column op value`` for any Python int, even one no int64 can hold (a client may ask)."""
    if _INT64_MIN <= value <= _INT64_MAX:
        if op == "==":
            return column == value
        return column >= value if op == ">=" else column <= value
    above = value > _INT64_MAX  # every stored value is below it
    answer = op == "<=" if above else op == ">="
    return np.full(len(column), answer and op != "==", np.bool_)


def _clamp(value: int) -> int:
    """Integers the HTTP layer lets through fit in int64 (the spec bounds them); a direct caller's
    larger value is stored at the bound, which keeps every order comparison with an in-range
    query value true to the original."""
    return min(max(value, _INT64_MIN), _INT64_MAX)


def _public_from(event: Event, us: dict[datetime, int] | None = None) -> int:
    if event.status != PUBLISHED:
        return _HIDDEN
    if event.publish_date is None:
        return _NEVER
    return us[event.publish_date] if us is not None else micros(event.publish_date)


def _unit_vectors(lats: FloatArray, lons: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Points on the unit sphere; ``_unit_vector`` agrees to a few ulp (the margin is 1e-7)."""
    phi, lam = np.radians(lats), np.radians(lons)
    return np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)


def _unit_vector(lat: float, lon: float) -> tuple[float, float, float]:
    phi, lam = math.radians(lat), math.radians(lon)
    return math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi)


def _row_values(event: Event, key: int) -> tuple[Any, ...]:
    """One event as a row, in ``_COLUMNS`` order."""
    return (
        event.id, key, event.latitude, event.longitude,
        *_unit_vector(event.latitude, event.longitude), micros(event.start_date),
        micros(event.end_date), _public_from(event), _clamp(event.sport_id),
        _clamp(event.age_min), _clamp(event.age_max), _level_mask(event.level), True,
    )


def _listed(event: Event) -> tuple[Any, ...]:
    """The fields the catalog indexes: an event whose tuple is unchanged keeps its row."""
    return (event.latitude, event.longitude, event.start_date, event.end_date,
            event.publish_date, event.status == PUBLISHED, event.sport_id, event.age_min,
            event.age_max, event.level)


def _haversine(lat: float, lon: float, lats: FloatArray, lons: FloatArray) -> FloatArray:
    """``geo.haversine_km(lat, lon, lats[i], lons[i])`` for every i, with NumPy's rounding."""
    half_dphi = np.radians(lats - lat) / 2
    half_dlambda = np.radians(lons - lon) / 2
    a = (np.sin(half_dphi) ** 2
         + math.cos(math.radians(lat)) * np.cos(np.radians(lats)) * np.sin(half_dlambda) ** 2)
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(a)))  # type: ignore[no-any-return]


def _merged_list_order(starts: Int64Array, ids: Int64Array, new_starts: Int64Array,
                       new_ids: Int64Array) -> Int64Array | None:
    """The (start, id) order of rows A + B, A given in that order already: indexes into the
    concatenation. ``None`` when ids do not fit the 32 bits this needs (then sort all).

    Sorting a million (start, id) pairs anew costs ~110 ms; this costs ~15 ms plus sorting
    B. Each start becomes an odd code, twice its place among A's distinct starts plus one,
    and a B start that A lacks the even code between its neighbours: (code, id) packed in
    one int64 orders like (start, id), A's codes are sorted, and ``searchsorted`` places B.
    """
    everything = np.concatenate([ids, new_ids])
    if len(everything) and (everything.min() < 0 or everything.max() >= 2**32):
        return None
    first = np.ones(len(starts), np.bool_)
    first[1:] = starts[1:] != starts[:-1]
    distinct = starts[first]
    codes = 2 * (np.cumsum(first, dtype=np.int64) - 1) + 1
    place = np.searchsorted(distinct, new_starts, "left")
    known = distinct[np.minimum(place, max(len(distinct) - 1, 0))] == new_starts \
        if len(distinct) else np.zeros(len(new_starts), np.bool_)
    new_codes = 2 * place + known
    packed = (codes << 32) | ids
    new_packed = (new_codes << 32) | new_ids
    b_order = np.argsort(new_packed)
    at = np.searchsorted(packed, new_packed[b_order])
    return np.insert(np.arange(len(ids), dtype=np.int64), at, len(ids) + b_order)


def _merge_adjacent(ranges: Runs) -> Runs:
    """Sorted inclusive key ranges with touching neighbours joined (whole bands become one)."""
    merged: Runs = []
    for low, high in sorted(ranges):
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(high, merged[-1][1]))
        else:
            merged.append((low, high))
    return merged


@dataclass
class _Columns:
    """Parallel arrays, ``size`` rows used of their length (capacity)."""

    arrays: dict[str, np.ndarray[Any, Any]]
    size: int = 0

    @classmethod
    def empty(cls, capacity: int = 0) -> _Columns:
        return cls({name: np.zeros(capacity, dtype) for name, dtype in _COLUMNS.items()})

    def __getitem__(self, name: str) -> np.ndarray[Any, Any]:
        return self.arrays[name][: self.size]

    def append(self, values: tuple[Any, ...]) -> int:
        if self.size == len(self.arrays["id"]):
            capacity = max(_MIN_DELTA_CAPACITY, 2 * self.size)
            for name, array in self.arrays.items():
                grown = np.zeros(capacity, array.dtype)
                grown[: self.size] = array[: self.size]
                self.arrays[name] = grown
        row = self.size
        self.write(row, values)
        self.size += 1
        return row

    def write(self, row: int, values: tuple[Any, ...]) -> None:
        for array, value in zip(self.arrays.values(), values, strict=True):
            array[row] = value

    def copy(self) -> _Columns:
        return _Columns({name: array.copy() for name, array in self.arrays.items()}, self.size)


def _keep(columns: _Columns, rows: slice | Int64Array, query: ListCriteria,
          now_us: int) -> npt.NDArray[np.bool_]:
    """Which of ``rows`` (a slice: a view, no copy) pass every rule but the distance."""

    def column(name: str) -> np.ndarray[Any, Any]:
        return columns.arrays[name][rows]

    keep = column("public_from") <= now_us
    if query.sport is not None:
        keep &= _compare(column("sport"), "==", query.sport)
    if query.start_date is not None:
        keep &= column("end") >= micros(query.start_date)
    if query.end_date is not None:
        keep &= column("start") <= micros(query.end_date)
    if query.age_min is not None:
        keep &= _compare(column("age_max"), ">=", query.age_min)
    if query.age_max is not None:
        keep &= _compare(column("age_min"), "<=", query.age_max)
    if query.levels:
        keep &= (column("levels") & _level_mask(query.levels)) != 0
    return keep


def _within(columns: _Columns, rows: Int64Array, query: ListCriteria) -> Int64Array:
    """The rows whose point is within ``query.distance`` km, decided as haversine_km would.

    Most are decided by the cosine of their angle to the centre (a dot product of unit
    vectors, no sine or arc sine: a tenth of the cost), the few near the circle by haversine.
    """
    x, y, z = (np.float64(v) for v in _unit_vector(query.latitude, query.longitude))
    cos_r = math.cos(query.distance / EARTH_RADIUS_KM)
    arrays = columns.arrays
    cosine = arrays["x"][rows] * x + arrays["y"][rows] * y + arrays["z"][rows] * z
    unsure = np.abs(cosine - cos_r) <= _COSINE_MARGIN
    sure = rows[(cosine > cos_r) & ~unsure]
    if not unsure.any():
        return sure
    return np.concatenate([sure, _near_circle(columns, rows[unsure], query)])


def _in_circle(columns: _Columns, rows: Int64Array, query: ListCriteria) -> Int64Array:
    """Those of ``rows`` within the circle; all of them when it covers the whole globe."""
    if len(rows) and query.distance < HALF_CIRCUMFERENCE_KM:
        return _within(columns, rows, query)
    return rows


def _near_circle(columns: _Columns, rows: Int64Array, query: ListCriteria) -> Int64Array:
    """The rows within ``query.distance`` km by the haversine formula (ties: haversine_km's)."""
    lats = columns.arrays["lat"][rows]
    lons = columns.arrays["lon"][rows]
    lat, lon, radius = query.latitude, query.longitude, query.distance
    distance = _haversine(lat, lon, lats, lons)
    inside = distance <= radius
    close = np.flatnonzero(np.abs(distance - radius) <= _TIE_KM)
    for index in close:  # rare: let the reference formula decide
        inside[index] = haversine_km(lat, lon, float(lats[index]), float(lons[index])) <= radius
    return rows[inside]


class EventCatalog:
    """Columns of every event's listed fields, for counted, ordered pages of the public list."""

    def __init__(self, cell_degrees: float = 0.1, scan_limit: int = SCAN_LIMIT) -> None:
        self.cell_degrees = cell_degrees
        self.scan_limit = scan_limit
        self._n_lon = round(360.0 / cell_degrees)
        self._n_lat = round(180.0 / cell_degrees)
        self._base = _Columns.empty()  # sorted by key
        self._base_row: Int64Array = np.full(0, -1, np.int64)  # id -> row in base, -1: none
        self._rank: Int32Array = np.zeros(0, np.int32)  # row -> place in (start, id) order
        self._by_rank: Int32Array = np.zeros(0, np.int32)  # the inverse: rank -> row
        self._delta = _Columns.empty()  # unsorted
        self._delta_row: dict[int, int] = {}  # id -> row in delta
        self._count = 0  # live rows

    def __len__(self) -> int:
        return self._count

    def _cell_y(self, lat: float) -> int:
        return min(int(math.floor((lat + 90.0) / self.cell_degrees)), self._n_lat - 1)

    def _key(self, lat: float, lon: float) -> int:
        x = int(math.floor((lon + 180.0) / self.cell_degrees)) % self._n_lon
        return self._cell_y(lat) * self._n_lon + x

    # -- writing ---------------------------------------------------------------------------

    def build(self, events: Iterable[Event]) -> None:
        """Replace the content with ``events`` (bulk: a column at a time, then one sort).

        A million events take about a second: each column is one pass of attribute reads
        into ``np.fromiter``, dates go through a cache (fixtures share a few thousand), and
        grid keys are computed on whole columns with the same float operations as ``_key``.
        """
        items = list(events)
        n = len(items)
        us = _MicrosCache()
        arrays: dict[str, np.ndarray[Any, Any]] = {
            "id": np.fromiter((e.id for e in items), np.int64, n),
            "lat": np.fromiter((e.latitude for e in items), np.float64, n),
            "lon": np.fromiter((e.longitude for e in items), np.float64, n),
            "start": np.fromiter((us[e.start_date] for e in items), np.int64, n),
            "end": np.fromiter((us[e.end_date] for e in items), np.int64, n),
            "public_from": np.fromiter((_public_from(e, us) for e in items), np.int64, n),
            "sport": np.fromiter((_clamp(e.sport_id) for e in items), np.int64, n),
            "age_min": np.fromiter((_clamp(e.age_min) for e in items), np.int64, n),
            "age_max": np.fromiter((_clamp(e.age_max) for e in items), np.int64, n),
            "levels": np.fromiter((_level_mask(e.level) for e in items), np.int8, n),
            "alive": np.ones(n, np.bool_),
        }
        size = self.cell_degrees
        x = np.floor((arrays["lon"] + 180.0) / size).astype(np.int64) % self._n_lon
        y = np.minimum(np.floor((arrays["lat"] + 90.0) / size).astype(np.int64),
                       self._n_lat - 1)
        arrays["key"] = (y * self._n_lon + x).astype(np.int32)
        for name, values in zip("xyz", _unit_vectors(arrays["lat"], arrays["lon"]), strict=True):
            arrays[name] = values.astype(np.float32)
        columns = _Columns({name: arrays[name] for name in _COLUMNS}, n)
        self._delta = _Columns.empty()
        self._delta_row = {}
        self._count = n
        self._install_base(columns)

    def _install_base(self, columns: _Columns, listed: Int64Array | None = None) -> None:
        """Sort ``columns`` by cell and rank them; ``listed``: their (start, id) order if
        known (a merge), else it is sorted out here."""
        order = np.argsort(columns["key"], kind="stable")
        for name in columns.arrays:
            columns.arrays[name] = columns.arrays[name][order]
        self._base = columns
        ids = columns["id"]
        size = int(ids.max()) + 1 if len(ids) else 0
        base_row = np.full(size, -1, np.int64)
        base_row[ids] = np.arange(len(ids), dtype=np.int64)
        self._base_row = base_row
        if listed is None:
            # Ids are unique among the rows, so (start, id) orders them totally.
            self._by_rank = np.lexsort((ids, columns["start"])).astype(np.int32)
        else:
            moved_to = np.empty(len(ids), np.int64)
            moved_to[order] = np.arange(len(ids), dtype=np.int64)
            self._by_rank = moved_to[listed].astype(np.int32)
        self._rank = np.empty(len(ids), np.int32)
        self._rank[self._by_rank] = np.arange(len(ids), dtype=np.int32)

    def put(self, event: Event, previous: Event | None = None) -> None:
        """Index a new event, or re-index ``previous``, the version indexed until now.

        A no-op when no listed field changed (a subscription changes only the places).
        """
        if previous is not None and _listed(previous) == _listed(event):
            return
        values = _row_values(event, self._key(event.latitude, event.longitude))
        row = self._delta_row.get(event.id)
        if row is not None:
            self._delta.write(row, values)
            return
        if previous is not None and event.id < len(self._base_row):
            base_row = int(self._base_row[event.id])
            if base_row >= 0 and self._base.arrays["alive"][base_row]:
                self._base.arrays["alive"][base_row] = False
                self._base.arrays["public_from"][base_row] = _HIDDEN
                self._count -= 1
        self._count += 1
        self._delta_row[event.id] = self._delta.append(values)
        if self._delta.size > max(_MIN_DELTA_CAPACITY, self._base.size // 32):
            self._merge()

    def _merge(self) -> None:
        """Fold the delta into the sorted rows, dropping dead ones.

        The live rows keep their relative list order, so only the delta's rows are placed
        among them (``_merged_list_order``) instead of ranking a million rows again.
        """
        base, delta = self._base, self._delta
        alive = base["alive"]
        merged = _Columns({
            name: np.concatenate([base[name][alive], delta[name]]) for name in _COLUMNS
        })
        merged.size = len(merged.arrays["id"])
        kept = self._by_rank[alive[self._by_rank]]  # live rows, in list order
        position = np.cumsum(alive, dtype=np.int64) - 1  # their index in ``merged``
        order = _merged_list_order(base["start"][kept], base["id"][kept], delta["start"],
                                   delta["id"])
        listed = None
        if order is not None:
            n_kept = len(kept)
            listed = np.concatenate([position[kept],
                                     np.arange(n_kept, n_kept + delta.size, dtype=np.int64)])
            listed = listed[order]
        self._install_base(merged, listed)
        self._delta = _Columns.empty()
        self._delta_row = {}

    def copy(self) -> EventCatalog:
        twin = EventCatalog(self.cell_degrees, self.scan_limit)
        twin._base = self._base.copy()
        twin._base_row = self._base_row.copy()
        twin._rank = self._rank.copy()
        twin._by_rank = self._by_rank.copy()
        twin._delta = self._delta.copy()
        twin._delta_row = dict(self._delta_row)
        twin._count = self._count
        return twin

    # -- reading ---------------------------------------------------------------------------

    def _inside_spans(self, lat: float, lon: float, radius_km: float,
                      ys: Int64Array) -> tuple[Int64Array, Int64Array]:
        """Per latitude band ``ys``: the first and last cell x (unwrapped; last < first: none)
        of the cells certainly inside the circle.

        Along a parallel the circle covers |Δlongitude| <= arccos((cos r - sin φ sin φ0) /
        (cos φ cos φ0)); a band's cells within the smaller width of its two edges, at most 90°
        away, are inside. The formula only proposes: the two outermost cells' corners are then
        checked like ``GeoIndex._cell_inside`` does (1 m inside, far from the antipode), and a
        band that fails keeps no inside cell, which is slower but still exact.
        """
        size = self.cell_degrees
        lat_a = ys * size - 90.0
        lat_b = lat_a + size
        phi0 = math.radians(lat)
        cos_r = math.cos(radius_km / EARTH_RADIUS_KM)

        def half_width(edge: FloatArray) -> FloatArray:
            phi = np.radians(edge)
            with np.errstate(divide="ignore", invalid="ignore"):
                c = (cos_r - np.sin(phi) * math.sin(phi0)) / (np.cos(phi) * math.cos(phi0))
                width = np.degrees(np.arccos(np.clip(c, -1.0, 1.0)))
            return np.where(c <= 1.0, width, -1.0)  # type: ignore[no-any-return]  # nan: none

        width = np.minimum(np.minimum(half_width(lat_a), half_width(lat_b)), 90.0)
        width -= _WIDTH_SHRINK_DEG
        first = np.ceil((lon - width + 180.0) / size).astype(np.int64)
        last = np.floor((lon + width + 180.0) / size).astype(np.int64) - 1
        west = first * size - 180.0
        east = (last + 1) * size - 180.0
        farthest = np.maximum.reduce([
            _haversine(lat, lon, lat_a, west), _haversine(lat, lon, lat_b, west),
            _haversine(lat, lon, lat_a, east), _haversine(lat, lon, lat_b, east),
        ])
        sure = ((width > 0) & (last >= first) & (farthest < _CORNER_TRUST_LIMIT_KM)
                & (farthest <= radius_km - _INSIDE_SLACK_KM)
                & (np.abs(west - lon) <= 90.0) & (np.abs(east - lon) <= 90.0))
        return first, np.where(sure, last, first - 1)

    def _base_runs(self, lat: float, lon: float, radius_km: float) -> tuple[Runs, Runs]:
        """(runs inside the circle, runs on its edge): [start, stop) rows of the sorted part
        whose cells are certainly inside the circle, and those of the other cells of its box.

        Worth planning only when the box's latitudes hold many rows (``_base_ranks`` scans
        them otherwise, an empty band included)."""
        size = self._base.size
        if size == 0:
            return [], []
        if radius_km >= HALF_CIRCUMFERENCE_KM:
            return [(0, size)], []
        lat_lo, lat_hi, half_width = bounding_box(lat, radius_km)
        y0 = self._cell_y(max(lat_lo, -90.0))
        y1 = self._cell_y(min(lat_hi, 90.0))
        n_lon = self._n_lon
        full = half_width >= 180.0
        x0 = x1 = 0
        if not full:
            x0 = int(math.floor((lon - half_width + 180.0) / self.cell_degrees))
            x1 = int(math.floor((lon + half_width + 180.0) / self.cell_degrees))
            full = x1 - x0 + 1 >= n_lon
        ys = np.arange(y0, y1 + 1, dtype=np.int64)
        firsts, lasts = self._inside_spans(lat, lon, radius_km, ys)
        inside: Runs = []
        edge: Runs = []

        def add(to: Runs, row: int, first: int, last: int) -> None:
            """Cells first..last (unwrapped, fewer than a parallel's) of one band, as keys."""
            if last < first:
                return
            a, b = first % n_lon, last % n_lon
            if a <= b:
                to.append((row + a, row + b))
            else:
                to.extend([(row + a, row + n_lon - 1), (row, row + b)])

        for y, first, last in zip(ys.tolist(), firsts.tolist(), lasts.tolist(), strict=True):
            row = y * n_lon
            if full:
                if last < first:
                    edge.append((row, row + n_lon - 1))
                else:
                    add(inside, row, first, last)
                    add(edge, row, last + 1, first - 1 + n_lon)
                continue
            first, last = max(first, x0), min(last, x1)
            if last < first:
                add(edge, row, x0, x1)
            else:
                add(inside, row, first, last)
                add(edge, row, x0, first - 1)
                add(edge, row, last + 1, x1)
        return self._rows_of(_merge_adjacent(inside)), self._rows_of(_merge_adjacent(edge))

    def _band_rows(self, lat: float, radius_km: float) -> tuple[int, int]:
        """[start, stop) of the sorted rows in the latitudes of the circle's box: one run, as
        rows are sorted by cell and a cell's key starts with its latitude band."""
        if radius_km >= HALF_CIRCUMFERENCE_KM:
            return 0, self._base.size
        lat_lo, lat_hi, _ = bounding_box(lat, radius_km)
        keys = np.array([self._cell_y(max(lat_lo, -90.0)) * self._n_lon,
                         (self._cell_y(min(lat_hi, 90.0)) + 1) * self._n_lon], np.int32)
        start, stop = np.searchsorted(self._base["key"], keys, "left").tolist()
        return start, stop

    def _rows_of(self, keys: Runs) -> Runs:
        """Row runs [start, stop) of inclusive key ranges (empty ones left out)."""
        if not keys:
            return []
        column = self._base["key"]
        # Needles of the column's type: int64 ones would make NumPy convert the whole column.
        lows = np.searchsorted(column, np.array([low for low, _ in keys], np.int32), "left")
        highs = np.searchsorted(column, np.array([high for _, high in keys], np.int32), "right")
        return [(a, b) for a, b in zip(lows.tolist(), highs.tolist(), strict=True) if b > a]

    def _base_ranks(self, query: ListCriteria, now_us: int) -> Int32Array:
        """Ranks of every matching row of the sorted part, in no particular order."""
        base = self._base
        rank = self._rank
        start, stop = self._band_rows(query.latitude, query.distance)
        if stop - start <= self.scan_limit:
            rows = np.flatnonzero(_keep(base, slice(start, stop), query, now_us)) + start
            return rank[_in_circle(base, rows, query)]
        inside, edge = self._base_runs(query.latitude, query.longitude, query.distance)
        found = [rank[a:b][_keep(base, slice(a, b), query, now_us)] for a, b in inside]
        if edge:
            rows = np.concatenate([np.arange(a, b, dtype=np.int64) for a, b in edge])
            rows = rows[_keep(base, rows, query, now_us)]
            if len(rows):
                found.append(rank[_within(base, rows, query)])
        if not found:
            return np.zeros(0, np.int32)
        return found[0] if len(found) == 1 else np.concatenate(found)

    def _delta_matches(self, query: ListCriteria, now_us: int) -> tuple[Int64Array, Int64Array]:
        """(start, id) of the matching rows of the delta."""
        delta = self._delta
        # First the rows in the circle's latitude band (one pass), so thousands of new events
        # elsewhere cost a comparison each, not a dozen.
        band = math.degrees(query.distance / EARTH_RADIUS_KM) + _BOX_SLACK_DEG
        rows = np.flatnonzero(np.abs(delta["lat"] - query.latitude) <= band)
        rows = _in_circle(delta, rows[_keep(delta, rows, query, now_us)], query)
        return delta["start"][rows], delta["id"][rows]

    def select(self, query: ListCriteria, now: datetime, offset: int = 0,
               limit: int | None = None) -> tuple[int, list[int]]:
        """(number of matches, ids of matches ``offset`` to ``offset + limit`` in list order).

        List order is start date, then id (DECISIONS.md); ``limit=None`` means all the rest.
        """
        now_us = micros(now)
        ranks = self._base_ranks(query, now_us)
        if self._delta.size:
            starts_d, ids_d = self._delta_matches(query, now_us)
        else:
            starts_d = ids_d = np.zeros(0, np.int64)
        total = len(ranks) + len(ids_d)
        end = total if limit is None else min(total, offset + limit)
        if offset >= end:
            return total, []
        if end < len(ranks):  # only the ranks that can be on or before the page
            ranks = np.partition(ranks, end - 1)[:end]
        rows = self._by_rank[np.sort(ranks)]
        ids = self._base.arrays["id"][rows]
        if len(ids_d):
            starts = np.concatenate([self._base.arrays["start"][rows], starts_d])
            ids = np.concatenate([ids, ids_d])
            ids = ids[np.lexsort((ids, starts))]
        return total, ids[offset:end].tolist()
