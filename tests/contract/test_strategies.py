"""The behaviour checks' inputs are valid by the spec and by its rules (else a check would
report the check's own mistake as the server's)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_schema_validator import OAS30Validator

from contracts import Spec
from contracts.strategies import (
    event_bodies,
    event_patches,
    great_circle_km,
    jpeg_bytes,
    listing_filters,
    upload_files,
)

SPEC = Spec.load()
#: The example count is the hypothesis profile's (tests/conftest.py), like every property test.
FAST = settings(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


def _validator(name: str) -> OAS30Validator:
    schema = {"$ref": f"#/components/schemas/{name}", "components": SPEC.raw["components"]}
    return OAS30Validator(schema)


CREATE, PATCH = _validator("EventCreate"), _validator("EventPatch")


@FAST
@given(event_bodies(statuses=(None, "PUBLISHED", "PENDING"), subscription_disabled=None))
def test_event_bodies_are_valid_creations(body: dict[str, Any]) -> None:
    assert not list(CREATE.iter_errors(body))
    assert body["start_date"] < body["end_date"]
    assert body["age_min"] <= body["age_max"]
    assert all(text == text.strip() for text in (body["title"], body["description"]))


@FAST
@given(event_patches())
def test_event_patches_are_valid_and_keep_rules_together(patch: dict[str, Any]) -> None:
    assert patch and not list(PATCH.iter_errors(patch))
    assert ("start_date" in patch) == ("end_date" in patch)
    assert ("age_min" in patch) == ("age_max" in patch)


@FAST
@given(listing_filters())
def test_listing_filters_are_valid_query_values(params: dict[str, Any]) -> None:
    if "age_min" in params and "age_max" in params:
        assert params["age_min"] <= params["age_max"]
    if "start_date" in params and "end_date" in params:
        assert params["start_date"] <= params["end_date"]
    assert 1 <= params.get("distance", 100) <= 20000


@pytest.mark.parametrize("size", [3 * 1024 * 1024, 3 * 1024 * 1024 + 1, 65537 + 25,
                                  65537 + 26, 65537 + 27, 65537 + 29, 70000, 400 * 1024])
def test_jpeg_bytes_reach_an_exact_size(size: int) -> None:
    data = jpeg_bytes(b"seed", size=size)
    assert len(data) == size
    assert data[:3] == b"\xff\xd8\xff" and data[-2:] == b"\xff\xd9"


@FAST
@given(upload_files())
def test_upload_files_match_their_extension(upload: tuple[str, bytes, str]) -> None:
    name, data, content_type = upload
    extension = name.rsplit(".", 1)[1]
    if extension in ("jpg", "jpeg"):
        assert data[:3] == b"\xff\xd8\xff" and content_type == "image/jpeg"
    elif extension == "json":
        import json

        json.loads(data)
    else:
        import xml.etree.ElementTree as ET

        root = ET.fromstring(data).tag.split("}")[-1]
        assert root == {"gpx": "gpx", "tcx": "TrainingCenterDatabase", "xml": "note"}[extension]


@given(st.floats(-80, 80), st.floats(-170, 170))
def test_great_circle_distance_is_symmetric_and_zero_on_the_point(lat: float, lon: float) -> None:
    assert great_circle_km(lat, lon, lat, lon) == pytest.approx(0, abs=1e-6)
    assert great_circle_km(lat, lon, 0, 0) == pytest.approx(great_circle_km(0, 0, lat, lon))


def test_great_circle_distance_lille_paris() -> None:
    assert great_circle_km(50.6292, 3.0573, 48.8566, 2.3522) == pytest.approx(204, abs=3)
