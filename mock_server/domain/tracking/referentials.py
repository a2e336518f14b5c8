"""The Sports Tracking Data referentials: sports and datatypes.

Copied from the service's documented referentials (docs/030-main-referentials.md, kept in
``shared/reference/sportstrackingdata-referentials.json``). They live here as Python literals,
not as a data file, so the package works installed anywhere without package-data configuration
and without the ``shared`` folder.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "DATATYPES",
    "SPORTS",
    "Datatype",
    "activity_label",
    "sport_id_from_iri",
    "sport_iri",
]


@dataclass(frozen=True)
class Datatype:
    """One measured quantity; activities key ``dataSummaries``/``datastream`` by its id."""

    id: int
    unit: str
    label: str
    cumulable: bool
    record_way: int


_SPORTS: tuple[tuple[int, str], ...] = (
    (7, "Paragliding"),
    (10, "Basketball"),
    (13, "Football"),
    (18, "Handball"),
    (20, "Hockey"),
    (27, "Rugby"),
    (32, "Volleyball"),
    (35, "Boxing"),
    (45, "Martial arts"),
    (77, "Triathlon"),
    (79, "Dancing"),
    (91, "Fitness"),
    (98, "Indoor weight training"),
    (105, "Yoga"),
    (109, "Pilates"),
    (110, "Indoor fitness bike"),
    (113, "Walking"),
    (114, "Nordic walking"),
    (121, "Running"),
    (126, "Trail"),
    (127, "Orientation racing"),
    (153, "Mountaineering"),
    (161, "Climbing"),
    (168, "Hiking"),
    (173, "Snow-shoeing"),
    (174, "Skiing"),
    (176, "Alpine skiing"),
    (177, "Back country skiing"),
    (183, "Alternative Nordic skiing"),
    (184, "Nordic skating"),
    (185, "Snowboarding"),
    (200, "Horse riding"),
    (260, "Aqua gym sessions"),
    (263, "Rowing"),
    (264, "Bodyboarding"),
    (265, "Canoeing and kayaking"),
    (273, "Kite surfing"),
    (274, "Swimming"),
    (280, "Wind surfing"),
    (284, "Underwater diving"),
    (296, "Surfing"),
    (301, "Sailing"),
    (320, "Golf"),
    (326, "Archery"),
    (335, "Badminton"),
    (340, "Padel"),
    (354, "Squash"),
    (357, "Tennis"),
    (358, "Table tennis"),
    (360, "BMX"),
    (366, "Land sailing"),
    (367, "Inline skating"),
    (374, "Skateboarding"),
    (380, "Scooter"),
    (381, "Bicycle"),
    (385, "Road cycling"),
    (388, "Mountain biking"),
    (395, "Treadmill"),
    (397, "Cross trainer"),
    (398, "Rowing machine"),
    (399, "Run & Bike"),
    (400, "Stand up paddle boarding"),
    (401, "Home Trainer"),
    (402, "Daily activity"),
    (403, "Zumba"),
    (404, "Cross training"),
    (405, "Jumping rope"),
)

# Same order as the documented table (it is not sorted by id there either).
_DATATYPES: tuple[Datatype, ...] = (
    Datatype(99, "Ons", "Points earned", cumulable=True, record_way=1),
    Datatype(24, "s", "Duration", cumulable=True, record_way=1),
    Datatype(5, "m", "Distance", cumulable=True, record_way=1),
    Datatype(23, "kcal", "Calories burnt", cumulable=True, record_way=1),
    Datatype(9, "m/h", "Speed avg", cumulable=False, record_way=1),
    Datatype(6, "m/h", "Speed current", cumulable=False, record_way=0),
    Datatype(18, "m", "Ascent", cumulable=True, record_way=1),
    Datatype(19, "m", "Descent", cumulable=True, record_way=1),
    Datatype(16, "m", "Elevation min", cumulable=False, record_way=0),
    Datatype(15, "m", "Elevation max", cumulable=False, record_way=1),
    Datatype(14, "m", "Elevation current", cumulable=False, record_way=0),
    Datatype(36, "", "Mode", cumulable=False, record_way=0),
    Datatype(4, "bpm", "HR avg", cumulable=False, record_way=0),
    Datatype(7, "m/h", "Speed max", cumulable=False, record_way=1),
    Datatype(3, "bpm", "HR max", cumulable=False, record_way=1),
    Datatype(1, "bpm", "HR current", cumulable=False, record_way=0),
    Datatype(20, "bool", "Lap", cumulable=False, record_way=0),
    Datatype(17, "m", "Elevation avg", cumulable=False, record_way=0),
    Datatype(10, "steps/min", "Cadence current", cumulable=False, record_way=0),
    Datatype(177, "", "Bike trainer resistance", cumulable=False, record_way=0),
    Datatype(207, "", "Avg Bike Trainer Resistance", cumulable=False, record_way=0),
    Datatype(206, "", "Avg Bike Trainer Resistance", cumulable=False, record_way=1),
    Datatype(103, "rpm", "RPM avg", cumulable=False, record_way=1),
    Datatype(101, "rpm", "RPM max", cumulable=False, record_way=0),
    Datatype(100, "rpm", "RPM current", cumulable=False, record_way=0),
)

#: Sport id -> name, read-only so no caller can change the referential for everyone.
SPORTS: Mapping[int, str] = MappingProxyType(dict(_SPORTS))

#: Datatype id -> Datatype, read-only, in the documented order.
DATATYPES: Mapping[int, Datatype] = MappingProxyType({d.id: d for d in _DATATYPES})

# The service names activities with a shorter word than the referential for some sports: the
# documented cycling example (sport 381 "Bicycle") is called "Biking 2019-02-12 14:07".
_ACTIVITY_LABELS: Mapping[int, str] = MappingProxyType({381: "Biking"})

_SPORT_IRI = re.compile(r"/v2/sports/([0-9]{1,9})")


def activity_label(sport_id: int) -> str:
    """The word an activity's default name starts with ("Biking", "Running", ...).

    Raises ``KeyError`` for a sport outside the referential, so fixtures cannot invent sports.
    """
    if sport_id in _ACTIVITY_LABELS:
        return _ACTIVITY_LABELS[sport_id]
    return SPORTS[sport_id]


def sport_iri(sport_id: int) -> str:
    """The IRI the service uses to point at a sport, e.g. ``/v2/sports/381``."""
    return f"/v2/sports/{int(sport_id)}"


def sport_id_from_iri(iri: str) -> int | None:
    """The sport id in ``/v2/sports/{id}``, or ``None`` when the IRI is not of that form."""
    match = _SPORT_IRI.fullmatch(iri) if isinstance(iri, str) else None
    return int(match.group(1)) if match else None
