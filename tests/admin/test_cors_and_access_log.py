"""CORS for browser clients (any origin by default, a list, or off) and the access log."""

from __future__ import annotations

import io
import json
import logging

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mock_server.app import create_app

from .conftest import ADMIN, API_KEY, LILLE_QUERY

ORIGIN = "http://localhost:3000"
EVENTS = f"/activities/v1/events?{LILLE_QUERY}"


@pytest.fixture(scope="module", params=[True, False], ids=["fast-path", "flask"])
def restricted_app(request: pytest.FixtureRequest) -> Flask:
    return create_app({"SEED": 42, "EVENTS": 10, "CORS_ORIGINS": [ORIGIN],
                       "FAST_PATH": request.param})


def _layers(app: Flask) -> list[object]:
    found, layer = [], app.wsgi_app
    while layer is not None:
        found.append(layer)
        layer = getattr(layer, "app", None)
    return found


@pytest.mark.parametrize("origins", [("*",), (ORIGIN,), ()])
def test_cors_never_turns_the_fast_path_off(origins: tuple[str, ...]) -> None:
    app = create_app({"SEED": 42, "EVENTS": 5, "CORS_ORIGINS": origins})
    kinds = [type(layer).__name__ for layer in _layers(app)]
    assert "ApiDispatcher" in kinds
    assert ("CorsMiddleware" in kinds) == bool(origins)
    assert kinds.index("JournalMiddleware") < kinds.index("FaultMiddleware")


def test_any_origin_by_default_on_every_kind_of_answer(admin_app: Flask, bearer) -> None:
    """As Prism does: a page of any origin may read the API's answers, files, errors, faults."""
    client = admin_app.test_client()
    origin = "https://partner.example"
    uploaded = client.post("/v2/upload", headers={**bearer(), "Origin": origin},
                           content_type="multipart/form-data",
                           data={"file": (io.BytesIO(b'{"a": 1}'), "t.json")})
    file_path = "/" + uploaded.json["url"].split("://", 1)[1].split("/", 1)[1]
    client.post("/__admin/faults", json={"kind": "status", "status": 498,
                                         "path": "/faulted/*"}, headers=ADMIN)
    try:
        answers = {
            "api": client.get(EVENTS, headers={**API_KEY, "Origin": origin}),
            "upload": uploaded,
            "file": client.get(file_path, headers={"Origin": origin}),
            "refusal": client.get("/v1/auth/me", headers={"Origin": origin}),
            "unknown path": client.get("/nowhere", headers={"Origin": origin}),
            "fault": client.get("/faulted/x", headers={"Origin": origin}),
            "prefer": client.get("/v1/events/1", headers={"Origin": origin,
                                                          "Prefer": "code=404"}),
        }
    finally:
        client.delete("/__admin/faults", headers=ADMIN)
    statuses = {name: answer.status_code for name, answer in answers.items()}
    assert statuses == {"api": 200, "upload": 200, "file": 200, "refusal": 401,
                        "unknown path": 404, "fault": 498, "prefer": 404}
    for name, answer in answers.items():
        assert answer.headers["Access-Control-Allow-Origin"] == origin, name
        assert "X-Request-Id" in answer.headers["Access-Control-Expose-Headers"], name
        assert answer.headers["Vary"] == "Origin", name
    plain = client.get(EVENTS, headers=API_KEY)  # no Origin: not a cross-origin request
    assert "Access-Control-Allow-Origin" not in plain.headers


def test_a_preflight_is_answered_before_faults_with_what_it_asks(client: FlaskClient) -> None:
    client.post("/__admin/faults", json={"kind": "status", "status": 500}, headers=ADMIN)
    try:
        answer = client.options("/activities/v1/events", headers={
            "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, x-api-key, content-type, prefer"})
    finally:
        client.delete("/__admin/faults", headers=ADMIN)
    assert answer.status_code == 200 and answer.data == b""
    assert answer.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "POST" in answer.headers["Access-Control-Allow-Methods"]
    allowed = answer.headers["Access-Control-Allow-Headers"].lower()
    assert {"authorization", "x-api-key", "content-type", "prefer"} <= {
        h.strip() for h in allowed.split(",")}
    assert answer.headers["Access-Control-Max-Age"] == "600"
    [exchange] = client.get("/__admin/journal", query_string={"method": "OPTIONS"},
                            headers=ADMIN).json["exchanges"]
    assert exchange["response"]["status"] == 200 and exchange["fault"] is None
    assert client.get("/__admin/journal/unmatched", headers=ADMIN).json["count"] == 0


def test_the_admin_api_is_left_out(admin_app: Flask) -> None:
    client = admin_app.test_client()
    answer = client.get("/__admin/journal", headers={**ADMIN, "Origin": ORIGIN})
    assert answer.status_code == 200 and "Access-Control-Allow-Origin" not in answer.headers
    preflight = client.options("/__admin/reset", headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in preflight.headers


def test_a_restricted_origin_list(restricted_app: Flask) -> None:
    client = restricted_app.test_client()
    answer = client.get(EVENTS, headers={**API_KEY, "Origin": ORIGIN})
    assert answer.status_code == 200 and answer.headers["Access-Control-Allow-Origin"] == ORIGIN
    other = client.get(EVENTS, headers={**API_KEY, "Origin": "http://evil.example"})
    assert other.status_code == 200 and "Access-Control-Allow-Origin" not in other.headers
    preflight = client.options("/v2/upload", headers={
        "Origin": "http://evil.example", "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in preflight.headers


def test_root_paths_answer_cors_too(restricted_app: Flask) -> None:
    client = restricted_app.test_client()
    answer = client.get(f"/v1/events?{LILLE_QUERY}", headers={**API_KEY, "Origin": ORIGIN})
    assert answer.status_code == 200 and answer.headers["Access-Control-Allow-Origin"] == ORIGIN
    preflight = client.options("/v2/upload", headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST"})
    assert preflight.headers["Access-Control-Allow-Origin"] == ORIGIN


def test_cors_switched_off() -> None:
    client = create_app({"SEED": 42, "EVENTS": 5, "CORS_ORIGINS": ()}).test_client()
    answer = client.get(EVENTS, headers={**API_KEY, "Origin": ORIGIN})
    assert answer.status_code == 200 and "Access-Control-Allow-Origin" not in answer.headers
    preflight = client.options("/activities/v1/events", headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in preflight.headers


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
