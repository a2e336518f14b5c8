"""The request journal: what clients sent and got, filterable, bounded, with near misses."""

from __future__ import annotations

import io

import pytest
from flask.testing import FlaskClient

from mock_server.app import create_app

from .conftest import ADMIN, API_KEY, LILLE_QUERY, NEW_EVENT


def journal(client: FlaskClient, url: str = "/__admin/journal", **params: object) -> dict:
    answer = client.get(url, query_string=params, headers=ADMIN)
    assert answer.status_code == 200, answer.json
    return answer.json


def test_an_exchange_records_request_and_response(client: FlaskClient, bearer) -> None:
    headers = {**bearer(), "X-Request-Id": "test-42"}
    created = client.post("/activities/v1/events?", json=NEW_EVENT, headers=headers)
    assert created.headers["X-Request-Id"] == "test-42"
    [exchange] = journal(client)["exchanges"]
    assert exchange["request_id"] == "test-42"
    assert exchange["operationId"] == "createEvent"
    request, response = exchange["request"], exchange["response"]
    assert (request["method"], request["path"]) == ("POST", "/activities/v1/events")
    assert request["headers"]["Authorization"] == "Bearer ****"
    assert request["headers"]["X-Api-Key"] == "****"
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["body"] is not None and '"Morning run"' in request["body"]
    assert request["body_truncated"] is False
    assert response["status"] == 201
    assert response["body"] == created.get_data(as_text=True)
    assert response["body_size"] == len(created.data)
    assert exchange["duration_ms"] > 0 and exchange["complete"] is True
    assert exchange["fault"] is None and exchange["error"] is None


def test_secrets_never_reach_the_journal(client: FlaskClient, bearer) -> None:
    headers = bearer()
    client.get("/activities/v1/auth/me", headers={**headers, "Cookie": "session=abc"})
    text = client.get("/__admin/journal", headers=ADMIN).get_data(as_text=True)
    token = headers["Authorization"].split()[1]
    assert token not in text and "aaa-bbb-ccc" not in text and "session=abc" not in text


def test_the_query_is_kept_raw_and_parsed(client: FlaskClient) -> None:
    client.get(f"/activities/v1/events?{LILLE_QUERY}&level[]=5&level[]=10", headers=API_KEY)
    request = journal(client)["exchanges"][0]["request"]
    assert request["query_string"].endswith("level[]=5&level[]=10")
    assert request["query"]["level[]"] == ["5", "10"]


def test_filters_by_path_method_status_operation_and_since(client: FlaskClient,
                                                            bearer) -> None:
    headers = bearer()
    client.get(f"/activities/v1/events?{LILLE_QUERY}", headers=API_KEY)
    client.get("/activities/v1/events/1", headers=headers)
    client.get("/activities/v1/events/999999", headers=headers)
    client.post("/activities/v1/events", json={}, headers=headers)
    client.get("/sportstrackingdata/v2/activities", headers=headers)

    def paths(**params: object) -> list[str]:
        return [f"{e['request']['method']} {e['request']['path']}"
                for e in journal(client, **params)["exchanges"]]

    assert paths(path="/activities/v1/events/1") == ["GET /activities/v1/events/1"]
    assert paths(path="/activities/v1/events/*") == ["GET /activities/v1/events/1",
                                                     "GET /activities/v1/events/999999"]
    assert paths(method="post") == ["POST /activities/v1/events"]
    assert paths(status="404") == ["GET /activities/v1/events/999999"]
    assert len(paths(status="4xx")) == 2
    assert len(paths(status="2xx")) == 3
    assert paths(operationId="listActivities") == ["GET /sportstrackingdata/v2/activities"]
    first_id = journal(client)["exchanges"][0]["id"]
    assert len(paths(since=first_id)) == 4
    assert paths(limit=1) == ["GET /sportstrackingdata/v2/activities"]
    count = client.get("/__admin/journal/count", query_string={"path": "/activities/*"},
                       headers=ADMIN)
    assert count.json == {"count": 4}


def test_root_paths_are_journaled_with_their_operation(client: FlaskClient, bearer) -> None:
    """The spec's paths as written (`/v1/...`, `/v2/...`) are operations like the mounted ones."""
    headers = bearer()
    client.get(f"/v1/events?{LILLE_QUERY}", headers=API_KEY)
    client.get("/v1/events/1", headers=headers)
    client.get("/v2/activities", headers=headers)
    client.get("/activities/v1/events/1", headers=headers)
    exchanges = journal(client)["exchanges"]
    assert [(e["request"]["path"], e["operationId"]) for e in exchanges] == [
        ("/v1/events", "listEvents"), ("/v1/events/1", "getEvent"),
        ("/v2/activities", "listActivities"), ("/activities/v1/events/1", "getEvent")]
    assert [e["response"]["status"] for e in exchanges] == [200, 200, 200, 200]
    by_operation = journal(client, operationId="getEvent")["exchanges"]
    assert [e["request"]["path"] for e in by_operation] == ["/v1/events/1",
                                                            "/activities/v1/events/1"]
    assert journal(client, path="/v1/*")["count"] == 2
    assert journal(client, unmatched="true")["count"] == 0


@pytest.mark.parametrize("params", [{"status": "4x"}, {"since": "-1"}, {"limit": "0"},
                                    {"faulted": "maybe"}])
def test_bad_filters_answer_422(client: FlaskClient, params: dict) -> None:
    answer = client.get("/__admin/journal", query_string=params, headers=ADMIN)
    assert answer.status_code == 422 and set(answer.json["errors"]) == set(params)


def test_one_exchange_by_id_and_clearing(client: FlaskClient) -> None:
    client.get(f"/activities/v1/events?{LILLE_QUERY}", headers=API_KEY)
    exchange_id = journal(client)["exchanges"][0]["id"]
    one = client.get(f"/__admin/journal/{exchange_id}", headers=ADMIN)
    assert one.status_code == 200 and one.json["id"] == exchange_id
    assert client.delete("/__admin/journal", headers=ADMIN).json == {"cleared": 1}
    assert client.get(f"/__admin/journal/{exchange_id}", headers=ADMIN).status_code == 404
    assert journal(client)["count"] == 0


def test_unmatched_requests_are_listed_apart_with_the_nearest_operation(
        client: FlaskClient, bearer) -> None:
    headers = bearer()
    client.get("/activities/v1/event/1", headers=headers)
    client.delete("/activities/v1/events/1", headers=headers)
    client.get("/v1/evnts?latitude=1&longitude=1", headers=API_KEY)
    client.get("/activities/v1/events/abc", headers=headers)
    client.get("/activities/api/swagger")  # the mock's own page: matched, not an API miss
    client.get("/activities/v1/events/1", headers=headers)
    unmatched = journal(client, "/__admin/journal/unmatched")["exchanges"]
    nearest = {e["request"]["path"] + " " + e["request"]["method"]: e["nearest"]
               for e in unmatched}
    assert set(nearest) == {"/activities/v1/event/1 GET", "/activities/v1/events/1 DELETE",
                            "/v1/evnts GET", "/activities/v1/events/abc GET"}
    assert nearest["/activities/v1/event/1 GET"]["operationId"] == "getEvent"
    assert "where the spec has 'events'" in nearest["/activities/v1/event/1 GET"]["reasons"][0]
    assert "method DELETE" in nearest["/activities/v1/events/1 DELETE"]["reasons"][0]
    # A miss at the root is nearest to the root path, the one the client was writing.
    assert (nearest["/v1/evnts GET"]["operationId"], nearest["/v1/evnts GET"]["path"]) == (
        "listEvents", "/v1/events")
    assert "cannot be the {id}" in nearest["/activities/v1/events/abc GET"]["reasons"][0]
    assert all(e["operationId"] is None for e in unmatched)
    assert journal(client, unmatched="false")["count"] == 2


def test_the_journal_is_bounded_and_keeps_misses_apart() -> None:
    client = create_app({"SEED": 42, "EVENTS": 10, "JOURNAL_SIZE": 3}).test_client()
    client.get("/activities/v1/nope", headers=API_KEY)
    for page in range(1, 6):
        client.get(f"/activities/v1/events?{LILLE_QUERY}&page={page}", headers=API_KEY)
    page = journal(client)
    assert [e["request"]["query"]["page"] for e in page["exchanges"]] == [["3"], ["4"], ["5"]]
    assert page["stats"]["recorded"] == 6 and page["stats"]["evicted"] == 3
    missed = journal(client, "/__admin/journal/unmatched")["exchanges"]
    assert [e["request"]["path"] for e in missed] == ["/activities/v1/nope"]
    # The counts run since start or clear: a cleared exchange was not evicted.
    client.delete("/__admin/journal", headers=ADMIN)
    client.get(f"/activities/v1/events?{LILLE_QUERY}", headers=API_KEY)
    stats = journal(client)["stats"]
    assert (stats["recorded"], stats["kept"], stats["evicted"]) == (1, 1, 0)


def test_bodies_are_capped_but_requests_still_get_through() -> None:
    client = create_app({"SEED": 42, "EVENTS": 10, "JOURNAL_BODY_BYTES": 64}).test_client()
    token = client.post("/__admin/tokens", headers=ADMIN).json["token"]
    headers = {**API_KEY, "Authorization": f"Bearer {token}"}
    created = client.post("/activities/v1/events", headers=headers,
                          json={**NEW_EVENT, "description": "x" * 5000})
    assert created.status_code == 201
    assert created.json["data"]["description"] == "x" * 5000
    exchange = journal(client)["exchanges"][0]
    assert exchange["request"]["body_truncated"] is True
    assert len(exchange["request"]["body"]) == 64
    assert exchange["request"]["body_size"] > 5000
    assert exchange["response"]["body_truncated"] is True


def test_binary_bodies_are_kept_as_base64(client: FlaskClient, bearer) -> None:
    jpeg = b"\xff\xd8\xff\xe0" + bytes(range(256)) + b"\xff\xd9"
    answer = client.post("/sportstrackingdata/v2/upload", headers=bearer(),
                         data={"file": (io.BytesIO(jpeg), "p.jpg")})
    digest = answer.json["url"].rsplit("/", 1)[1]
    client.get(f"/uploads/{digest}")
    served = journal(client, path=f"/uploads/{digest}")["exchanges"][0]["response"]
    assert served["body"] is None and served["body_base64"]
    assert served["body_size"] == len(jpeg)


def test_admin_calls_can_be_journaled_with_their_key_masked() -> None:
    client = create_app({"SEED": 42, "EVENTS": 10, "JOURNAL_ADMIN": True}).test_client()
    client.get("/__admin/clock", headers=ADMIN)
    exchange = journal(client)["exchanges"][0]
    assert exchange["request"]["path"] == "/__admin/clock"
    assert exchange["request"]["headers"]["X-Admin-Key"] == "****"


def test_a_zero_sized_journal_records_nothing() -> None:
    client = create_app({"SEED": 42, "EVENTS": 10, "JOURNAL_SIZE": 0}).test_client()
    client.get(f"/activities/v1/events?{LILLE_QUERY}", headers=API_KEY)
    assert journal(client)["count"] == 0
