"""Great-circle distances and a grid index for radius queries.

``GET /v1/events`` answers "events within ``distance`` km of a point". Scanning every event
with the haversine formula is fine for hundreds of events but not for the million the mock must
hold, so events are bucketed into a grid of ``cell_degrees`` x ``cell_degrees`` latitude/longitude
cells. A query visits only the cells overlapping the circle's bounding box, takes whole cells
whose four corners are well inside the circle without looking at their points, and checks the
rest point by point with the same ``haversine_km`` a brute-force scan would use, so the answer is
exactly the brute-force answer (``tests/unit/test_domain_geo.py`` checks this property,
including circles over a pole and across the antimeridian).

Why a whole cell can be accepted from its corners: for a fixed latitude the distance grows with
|Δlongitude| (up to 180°), and along a meridian at most 90° of longitude away the distance to the
centre has a single minimum, so over a cell spanning at most 90° of |Δlongitude| the farthest
point is a corner. Corners are only trusted far from the antipode, where haversine's rounding is
well below the 1 m margin used.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator

#: Mean Earth radius (IUGG), in kilometres.
EARTH_RADIUS_KM = 6371.0088
#: No two points are farther apart than this along the surface.
HALF_CIRCUMFERENCE_KM = math.pi * EARTH_RADIUS_KM

# Slack added to the bounding box and latitude band (degrees; 1e-5 deg is about 1 m) and required
# inside the circle for a cell to be taken wholesale (km). Both exceed haversine's worst rounding
# (about 25 cm, next to the antipode where asin is steep) and are far below any useful distance.
_BOX_SLACK_DEG = 1e-5
_INSIDE_SLACK_KM = 1e-3
_CORNER_TRUST_LIMIT_KM = 15_000.0

_radians = math.radians
_sin = math.sin
_cos = math.cos
_asin = math.asin
_sqrt = math.sqrt


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance between two points given in degrees, in kilometres."""
    phi1 = _radians(lat1)
    phi2 = _radians(lat2)
    half_dphi = _radians(lat2 - lat1) / 2
    half_dlambda = _radians(lon2 - lon1) / 2
    a = _sin(half_dphi) ** 2 + _cos(phi1) * _cos(phi2) * _sin(half_dlambda) ** 2
    return 2 * EARTH_RADIUS_KM * _asin(min(1.0, _sqrt(a)))


def bounding_box(lat: float, radius_km: float) -> tuple[float, float, float]:
    """(lowest latitude, highest latitude, half width in longitude) of a circle, in degrees.

    Never narrower than the true box (``_BOX_SLACK_DEG`` on every side); a half width of 180
    means every longitude (the circle covers a pole, or is wider than the parallel). The
    latitudes may pass the poles. ``GeoIndex`` and the list's catalog both visit the cells of
    this box, so both must agree on it.
    """
    delta = radius_km / EARTH_RADIUS_KM  # angular radius, radians
    delta_deg = math.degrees(delta)
    lat_lo = lat - delta_deg - _BOX_SLACK_DEG
    lat_hi = lat + delta_deg + _BOX_SLACK_DEG
    if lat_lo <= -90.0 or lat_hi >= 90.0:  # the circle covers a pole
        return lat_lo, lat_hi, 180.0
    ratio = _sin(delta) / _cos(_radians(lat))
    if ratio >= 1.0:
        return lat_lo, lat_hi, 180.0
    return lat_lo, lat_hi, min(180.0, math.degrees(_asin(ratio)) + _BOX_SLACK_DEG)


def _check_point(lat: float, lon: float) -> None:
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise ValueError(f"coordinates out of range: ({lat}, {lon})")


def _wrap_degrees(delta: float) -> float:
    """Map a longitude difference to [-180, 180]."""
    return (delta + 180.0) % 360.0 - 180.0


class _Cell:
    """Points of one grid cell in parallel compact arrays (no per-point Python objects).

    Kept sorted by latitude, so a query bisects to the latitude band of its circle instead of
    computing a distance for every point of a dense cell (a city centre holds tens of
    thousands of events at the million scale).
    """

    __slots__ = ("ids", "lats", "lons")

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.lats = array("d")
        self.lons = array("d")

    def insert(self, item_id: int, lat: float, lon: float) -> None:
        position = bisect_right(self.lats, lat)
        self.ids.insert(position, item_id)
        self.lats.insert(position, lat)
        self.lons.insert(position, lon)

    def append(self, item_id: int, lat: float, lon: float) -> None:
        """Add without keeping the order; ``sort()`` must follow (bulk loading)."""
        self.ids.append(item_id)
        self.lats.append(lat)
        self.lons.append(lon)

    def sort(self) -> None:
        lats = self.lats
        order = sorted(range(len(lats)), key=lats.__getitem__)
        self.ids = [self.ids[i] for i in order]
        self.lats = array("d", (lats[i] for i in order))
        self.lons = array("d", (self.lons[i] for i in order))

    def delete(self, item_id: int, lat: float) -> None:
        """Remove ``item_id``; ``ValueError`` if it is not in this cell."""
        lats = self.lats
        position = bisect_left(lats, lat)
        end = bisect_right(lats, lat, position)
        position = self.ids.index(item_id, position, end)
        del self.ids[position]
        del self.lats[position]
        del self.lons[position]

    def copy(self) -> _Cell:
        twin = _Cell()
        twin.ids = self.ids.copy()
        twin.lats = array("d", self.lats)
        twin.lons = array("d", self.lons)
        return twin


class GeoIndex:
    """Grid of latitude/longitude cells mapping integer ids to points, for radius queries.

    Not thread-safe by itself: the store calls it under its lock.
    """

    def __init__(self, cell_degrees: float = 0.1) -> None:
        n_lon = round(360.0 / cell_degrees)
        n_lat = round(180.0 / cell_degrees)
        if n_lon * cell_degrees != 360.0 or n_lat * cell_degrees != 180.0:
            raise ValueError("cell_degrees must divide 180 evenly")
        self.cell_degrees = cell_degrees
        self._n_lon = n_lon
        self._n_lat = n_lat
        self._cells: dict[int, _Cell] = {}
        self._size = 0

    def __len__(self) -> int:
        return self._size

    # -- cells -------------------------------------------------------------------------------

    def _cell_x(self, lon: float) -> int:
        return int(math.floor((lon + 180.0) / self.cell_degrees)) % self._n_lon

    def _cell_y(self, lat: float) -> int:
        return min(int(math.floor((lat + 90.0) / self.cell_degrees)), self._n_lat - 1)

    def _key(self, lat: float, lon: float) -> int:
        return self._cell_y(lat) * self._n_lon + self._cell_x(lon)

    # -- mutation ----------------------------------------------------------------------------

    def add(self, item_id: int, lat: float, lon: float) -> None:
        """Index ``item_id`` at (lat, lon); one id must be added once."""
        _check_point(lat, lon)
        key = self._key(lat, lon)
        cell = self._cells.get(key)
        if cell is None:
            cell = self._cells[key] = _Cell()
        cell.insert(item_id, lat, lon)
        self._size += 1

    def add_many(self, points: Iterable[tuple[int, float, float]]) -> None:
        """Index many ``(id, lat, lon)`` at once: append everywhere, sort each touched cell once.

        A million single ``add``s would shift large arrays on every insertion.
        """
        touched: set[int] = set()
        cells = self._cells
        added = 0
        for item_id, lat, lon in points:
            _check_point(lat, lon)
            key = self._key(lat, lon)
            cell = cells.get(key)
            if cell is None:
                cell = cells[key] = _Cell()
            cell.append(item_id, lat, lon)
            touched.add(key)
            added += 1
        for key in touched:
            cells[key].sort()
        self._size += added

    def remove(self, item_id: int, lat: float, lon: float) -> None:
        """Remove ``item_id`` that was added at (lat, lon); ``KeyError`` if it is not there."""
        key = self._key(lat, lon)
        cell = self._cells.get(key)
        if cell is None:
            raise KeyError(item_id)
        try:
            cell.delete(item_id, lat)
        except ValueError:
            raise KeyError(item_id) from None
        if not cell.ids:
            del self._cells[key]
        self._size -= 1

    def move(
        self, item_id: int, old_lat: float, old_lon: float, new_lat: float, new_lon: float
    ) -> None:
        """Re-index ``item_id`` after its point changed."""
        _check_point(new_lat, new_lon)
        self.remove(item_id, old_lat, old_lon)
        self.add(item_id, new_lat, new_lon)

    def clear(self) -> None:
        self._cells.clear()
        self._size = 0

    def copy(self) -> GeoIndex:
        """An independent index with the same points (used for the store's reset snapshot)."""
        twin = GeoIndex(self.cell_degrees)
        twin._cells = {key: cell.copy() for key, cell in self._cells.items()}
        twin._size = self._size
        return twin

    def ids(self) -> Iterator[int]:
        for cell in self._cells.values():
            yield from cell.ids

    # -- queries -----------------------------------------------------------------------------

    def query(self, lat: float, lon: float, radius_km: float) -> list[int]:
        """Ids of every point with ``haversine_km(lat, lon, point) <= radius_km`` (any order)."""
        _check_point(lat, lon)
        if radius_km < 0:
            return []
        if radius_km >= HALF_CIRCUMFERENCE_KM:
            return list(self.ids())

        found: list[int] = []
        phi = _radians(lat)
        cos_phi = _cos(phi)
        # Latitude band of the circle (never narrower than the true one, see _BOX_SLACK_DEG).
        band = math.degrees(radius_km / EARTH_RADIUS_KM) + _BOX_SLACK_DEG
        lat_lo, lat_hi = lat - band, lat + band
        for key, cell in self._candidate_cells(lat, lon, radius_km):
            if self._cell_inside(key, lat, lon, radius_km):
                found.extend(cell.ids)
                continue
            ids, lats, lons = cell.ids, cell.lats, cell.lons
            # Same arithmetic as haversine_km(lat, lon, p_lat, p_lon), so results are identical
            # to a brute-force scan, bit for bit.
            for index in range(bisect_left(lats, lat_lo), bisect_right(lats, lat_hi)):
                p_lat = lats[index]
                half_dphi = _radians(p_lat - lat) / 2
                half_dlambda = _radians(lons[index] - lon) / 2
                a = _sin(half_dphi) ** 2 + cos_phi * _cos(_radians(p_lat)) * _sin(half_dlambda) ** 2
                if 2 * EARTH_RADIUS_KM * _asin(min(1.0, _sqrt(a))) <= radius_km:
                    found.append(ids[index])
        return found

    def _candidate_cells(
        self, lat: float, lon: float, radius_km: float
    ) -> Iterable[tuple[int, _Cell]]:
        """Cells overlapping the bounding box of the circle (wrapping at the antimeridian)."""
        lat_lo, lat_hi, half_width = bounding_box(lat, radius_km)
        full_lon = half_width >= 180.0
        y0 = self._cell_y(max(lat_lo, -90.0))
        y1 = self._cell_y(min(lat_hi, 90.0))
        if full_lon:
            xs: Iterable[int] = range(self._n_lon)
            n_x = self._n_lon
        else:
            x0 = int(math.floor((lon - half_width + 180.0) / self.cell_degrees))
            x1 = int(math.floor((lon + half_width + 180.0) / self.cell_degrees))
            n_x = min(x1 - x0 + 1, self._n_lon)
            xs = (
                range(self._n_lon)
                if n_x == self._n_lon
                else [x % self._n_lon for x in range(x0, x1 + 1)]
            )
        n_lon = self._n_lon
        cells = self._cells
        if (y1 - y0 + 1) * n_x > len(cells):
            # A huge box over a sparse grid: walk the populated cells instead of the box.
            x_set = set(xs)
            return [
                (key, cell)
                for key, cell in cells.items()
                if y0 <= key // n_lon <= y1 and key % n_lon in x_set
            ]
        xs = list(xs)
        picked: list[tuple[int, _Cell]] = []
        for y in range(y0, y1 + 1):
            row = y * n_lon
            for x in xs:
                cell = cells.get(row + x)
                if cell is not None:
                    picked.append((row + x, cell))
        return picked

    def _cell_inside(self, key: int, lat: float, lon: float, radius_km: float) -> bool:
        """True when every point of the cell is certainly within the circle (see module doc)."""
        size = self.cell_degrees
        lat0 = (key // self._n_lon) * size - 90.0
        lon0 = (key % self._n_lon) * size - 180.0
        lon1 = lon0 + size
        if abs(_wrap_degrees(lon0 - lon)) > 90.0 or abs(_wrap_degrees(lon1 - lon)) > 90.0:
            return False
        farthest = max(
            haversine_km(lat, lon, lat0, lon0),
            haversine_km(lat, lon, lat0, lon1),
            haversine_km(lat, lon, lat0 + size, lon0),
            haversine_km(lat, lon, lat0 + size, lon1),
        )
        return farthest < _CORNER_TRUST_LIMIT_KM and farthest <= radius_km - _INSIDE_SLACK_KM
