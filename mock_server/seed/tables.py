"""The seed's static tables, read once from the repository's ``fixtures/tables/``.

Cities, sites, sport profiles and the documents' own users and events are data, not code: they
live as JSON beside the other data sets (``fixtures/tables/README.md`` says what each file is
and where it comes from), and the generators beside them only decide how to draw from them.
Each file is checked against its JSON Schema (``fixtures/tables/schemas/``) and then for what a
schema cannot say (names that must refer to another table, ranges that must not be empty), so a
broken table stops the mock at start with the file and the place named, rather than as a
``KeyError`` in the middle of a build or, worse, as quietly different fixtures.

The files are outside the Python package: the project is installed editable from a checkout
(``pip install -e .``), so they are found relative to the repository, as ``openapi.yaml`` is.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import jsonschema_rs

from mock_server.domain.activities.models import Site

#: Where the tables are: ``fixtures/tables`` at the root of the checkout.
TABLES_DIR: Final = Path(__file__).resolve().parents[2] / "fixtures" / "tables"
#: The files the seed reads, each with ``schemas/<name>.schema.json``.
TABLE_NAMES: Final = (
    "cities", "sites", "sports", "event_choices", "documents", "tracking_sports",
)


class FixtureTablesError(RuntimeError):
    """A table of ``fixtures/tables`` is missing or does not hold what the seed needs."""


@dataclass(frozen=True, slots=True)
class City:
    name: str
    latitude: float
    longitude: float
    zip_code: str
    #: Metropolitan population in thousands: the city's weight in the France-wide draw.
    population_thousands: int | None = None


@dataclass(frozen=True, slots=True)
class SportProfile:
    """What makes an event of one sport look real: titles, venue, duration, audience."""

    sport_id: int
    titles: tuple[str, ...]  # "{city}" is replaced by the event's city
    descriptions: tuple[str, ...]
    venue: str  # name of the meeting place, "{city}" replaced
    duration_quarters: tuple[int, int]  # inclusive range, in quarter hours
    ages: tuple[tuple[int, int], ...]
    slots: tuple[int, int]
    equipment_required: tuple[str | None, ...]
    equipment_provided: tuple[str | None, ...]


@dataclass(frozen=True, slots=True)
class TrackingSportProfile:
    """What makes a tracking activity of one sport look real: distance, pace, effort."""

    sport_id: int
    distance_m: tuple[float, float]
    speed_mps: tuple[float, float]
    heart_rate: tuple[int, int]
    cadence: tuple[int, int] | None  # steps/min, only for sports on foot
    elevation_swing_m: tuple[float, float]
    kcal_per_km: float


@dataclass(frozen=True, slots=True)
class Tables:
    """Every table, typed; the documents' users and events stay as checked JSON, which
    ``seed.documents`` turns into models (their events need the generated pools)."""

    cities: Mapping[str, City]
    near_lille: tuple[City, ...]
    elsewhere: tuple[City, ...]
    france: tuple[City, ...]
    sites: tuple[Site, ...]
    staff_titles: tuple[str, ...]
    sports: tuple[SportProfile, ...]
    levels: tuple[tuple[int, ...], ...]
    owner_messages: tuple[str | None, ...]
    tracking_sports: tuple[TrackingSportProfile, ...]
    documents: Mapping[str, Any]


def load_tables(directory: Path = TABLES_DIR) -> Tables:
    """Read, check and type every table of ``directory``; ``FixtureTablesError`` if unusable."""
    raw = {name: _read_checked(directory, name) for name in TABLE_NAMES}
    problems = list(_reference_problems(raw))
    if problems:
        raise FixtureTablesError(
            f"The fixture tables in {directory} do not fit together:\n  " + "\n  ".join(problems)
        )
    cities = raw["cities"]
    by_name = {name: City(name, entry["latitude"], entry["longitude"], entry["zip_code"],
                          entry.get("population_thousands"))
               for name, entry in cities["cities"].items()}
    choices = raw["event_choices"]
    return Tables(
        cities=by_name,
        near_lille=tuple(by_name[name] for name in cities["near_lille"]),
        elsewhere=tuple(by_name[name] for name in cities["elsewhere"]),
        france=tuple(by_name[name] for name in cities["france"]),
        sites=tuple(Site(site["id"], site["name"]) for site in raw["sites"]["sites"]),
        staff_titles=tuple(raw["sites"]["staff_titles"]),
        sports=tuple(_sport(entry) for entry in raw["sports"]["sports"]),
        levels=tuple(tuple(levels) for levels in choices["levels"]),
        owner_messages=tuple(choices["owner_messages"]),
        tracking_sports=tuple(_tracking_sport(e) for e in raw["tracking_sports"]["sports"]),
        documents=raw["documents"],
    )


def _read_checked(directory: Path, name: str) -> Any:
    path = directory / f"{name}.json"
    schema_path = directory / "schemas" / f"{name}.schema.json"
    for needed in (path, schema_path):
        if not needed.is_file():
            raise FixtureTablesError(
                f"The fixture table {needed} is missing. The seed reads its tables from the "
                "repository's fixtures/tables/ (see its README.md): run the mock from a "
                "checkout, installed with `pip install -e .`."
            )
    document, schema = _read_json(path), _read_json(schema_path)
    errors = [
        f"{path}: /{'/'.join(map(str, error.instance_path))}: {error.message}"
        for error in jsonschema_rs.validator_for(schema).iter_errors(document)
    ]
    if errors:
        raise FixtureTablesError("\n".join(errors))
    return document


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise FixtureTablesError(f"{path}: not JSON: {error}") from None


def _reference_problems(raw: Mapping[str, Any]) -> Iterator[str]:
    """What the schemas cannot say: every name refers to a row, every range holds a value."""
    cities = raw["cities"]
    if "Lille" not in cities["cities"]:
        yield "cities.json: no 'Lille', the centre of the documents' examples"
    for group in ("near_lille", "elsewhere", "france"):
        for name in cities[group]:
            if name not in cities["cities"]:
                yield f"cities.json: {group} names {name!r}, which is not in cities"
            elif group == "france" and "population_thousands" not in cities["cities"][name]:
                yield f"cities.json: {name!r} is drawn France-wide but has no population"
    for table in ("sports", "tracking_sports"):
        yield from _repeated_sports(table, raw[table]["sports"])
    for sport in raw["sports"]["sports"]:
        ranges = [("duration_quarters", sport["duration_quarters"]), ("slots", sport["slots"])]
        ranges += [("ages", ages) for ages in sport["ages"]]
        yield from _empty_ranges("sports.json", sport["sport_id"], ranges)
    for sport in raw["tracking_sports"]["sports"]:
        names = ("distance_m", "speed_mps", "heart_rate", "cadence", "elevation_swing_m")
        yield from _empty_ranges("tracking_sports.json", sport["sport_id"],
                                 [(name, sport[name]) for name in names if sport[name]])
    yield from _document_problems(raw)


def _repeated_sports(table: str, sports: Sequence[Mapping[str, Any]]) -> Iterator[str]:
    seen: set[int] = set()
    for sport in sports:
        if sport["sport_id"] in seen:
            yield f"{table}.json: sport {sport['sport_id']} appears twice"
        seen.add(sport["sport_id"])


def _empty_ranges(
    table: str, sport_id: int, ranges: Sequence[tuple[str, Sequence[float]]]
) -> Iterator[str]:
    for name, (low, high) in ranges:
        if low > high:
            yield f"{table}: sport {sport_id}: {name} [{low}, {high}] is empty"


def _document_problems(raw: Mapping[str, Any]) -> Iterator[str]:
    documents = raw["documents"]
    site_ids = {site["id"] for site in raw["sites"]["sites"]}
    user_ids = [user["id"] for user in documents["users"]]
    if documents["default_user"] not in user_ids:
        yield "documents.json: default_user is not one of its users"
    for user in documents["users"]:
        if "site" in user and user["site"] not in site_ids:
            yield f"documents.json: user {user['id']}: site {user['site']} is not in sites.json"
    pooled_cities = raw["cities"]["near_lille"] + raw["cities"]["elsewhere"]
    sport_ids = [sport["sport_id"] for sport in raw["sports"]["sports"]]
    for number, event in enumerate(documents["events"], start=1):
        if event["id"] != number:
            yield f"documents.json: event {event['id']} stands where event {number} should"
        generated = event.get("generated_location")
        if generated and (generated["sport_id"] not in sport_ids
                          or generated["city"] not in pooled_cities):
            yield f"documents.json: event {event['id']}: no location is generated for {generated}"
        for subscription in event.get("subscriptions", ()):
            if subscription["user_id"] not in user_ids:
                yield (f"documents.json: event {event['id']}: subscriber "
                       f"{subscription['user_id']} is not one of its users")


def _sport(entry: Mapping[str, Any]) -> SportProfile:
    return SportProfile(
        sport_id=entry["sport_id"],
        titles=tuple(entry["titles"]),
        descriptions=tuple(entry["descriptions"]),
        venue=entry["venue"],
        duration_quarters=_pair(entry["duration_quarters"]),
        ages=tuple(_pair(ages) for ages in entry["ages"]),
        slots=_pair(entry["slots"]),
        equipment_required=tuple(entry["equipment_required"]),
        equipment_provided=tuple(entry["equipment_provided"]),
    )


def _tracking_sport(entry: Mapping[str, Any]) -> TrackingSportProfile:
    cadence = entry["cadence"]
    return TrackingSportProfile(
        sport_id=entry["sport_id"],
        distance_m=_pair(entry["distance_m"]),
        speed_mps=_pair(entry["speed_mps"]),
        heart_rate=_pair(entry["heart_rate"]),
        cadence=None if cadence is None else _pair(cadence),
        elevation_swing_m=_pair(entry["elevation_swing_m"]),
        kcal_per_km=entry["kcal_per_km"],
    )


def _pair(values: Sequence[Any]) -> tuple[Any, Any]:
    low, high = values
    return (low, high)


#: The tables, read when the seed is first imported (a few milliseconds).
TABLES: Final = load_tables()

#: Cities within about 100 km of Lille (where three quarters of the first 300 events are).
NORTH_CITIES: Final = TABLES.near_lille
#: Elsewhere in France (the other quarter).
FAR_CITIES: Final = TABLES.elsewhere
#: Events past ``WIDE_FROM_ID`` spread over these, weighted by population.
FRANCE_CITIES: Final = TABLES.france
#: Decathlon stores FED users belong to.
SITES: Final = TABLES.sites
FED_TITLES: Final = TABLES.staff_titles
SPORTS: Final = TABLES.sports
LEVEL_CHOICES: Final = TABLES.levels
OWNER_MESSAGES: Final = TABLES.owner_messages
#: Lille, the centre of the documents' examples (and the fixture users' home).
LILLE: Final = (TABLES.cities["Lille"].latitude, TABLES.cities["Lille"].longitude)
