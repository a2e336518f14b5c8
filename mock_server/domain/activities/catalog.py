"""The public list's index: what `GET /v1/events` filters on, in columns, for a million events.

`list_public_events` used to fetch every event within the radius as Python objects, filter them
one by one and sort them all, for one page of 25: fine for hundreds of events, seconds for the
hundreds of thousands a 100 km circle holds at the million scale. Here the fields the list
filters and orders on (position, dates, status, sport, ages, levels, id) live in NumPy columns,
so one query is a few dozen vectorised operations over the candidates of the circle:

* rows are kept sorted by the grid cell of their point (cells of ``cell_degrees``, as in
  ``geo.GeoIndex``), so the candidates of a circle are one contiguous run of rows per latitude
  band of its bounding box (found with ``searchsorted``), not a scan of everything;
* the rules are the same as ``events.list_public_events`` states them (DECISIONS.md): PUBLISHED
  and already public, within ``distance`` km (great-circle), the time span and age range
  overlapping the asked windows, any of the asked levels, the sport; the distance is computed
  with the same haversine formula, and a point within a nanometre of the circle is decided by
  ``geo.haversine_km`` itself, so the result is exactly the brute-force answer;
* only the page asked for is ordered: ``np.partition`` finds the start date of the last event of
  the page, then the few events up to it are sorted by (start date, id). A count of all
  matches comes for free (``meta.total``).

Writes: a new or changed event goes to a small unsorted *delta* (scanned whole by every query)
and its old row is marked dead; when the delta outgrows 1/32 of the sorted rows, both are merged
and re-sorted (about 0.1 s at a million). Subscriptions change no listed field, so they never
touch the catalog. Not thread-safe by itself: the store calls it under its lock.
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
    EARTH_RADIUS_KM,
    HALF_CIRCUMFERENCE_KM,
    haversine_km,
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_NEVER = np.iinfo(np.int64).min  # publish_date unset: public since forever
_LEVEL_BITS = {5: 1, 10: 2, 20: 4}
# Distances this close to the radius (km) are re-decided by geo.haversine_km (math, not NumPy),
# whose rounding may differ from NumPy's by a few units in the last place.
_TIE_KM = 1e-9
_MIN_DELTA_CAPACITY = 1024

Int64Array = npt.NDArray[np.int64]

# Column name -> dtype. One row per event version; a changed event gets a new row.
_COLUMNS: dict[str, Any] = {
    "id": np.int64,
    "key": np.int64,  # grid cell
    "lat": np.float64,
    "lon": np.float64,
    "start": np.int64,  # microseconds since the epoch, UTC
    "end": np.int64,
    "publish": np.int64,
    "published": np.bool_,
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


def _row_values(event: Event, key: int) -> tuple[Any, ...]:
    """One event as a row, in ``_COLUMNS`` order."""
    return (
        event.id, key, event.latitude, event.longitude, micros(event.start_date),
        micros(event.end_date),
        _NEVER if event.publish_date is None else micros(event.publish_date),
        event.status == PUBLISHED, _clamp(event.sport_id), _clamp(event.age_min),
        _clamp(event.age_max), _level_mask(event.level), True,
    )


def _listed(event: Event) -> tuple[Any, ...]:
    """The fields the catalog indexes: an event whose tuple is unchanged keeps its row."""
    return (event.latitude, event.longitude, event.start_date, event.end_date,
            event.publish_date, event.status == PUBLISHED, event.sport_id, event.age_min,
            event.age_max, event.level)


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


class EventCatalog:
    """Columns of every event's listed fields, for counted, ordered pages of the public list."""

    def __init__(self, cell_degrees: float = 0.1) -> None:
        self.cell_degrees = cell_degrees
        self._n_lon = round(360.0 / cell_degrees)
        self._n_lat = round(180.0 / cell_degrees)
        self._base = _Columns.empty()  # sorted by key
        self._base_row: Int64Array = np.full(0, -1, np.int64)  # id -> row in base, -1: none
        self._delta = _Columns.empty()  # unsorted
        self._delta_row: dict[int, int] = {}  # id -> row in delta
        self._count = 0  # live rows

    def __len__(self) -> int:
        return self._count

    def _key(self, lat: float, lon: float) -> int:
        x = int(math.floor((lon + 180.0) / self.cell_degrees)) % self._n_lon
        y = min(int(math.floor((lat + 90.0) / self.cell_degrees)), self._n_lat - 1)
        return y * self._n_lon + x

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
            "publish": np.fromiter((_NEVER if e.publish_date is None else us[e.publish_date]
                                    for e in items), np.int64, n),
            "published": np.fromiter((e.status == PUBLISHED for e in items), np.bool_, n),
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
        arrays["key"] = y * self._n_lon + x
        columns = _Columns({name: arrays[name] for name in _COLUMNS}, n)
        self._delta = _Columns.empty()
        self._delta_row = {}
        self._count = n
        self._install_base(columns)

    def _install_base(self, columns: _Columns) -> None:
        order = np.argsort(columns["key"], kind="stable")
        for name in columns.arrays:
            columns.arrays[name] = columns.arrays[name][order]
        self._base = columns
        ids = columns["id"]
        size = int(ids.max()) + 1 if len(ids) else 0
        base_row = np.full(size, -1, np.int64)
        base_row[ids] = np.arange(len(ids), dtype=np.int64)
        self._base_row = base_row

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
                self._count -= 1
        self._count += 1
        self._delta_row[event.id] = self._delta.append(values)
        if self._delta.size > max(_MIN_DELTA_CAPACITY, self._base.size // 32):
            self._merge()

    def _merge(self) -> None:
        """Fold the delta into the sorted rows, dropping dead ones."""
        alive = self._base["alive"]
        merged = _Columns({
            name: np.concatenate([self._base[name][alive], self._delta[name]])
            for name in _COLUMNS
        })
        merged.size = len(merged.arrays["id"])
        self._install_base(merged)
        self._delta = _Columns.empty()
        self._delta_row = {}

    def copy(self) -> EventCatalog:
        twin = EventCatalog(self.cell_degrees)
        twin._base = self._base.copy()
        twin._base_row = self._base_row.copy()
        twin._delta = self._delta.copy()
        twin._delta_row = dict(self._delta_row)
        twin._count = self._count
        return twin

    # -- reading ---------------------------------------------------------------------------

    def _base_candidates(self, lat: float, lon: float, radius_km: float) -> Int64Array:
        """Rows of the sorted part whose cell overlaps the circle's bounding box."""
        size = self._base.size
        if radius_km >= HALF_CIRCUMFERENCE_KM:
            return np.arange(size, dtype=np.int64)
        delta = radius_km / EARTH_RADIUS_KM
        delta_deg = math.degrees(delta)
        lat_lo = lat - delta_deg - _BOX_SLACK_DEG
        lat_hi = lat + delta_deg + _BOX_SLACK_DEG
        full_lon = lat_lo <= -90.0 or lat_hi >= 90.0
        half_width = 180.0
        if not full_lon:
            ratio = math.sin(delta) / math.cos(math.radians(lat))
            if ratio >= 1.0:
                full_lon = True
            else:
                half_width = math.degrees(math.asin(ratio)) + _BOX_SLACK_DEG
                full_lon = half_width >= 180.0
        size_deg = self.cell_degrees
        y0 = min(int(math.floor((max(lat_lo, -90.0) + 90.0) / size_deg)), self._n_lat - 1)
        y1 = min(int(math.floor((min(lat_hi, 90.0) + 90.0) / size_deg)), self._n_lat - 1)
        n_lon = self._n_lon
        if full_lon:
            spans = [(0, n_lon - 1)]
        else:
            x0 = int(math.floor((lon - half_width + 180.0) / size_deg))
            x1 = int(math.floor((lon + half_width + 180.0) / size_deg))
            if x1 - x0 + 1 >= n_lon:
                spans = [(0, n_lon - 1)]
            elif x0 < 0:
                spans = [(0, x1), (x0 % n_lon, n_lon - 1)]
            elif x1 >= n_lon:
                spans = [(x0, n_lon - 1), (0, x1 % n_lon)]
            else:
                spans = [(x0, x1)]
        if spans == [(0, n_lon - 1)]:  # whole latitude rows: one run of keys
            lows = np.array([y0 * n_lon])
            highs = np.array([y1 * n_lon + n_lon - 1])
        else:
            ys = np.arange(y0, y1 + 1, dtype=np.int64) * n_lon
            lows = np.concatenate([ys + a for a, _ in spans])
            highs = np.concatenate([ys + b for _, b in spans])
        keys = self._base["key"]
        starts = np.searchsorted(keys, lows, side="left")
        ends = np.searchsorted(keys, highs, side="right")
        runs = [(int(a), int(b)) for a, b in zip(starts, ends, strict=True) if b > a]
        if not runs:
            return np.zeros(0, np.int64)
        first, last = runs[0][0], runs[-1][1]
        if len(runs) == 1 or last - first <= sum(b - a for a, b in runs) + 4096:
            # One run from the first candidate to the last: at most 4096 more rows (cells of the
            # same latitude bands outside the box), which the distance check drops, for far
            # fewer NumPy calls; a small or dense catalog is answered faster so.
            return np.arange(first, last, dtype=np.int64)
        return np.concatenate([np.arange(a, b, dtype=np.int64) for a, b in runs])

    def _matches(self, columns: _Columns, rows: Int64Array | None, query: ListCriteria,
                 now_us: int) -> tuple[Int64Array, Int64Array]:
        """(start, id) of the matching rows among ``rows`` (all rows when None)."""

        def column(name: str) -> np.ndarray[Any, Any]:
            data = columns[name]
            return data if rows is None else data[rows]

        keep = column("alive") & column("published") & (column("publish") <= now_us)
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
        picked = np.flatnonzero(keep)
        if rows is not None:
            picked = rows[picked]
        if len(picked) and query.distance < HALF_CIRCUMFERENCE_KM:
            picked = self._within(columns, picked, query)
        return columns["start"][picked], columns["id"][picked]

    @staticmethod
    def _within(columns: _Columns, rows: Int64Array, query: ListCriteria) -> Int64Array:
        """The rows whose point is within ``query.distance`` km (same formula as haversine_km)."""
        lats = columns["lat"][rows]
        lons = columns["lon"][rows]
        lat, lon, radius = query.latitude, query.longitude, query.distance
        half_dphi = np.radians(lats - lat) / 2
        half_dlambda = np.radians(lons - lon) / 2
        a = (np.sin(half_dphi) ** 2
             + math.cos(math.radians(lat)) * np.cos(np.radians(lats)) * np.sin(half_dlambda) ** 2)
        distance = 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(a)))
        inside = distance <= radius
        close = np.flatnonzero(np.abs(distance - radius) <= _TIE_KM)
        for index in close:  # rare: let the reference formula decide
            inside[index] = haversine_km(lat, lon, float(lats[index]),
                                         float(lons[index])) <= radius
        return rows[inside]

    def select(self, query: ListCriteria, now: datetime, offset: int = 0,
               limit: int | None = None) -> tuple[int, list[int]]:
        """(number of matches, ids of matches ``offset`` to ``offset + limit`` in list order).

        List order is start date, then id (DECISIONS.md); ``limit=None`` means all the rest.
        """
        now_us = micros(now)
        base_rows = self._base_candidates(query.latitude, query.longitude, query.distance)
        starts_a, ids_a = self._matches(self._base, base_rows, query, now_us)
        if self._delta.size:
            # The delta is unsorted: first the rows in the circle's latitude band (one pass),
            # so thousands of new events elsewhere cost a comparison each, not a dozen.
            band = math.degrees(query.distance / EARTH_RADIUS_KM) + _BOX_SLACK_DEG
            near = np.flatnonzero(np.abs(self._delta["lat"] - query.latitude) <= band)
            starts_b, ids_b = self._matches(self._delta, near, query, now_us)
            starts = np.concatenate([starts_a, starts_b])
            ids = np.concatenate([ids_a, ids_b])
        else:
            starts, ids = starts_a, ids_a
        total = len(ids)
        end = total if limit is None else min(total, offset + limit)
        if offset >= end:
            return total, []
        if end < total and total > 512:
            # Only what can be on or before the page: start dates up to the end-th smallest.
            # (A few hundred matches are sorted whole: cheaper than the extra passes.)
            threshold = np.partition(starts, end - 1)[end - 1]
            near = np.flatnonzero(starts <= threshold)
            starts, ids = starts[near], ids[near]
        order = np.lexsort((ids, starts))[offset:end]
        return total, ids[order].tolist()
