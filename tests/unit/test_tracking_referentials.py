"""The packaged referentials match the documented ones and cannot be changed by callers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mock_server.domain.tracking.referentials import (
    DATATYPES,
    SPORTS,
    activity_label,
    sport_id_from_iri,
    sport_iri,
)
from mock_server.seed import FIXTURE_SPORTS

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference"


def test_the_sports_the_fixtures_use_are_in_the_referential() -> None:
    assert {121: "Running", 381: "Bicycle", 113: "Walking", 168: "Hiking"}.items() <= SPORTS.items()
    assert set(FIXTURE_SPORTS) <= set(SPORTS)


def test_datatypes_carry_unit_and_label() -> None:
    assert (DATATYPES[5].unit, DATATYPES[5].label) == ("m", "Distance")
    assert (DATATYPES[24].unit, DATATYPES[9].unit) == ("s", "m/h")


def test_the_referentials_are_read_only() -> None:
    with pytest.raises(TypeError):
        SPORTS[1] = "Invented"  # type: ignore[index]
    with pytest.raises(TypeError):
        DATATYPES[1] = DATATYPES[5]  # type: ignore[index]


def test_activity_labels_follow_the_documented_example() -> None:
    assert activity_label(381) == "Biking"
    assert activity_label(121) == "Running"
    with pytest.raises(KeyError):
        activity_label(999_999)


@pytest.mark.parametrize("iri", ["/v2/sports/", "/v2/sports/x", "/v1/sports/1", "/v2/sports/1/"])
def test_sport_iris_round_trip_and_anything_else_is_none(iri: str) -> None:
    assert sport_iri(381) == "/v2/sports/381"
    assert sport_id_from_iri(sport_iri(381)) == 381
    assert sport_id_from_iri(iri) is None


@pytest.mark.skipif(not REFERENCE.is_dir(), reason="shared/reference is not next to the repo")
def test_the_packaged_copy_equals_the_reference_file() -> None:
    reference = json.loads((REFERENCE / "sportstrackingdata-referentials.json").read_text())
    assert dict(SPORTS) == {s["id"]: s["name"] for s in reference["sports"]}
    assert [
        {
            "id": d.id,
            "unit": d.unit,
            "label": d.label,
            "cumulable": d.cumulable,
            "recordWay": d.record_way,
        }
        for d in DATATYPES.values()
    ] == reference["datatypes"]
