"""CORS for browser clients (configurable origins) and the structured access log."""

from __future__ import annotations

import json
import logging

import pytest
from flask import Flask

from mock_server.app import create_app

from .conftest import ADMIN, API_KEY, LILLE_QUERY

ORIGIN = "http://localhost:3000"
EVENTS = f"/activities/v1/events?{LILLE_QUERY}"


@pytest.fixture(scope="module")
def cors_app() -> Flask:
    return create_app({"SEED": 42, "EVENTS": 10, "CORS_ORIGINS": [ORIGIN]})


def test_no_cors_headers_unless_origins_are_configured(admin_app: Flask) -> None:
    answer = admin_app.test_client().get(EVENTS, headers={**API_KEY, "Origin": ORIGIN})
    assert "Access-Control-Allow-Origin" not in answer.headers


def test_a_configured_origin_may_read_answers(cors_app: Flask) -> None:
    client = cors_app.test_client()
    answer = client.get(EVENTS, headers={**API_KEY, "Origin": ORIGIN})
    assert answer.headers["Access-Control-Allow-Origin"] == ORIGIN
    exposed = answer.headers["Access-Control-Expose-Headers"]
    assert "X-Request-Id" in exposed and "X-Mock-Fault" in exposed
    other = client.get(EVENTS, headers={**API_KEY, "Origin": "http://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_a_preflight_allows_the_apis_headers(cors_app: Flask) -> None:
    answer = cors_app.test_client().options("/activities/v1/events", headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, x-api-key, content-type, prefer"})
    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == ORIGIN
    allowed = answer.headers["Access-Control-Allow-Headers"].lower()
    assert {"authorization", "x-api-key", "content-type", "prefer"} <= {
        h.strip() for h in allowed.split(",")}


def test_root_paths_answer_cors_too(cors_app: Flask) -> None:
    client = cors_app.test_client()
    answer = client.get(f"/v1/events?{LILLE_QUERY}", headers={**API_KEY, "Origin": ORIGIN})
    assert answer.status_code == 200 and answer.headers["Access-Control-Allow-Origin"] == ORIGIN
    preflight = client.options("/v2/upload", headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST"})
    assert preflight.headers["Access-Control-Allow-Origin"] == ORIGIN


def test_injected_answers_carry_cors_headers_and_preflights_are_never_faulted(
        cors_app: Flask) -> None:
    client = cors_app.test_client()
    client.post("/__admin/faults", json={"kind": "status", "status": 500}, headers=ADMIN)
    try:
        faulted = client.get(EVENTS, headers={**API_KEY, "Origin": ORIGIN})
        assert faulted.status_code == 500
        assert faulted.headers["Access-Control-Allow-Origin"] == ORIGIN
        preflight = client.options("/activities/v1/events", headers={
            "Origin": ORIGIN, "Access-Control-Request-Method": "GET"})
        assert preflight.status_code == 200
    finally:
        client.delete("/__admin/faults", headers=ADMIN)


def test_any_origin_with_a_star() -> None:
    client = create_app({"SEED": 42, "EVENTS": 5, "CORS_ORIGINS": "*"}).test_client()
    answer = client.get(EVENTS, headers={**API_KEY, "Origin": "https://partner.example"})
    assert answer.headers["Access-Control-Allow-Origin"] in ("*", "https://partner.example")


def test_one_json_access_log_line_per_request_without_secrets(
        admin_app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    client = admin_app.test_client()
    token = client.post("/__admin/tokens", headers=ADMIN).json["token"]
    with caplog.at_level(logging.INFO, logger="mock_server.access"):
        client.get("/activities/v1/events/1",
                   headers={**API_KEY, "Authorization": f"Bearer {token}", "X-Request-Id": "r1"})
        client.get("/nowhere")
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "mock_server.access"]
    assert [line["path"] for line in lines] == ["/activities/v1/events/1", "/nowhere"]
    first = lines[0]
    assert first["method"] == "GET" and first["status"] == 200
    assert first["operationId"] == "getEvent" and first["request_id"] == "r1"
    assert first["duration_ms"] > 0 and first["bytes"] > 0
    assert lines[1]["status"] == 404 and lines[1]["operationId"] is None
    assert token not in caplog.text and "aaa-bbb-ccc" not in caplog.text
