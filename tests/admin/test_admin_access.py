"""The admin API is kept apart: its own key, its own spec, switchable off, never faulted."""

from __future__ import annotations

import re
from pathlib import Path

import jsonschema
import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from mock_server.app import create_app

from .conftest import ADMIN, API_KEY, LILLE_QUERY

ADMIN_SPEC = (Path(__file__).resolve().parents[2] / "mock_server" / "controls" / "admin"
              / "admin-openapi.yaml")


def admin_rules(app: Flask) -> list[tuple[str, str]]:
    """(method, path in the spec's template form) of every admin route of the app."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/__admin"):
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
            found += [(m, path) for m in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return sorted(found)


def test_the_admin_spec_is_valid_openapi() -> None:
    validate(yaml.safe_load(ADMIN_SPEC.read_text(encoding="utf-8")))


def test_every_admin_route_is_in_the_admin_spec_and_back(admin_app: Flask) -> None:
    document = yaml.safe_load(ADMIN_SPEC.read_text(encoding="utf-8"))
    documented = sorted((method.upper(), path) for path, item in document["paths"].items()
                        for method in item if method != "parameters"
                        and path not in ("/__admin/report",  # the proxy's route
                                         "/__health"))  # a WSGI layer's, not the blueprint's
    assert admin_rules(admin_app) == documented


def test_the_admin_spec_is_served(client: FlaskClient) -> None:
    answer = client.get("/__admin/openapi.yaml", headers=ADMIN)
    assert answer.status_code == 200
    assert yaml.safe_load(answer.data)["info"]["title"].startswith("Offline twin admin API")


@pytest.mark.parametrize("headers", [{}, {"X-Admin-Key": "wrong"}, API_KEY],
                         ids=["no key", "wrong key", "api key only"])
def test_every_admin_route_refuses_without_its_key(admin_app: Flask, client: FlaskClient,
                                                    headers: dict[str, str]) -> None:
    for method, path in admin_rules(admin_app):
        url = path.replace("{id}", "1")
        answer = client.open(url, method=method, headers=headers, json={})
        assert answer.status_code == 401, (method, url)
        assert answer.json["code"] == 401
        assert "X-Admin-Key" in answer.json["message"]


def test_a_refused_admin_call_changes_nothing(client: FlaskClient) -> None:
    client.put("/__admin/clock", json={"now": "2030-01-01T00:00:00Z", "frozen": True})
    assert client.get("/__admin/clock", headers=ADMIN).json["frozen"] is False


def test_with_admin_switched_off_the_prefix_is_an_unknown_path() -> None:
    client = create_app({"SEED": 42, "EVENTS": 10, "ADMIN_ENABLED": False}).test_client()
    for url in ("/__admin/reset", "/__admin/journal", "/__admin/openapi.yaml"):
        answer = client.post(url, headers=ADMIN) if url.endswith("reset") else client.get(
            url, headers=ADMIN)
        assert answer.status_code == 404, url
        assert answer.json["code"] == 404
    assert client.get(f"/activities/v1/events?{LILLE_QUERY}", headers=API_KEY).status_code == 200


def test_a_custom_admin_key_replaces_the_default() -> None:
    client = create_app({"SEED": 42, "EVENTS": 10, "ADMIN_KEY": "s3cret"}).test_client()
    assert client.get("/__admin/clock", headers=ADMIN).status_code == 401
    assert client.get("/__admin/clock", headers={"X-Admin-Key": "s3cret"}).status_code == 200


def test_admin_calls_are_not_journaled(client: FlaskClient) -> None:
    client.get(f"/activities/v1/events?{LILLE_QUERY}", headers=API_KEY)
    client.get("/__admin/clock", headers=ADMIN)
    paths = [ex["request"]["path"] for ex in
             client.get("/__admin/journal", headers=ADMIN).json["exchanges"]]
    assert paths == ["/activities/v1/events"]


def test_admin_calls_are_never_faulted(client: FlaskClient) -> None:
    client.post("/__admin/faults", json={"kind": "status", "status": 500}, headers=ADMIN)
    client.post("/__admin/faults", json={"kind": "drop", "path": "/__admin/*"}, headers=ADMIN)
    assert client.get("/__admin/faults", headers=ADMIN).status_code == 200
    assert client.get(f"/activities/v1/events?{LILLE_QUERY}",
                      headers=API_KEY).status_code == 500


def test_admin_errors_use_the_apis_error_shape(client: FlaskClient) -> None:
    malformed = client.post("/__admin/faults", data=b"{nope", headers=ADMIN,
                            content_type="application/json")
    assert malformed.status_code == 400 and malformed.json["code"] == 400
    invalid = client.post("/__admin/reseed", json={"events": -1, "colour": 1}, headers=ADMIN)
    assert invalid.status_code == 422
    assert set(invalid.json["errors"]) == {"colour"}
    not_object = client.put("/__admin/clock", json=[1], headers=ADMIN)
    assert not_object.status_code == 422


def test_health_needs_no_key_and_answers_as_the_admin_spec_says(client: FlaskClient) -> None:
    document = yaml.safe_load(ADMIN_SPEC.read_text(encoding="utf-8"))
    schema = {**document["components"]["schemas"]["Health"],
              "components": document["components"]}
    answer = client.get("/__health")
    assert answer.status_code == 200
    jsonschema.validate(answer.json, schema)
    assert answer.json["engine"] == "memory" and answer.headers["Cache-Control"] == "no-store"
