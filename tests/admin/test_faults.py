"""Fault rules and the `Prefer` override, seen from the client (Flask's test client here; the
real-server tests measure latency and dropped connections over a socket)."""

from __future__ import annotations

import time

import pytest
from flask.testing import FlaskClient

from mock_server.controls.faults import ConnectionDropped, parse_prefer
from mock_server.services import Services

from .conftest import ADMIN, API_KEY, LILLE_QUERY, NEW_EVENT

EVENTS = f"/activities/v1/events?{LILLE_QUERY}"


def add_fault(client: FlaskClient, **rule: object) -> dict:
    answer = client.post("/__admin/faults", json=rule, headers=ADMIN)
    assert answer.status_code == 201, answer.json
    return answer.json


def test_a_status_fault_answers_the_specs_error_body_without_running_the_request(
        client: FlaskClient, bearer, services: Services) -> None:
    rule = add_fault(client, kind="status", status=422, method="POST",
                     path="/activities/v1/events")
    before = services.store.event_count()
    answer = client.post("/activities/v1/events", json=NEW_EVENT, headers=bearer())
    assert answer.status_code == 422
    assert answer.json == {
        "code": 422, "message": "The given data was invalid.",
        "errors": {"end_date": ["The end date must be a date after start date."]}}
    assert answer.headers["X-Mock-Fault"] == rule["id"]
    assert services.store.event_count() == before
    exchange = client.get("/__admin/journal", headers=ADMIN).json["exchanges"][-1]
    assert exchange["fault"] == f"rule {rule['id']}: status 422"
    assert exchange["response"]["status"] == 422


@pytest.mark.parametrize("status", [401, 403, 404, 498, 500])
def test_every_documented_error_can_be_forced(client: FlaskClient, bearer, status: int) -> None:
    add_fault(client, kind="status", status=status, operationId="getEvent")
    answer = client.get("/activities/v1/events/1", headers=bearer())
    assert answer.status_code == status and answer.json["code"] == status
    assert client.get(EVENTS, headers=API_KEY).status_code == 200  # another operation


def test_count_limits_a_rule_which_stays_listed_when_exhausted(client: FlaskClient) -> None:
    rule = add_fault(client, kind="status", status=500, path="/activities/v1/events", count=2)
    statuses = [client.get(EVENTS, headers=API_KEY).status_code for _ in range(4)]
    assert statuses == [500, 500, 200, 200]
    listed = client.get(f"/__admin/faults/{rule['id']}", headers=ADMIN).json
    assert (listed["hits"], listed["remaining"], listed["count"]) == (2, 0, 2)


def test_probability_fires_on_about_that_share_of_requests(client: FlaskClient) -> None:
    add_fault(client, kind="status", status=500, probability=0.5)
    statuses = [client.get(EVENTS, headers=API_KEY).status_code for _ in range(200)]
    assert 50 <= statuses.count(500) <= 150
    assert set(statuses) == {200, 500}


def test_rules_match_on_method_path_glob_and_header(client: FlaskClient, bearer) -> None:
    add_fault(client, kind="status", status=404, method="GET",
              path="/activities/v1/events/*/subscribers*", header={"name": "X-Test-Case"})
    add_fault(client, kind="status", status=403, method="GET", path="*",
              header={"name": "X-Test-Case", "value": "forbid"})
    headers = bearer()
    plain = client.get("/activities/v1/events/1/subscribers", headers=headers)
    assert plain.status_code == 200
    tagged = client.get("/activities/v1/events/1/subscribers",
                        headers={**headers, "X-Test-Case": "any"})
    assert tagged.status_code == 404 and "X-Mock-Fault" in tagged.headers
    assert client.get(EVENTS, headers={**API_KEY, "X-Test-Case": "any"}).status_code == 200
    assert client.get(EVENTS, headers={**API_KEY, "X-Test-Case": "forbid"}).status_code == 403


def test_latency_delays_then_answers_normally(client: FlaskClient) -> None:
    add_fault(client, kind="latency", latency_ms=120, path="/activities/*")
    started = time.perf_counter()
    answer = client.get(EVENTS, headers=API_KEY)
    elapsed = time.perf_counter() - started
    assert answer.status_code == 200 and elapsed >= 0.12
    exchange = client.get("/__admin/journal", headers=ADMIN).json["exchanges"][-1]
    assert exchange["duration_ms"] >= 120 and exchange["fault"].endswith("latency 120 ms")


def test_a_latency_range_and_a_status_rule_combine(client: FlaskClient) -> None:
    add_fault(client, kind="latency", latency_ms=[40, 60])
    add_fault(client, kind="status", status=500)
    started = time.perf_counter()
    answer = client.get(EVENTS, headers=API_KEY)
    assert answer.status_code == 500
    assert time.perf_counter() - started >= 0.04
    fault = client.get("/__admin/journal", headers=ADMIN).json["exchanges"][-1]["fault"]
    assert "latency 40-60 ms" in fault and "status 500" in fault


def test_a_drop_never_answers(client: FlaskClient) -> None:
    add_fault(client, kind="drop", method="GET", path="/activities/v1/events")
    with pytest.raises(ConnectionDropped):
        client.get(EVENTS, headers=API_KEY)
    exchange = client.get("/__admin/journal", headers=ADMIN).json["exchanges"][-1]
    assert exchange["response"] is None and exchange["complete"] is False
    assert exchange["error"].startswith("connection dropped")


@pytest.mark.parametrize("rule, fields", [
    ({"kind": "explode"}, {"kind"}),
    ({"kind": "status", "status": 418}, {"status"}),
    ({"kind": "status"}, {"status"}),
    ({"kind": "latency", "latency_ms": -1}, {"latency_ms"}),
    ({"kind": "latency", "latency_ms": [500, 100]}, {"latency_ms"}),
    ({"kind": "drop", "probability": 0}, {"probability"}),
    ({"kind": "drop", "count": 0}, {"count"}),
    ({"kind": "drop", "status": 500, "colour": "red"}, {"status", "colour"}),
    ({"kind": "drop", "operationId": "deleteEverything"}, {"operationId"}),
    ({"kind": "drop", "header": {"value": "x"}}, {"header"}),
    ({"kind": "drop", "method": "GET POST"}, {"method"}),
])
def test_invalid_rules_answer_422_naming_each_field(client: FlaskClient, rule: dict,
                                                    fields: set[str]) -> None:
    answer = client.post("/__admin/faults", json=rule, headers=ADMIN)
    assert answer.status_code == 422
    assert set(answer.json["errors"]) == fields
    assert client.get("/__admin/faults", headers=ADMIN).json["faults"] == []


def test_rules_are_listed_removed_and_cleared(client: FlaskClient) -> None:
    first = add_fault(client, kind="drop", path="/nowhere")
    add_fault(client, kind="latency", latency_ms=1)
    assert [r["id"] for r in client.get("/__admin/faults", headers=ADMIN).json["faults"]] == [
        first["id"], f"f{int(first['id'][1:]) + 1}"]
    assert client.delete(f"/__admin/faults/{first['id']}", headers=ADMIN).status_code == 200
    assert client.delete(f"/__admin/faults/{first['id']}", headers=ADMIN).status_code == 404
    assert client.get(f"/__admin/faults/{first['id']}", headers=ADMIN).status_code == 404
    assert client.delete("/__admin/faults", headers=ADMIN).json == {"removed": 1}


def test_a_fault_on_a_path_with_no_operation_uses_the_common_error_body(
        client: FlaskClient) -> None:
    add_fault(client, kind="status", status=404, path="/somewhere/*")
    answer = client.get("/somewhere/else")
    assert answer.status_code == 404 and answer.json == {"code": 404,
                                                         "message": "Event 42 not found."}


def test_rules_apply_to_the_root_paths_by_glob_and_by_operation(client: FlaskClient,
                                                                bearer) -> None:
    """`/v1/...` is an operation like `/activities/v1/...`: a rule naming the operation fires
    on both, a path glob on the paths it matches."""
    headers = bearer()
    by_operation = add_fault(client, kind="status", status=404, operationId="getEvent")
    assert client.get("/v1/events/1", headers=headers).status_code == 404
    assert client.get("/activities/v1/events/1", headers=headers).status_code == 404
    client.delete(f"/__admin/faults/{by_operation['id']}", headers=ADMIN)
    add_fault(client, kind="status", status=500, path="/v1/*")
    answer = client.get(f"/v1/events?{LILLE_QUERY}", headers=API_KEY)
    assert answer.status_code == 500 and answer.json["code"] == 500
    assert client.get(EVENTS, headers=API_KEY).status_code == 200
    exchange = client.get("/__admin/journal", query_string={"path": "/v1/events"},
                          headers=ADMIN).json["exchanges"][-1]
    assert exchange["operationId"] == "listEvents" and exchange["fault"].endswith("status 500")


# --- Prefer ---------------------------------------------------------------------------------

def test_prefer_works_at_the_root(client: FlaskClient) -> None:
    answer = client.get("/v1/events/1", headers={"Prefer": "example=documented"})
    assert answer.status_code == 200 and answer.json["data"]["title"] == "Test title 2"
    assert answer.headers["Preference-Applied"] == "example=documented"


def test_prefer_code_answers_the_documented_error(client: FlaskClient, bearer) -> None:
    answer = client.get("/activities/v1/events/1", headers={**bearer(), "Prefer": "code=404"})
    assert answer.status_code == 404
    assert answer.json == {"code": 404, "message": "Event 42 not found."}
    assert answer.headers["Preference-Applied"] == "code=404"


def test_prefer_code_of_a_success_answers_the_specs_example(client: FlaskClient,
                                                            services: Services) -> None:
    before = services.store.event_count()
    answer = client.post("/activities/v1/events", json=NEW_EVENT,
                         headers={"Prefer": "code=201"})
    assert answer.status_code == 201 and answer.json["data"]["title"] == "Test title"
    assert services.store.event_count() == before  # no state, no authentication


def test_prefer_example_names_an_example(client: FlaskClient) -> None:
    answer = client.get("/activities/v1/events/1", headers={"Prefer": "example=documented"})
    assert answer.status_code == 200 and answer.json["data"]["title"] == "Test title 2"
    both = client.get("/activities/v1/events/1", headers={"Prefer": "code=200, example=documented"})
    assert both.json == answer.json
    static = client.get("/activities/v1/events/1", headers={"Prefer": "dynamic=false"})
    assert static.json == answer.json


def test_prefer_dynamic_true_is_the_stateful_answer(client: FlaskClient, bearer) -> None:
    headers = bearer()
    created = client.post("/activities/v1/events", json=NEW_EVENT,
                          headers={**headers, "Prefer": "dynamic=true"})
    assert created.status_code == 201 and created.headers["Preference-Applied"] == "dynamic=true"
    event_id = created.json["data"]["id"]
    assert client.get(f"/activities/v1/events/{event_id}", headers=headers).status_code == 200


@pytest.mark.parametrize("prefer, message", [
    ("code=418", "not documented for getEvent; documented: 200, 400, 401, 404"),
    ("code=abc", "not documented"),
    ("example=nope", "examples: documented"),
    ("code=404, example=nope", "examples: default"),
])
def test_an_impossible_preference_answers_400_saying_what_exists(client: FlaskClient,
                                                                 prefer: str,
                                                                 message: str) -> None:
    answer = client.get("/activities/v1/events/1", headers={"Prefer": prefer})
    assert answer.status_code == 400 and message in answer.json["message"]


def test_other_preferences_and_unknown_paths_are_left_alone(client: FlaskClient) -> None:
    plain = client.get(EVENTS, headers={**API_KEY, "Prefer": "return=minimal"})
    assert plain.status_code == 200 and "Preference-Applied" not in plain.headers
    assert client.get("/nowhere", headers={"Prefer": "code=200"}).status_code == 404


def test_fault_rules_come_before_prefer(client: FlaskClient) -> None:
    add_fault(client, kind="status", status=500)
    answer = client.get("/activities/v1/events/1", headers={"Prefer": "code=404"})
    assert answer.status_code == 500


@pytest.mark.parametrize("header, expected", [
    ("code=404", {"code": "404"}),
    ('code="404"; example=documented', {"code": "404", "example": "documented"}),
    ("respond-async, wait=5, dynamic=true", {"dynamic": "true"}),
    ("return=minimal", {}),
])
def test_prefer_parsing(header: str, expected: dict) -> None:
    assert parse_prefer(header) == expected
