"""Reset, reseed, export and import through the admin API."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from mock_server.services import Services

from .conftest import ADMIN, API_KEY, LILLE_QUERY, NEW_EVENT, OTHER_USER_ID

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64 + b"\xff\xd9"


def create_event(client: FlaskClient, headers: dict[str, str], **changes: object) -> int:
    answer = client.post("/activities/v1/events", json={**NEW_EVENT, **changes},
                         headers=headers)
    assert answer.status_code == 201, answer.json
    return int(answer.json["data"]["id"])


def make_changes(client: FlaskClient, bearer: Callable[..., dict[str, str]]) -> int:
    """Touch every part of the state: an event, a subscription, an upload, an activity."""
    owner, other = bearer(), bearer(OTHER_USER_ID)
    event_id = create_event(client, owner)
    assert client.post(f"/activities/v1/events/{event_id}/subscribers",
                       json={"user": OTHER_USER_ID}, headers=other).status_code == 201
    upload = client.post("/sportstrackingdata/v2/upload", headers=owner,
                         data={"file": (io.BytesIO(JPEG), "photo.jpg")})
    assert upload.status_code == 200, upload.json
    activity = client.get("/sportstrackingdata/v2/activities", headers=owner).json[0]
    updated = client.put(f"/sportstrackingdata/v2/activities/{activity['id']}", headers=owner,
                         json={"images": [upload.json["url"]]})
    assert updated.status_code == 200, updated.json
    return event_id


def export(client: FlaskClient) -> dict:
    answer = client.get("/__admin/state", headers=ADMIN)
    assert answer.status_code == 200
    return answer.json


def test_reset_returns_to_the_seeded_fixtures(client: FlaskClient, bearer) -> None:
    pristine = export(client)
    event_id = make_changes(client, bearer)
    answer = client.post("/__admin/reset", headers=ADMIN)
    assert answer.status_code == 200
    assert answer.json["reset"] == ["data", "journal", "faults", "clock"]
    assert answer.json["events"] == 60 and answer.json["uploads"] == 0
    assert client.get(f"/activities/v1/events/{event_id}", headers=bearer()).status_code == 404
    assert export(client) == pristine


def test_reset_clears_journal_faults_and_clock_unless_kept(client: FlaskClient) -> None:
    client.get(f"/activities/v1/events?{LILLE_QUERY}", headers=API_KEY)
    client.post("/__admin/faults", json={"kind": "latency", "latency_ms": 1}, headers=ADMIN)
    client.put("/__admin/clock", json={"now": "2030-01-01T00:00:00Z", "frozen": True},
               headers=ADMIN)
    kept = client.post("/__admin/reset", json={"journal": False, "faults": False,
                                               "clock": False}, headers=ADMIN)
    assert kept.json["reset"] == ["data"]
    assert client.get("/__admin/journal/count", headers=ADMIN).json["count"] == 1
    assert len(client.get("/__admin/faults", headers=ADMIN).json["faults"]) == 1
    assert client.get("/__admin/clock", headers=ADMIN).json["frozen"] is True
    client.post("/__admin/reset", headers=ADMIN)
    assert client.get("/__admin/journal/count", headers=ADMIN).json["count"] == 0
    assert client.get("/__admin/faults", headers=ADMIN).json["faults"] == []
    assert client.get("/__admin/clock", headers=ADMIN).json["frozen"] is False


def test_reset_refuses_unknown_parts_and_non_booleans(client: FlaskClient) -> None:
    assert client.post("/__admin/reset", json={"everything": True},
                       headers=ADMIN).status_code == 422
    assert client.post("/__admin/reset", json={"data": "yes"}, headers=ADMIN).status_code == 422


def test_reseed_replaces_the_data_and_becomes_the_reset_target(client: FlaskClient,
                                                                services: Services) -> None:
    answer = client.post("/__admin/reseed", json={"seed": 7, "events": 25}, headers=ADMIN)
    assert answer.status_code == 200
    assert answer.json["fixtures"] == {"seed": 7, "events": 25}
    assert answer.json["events"] == 25 == services.store.event_count()
    client.post("/__admin/reset", headers=ADMIN)
    assert services.store.event_count() == 25
    back = client.post("/__admin/reseed", json={"seed": 42, "events": 60}, headers=ADMIN)
    assert back.json["fixtures"] == {"seed": 42, "events": 60}


def test_the_same_seed_gives_the_same_data(client: FlaskClient) -> None:
    client.post("/__admin/reseed", json={"seed": 9, "events": 30}, headers=ADMIN)
    first = export(client)
    client.post("/__admin/reseed", json={"seed": 42}, headers=ADMIN)
    client.post("/__admin/reseed", json={"seed": 9}, headers=ADMIN)
    assert export(client)["store"] == first["store"]
    client.post("/__admin/reseed", json={"seed": 42, "events": 60}, headers=ADMIN)


@pytest.mark.parametrize("body", [{"events": -1}, {"events": 2_000_000}, {"seed": "7"},
                                  {"events": True}])
def test_reseed_refuses_bad_values_and_changes_nothing(client: FlaskClient, body: dict) -> None:
    before = export(client)
    answer = client.post("/__admin/reseed", json=body, headers=ADMIN)
    assert answer.status_code == 422
    assert set(answer.json["errors"]) == set(body)
    assert export(client) == before


def test_export_then_import_is_an_exact_round_trip(client: FlaskClient, bearer) -> None:
    event_id = make_changes(client, bearer)
    client.put("/__admin/clock", json={"now": "2027-03-01T08:00:00Z", "frozen": True},
               headers=ADMIN)
    exported = export(client)
    assert exported["format"] == "mock-server-state/1"
    assert set(exported) == {"format", "fixtures", "store", "blobs", "activities", "clock"}

    client.post("/__admin/reset", headers=ADMIN)
    assert export(client) != exported
    answer = client.put("/__admin/state", json=exported, headers=ADMIN)
    assert answer.status_code == 200, answer.json
    assert answer.json["uploads"] == 1
    assert export(client) == exported
    event = client.get(f"/activities/v1/events/{event_id}", headers=bearer())
    assert event.status_code == 200, event.json
    assert event.json["data"]["slots"] == 19
    assert client.get("/__admin/clock", headers=ADMIN).json["now"] == (
        "2027-03-01T08:00:00.000000Z")


@pytest.mark.parametrize("change, part", [
    (lambda d: d.update(format="something else"), "format"),
    (lambda d: d.pop("store"), "store"),
    (lambda d: d["blobs"]["blobs"].update({"0" * 40: {"content_type": "image/jpeg",
                                                      "data": "AAAA"}}), "blobs"),
    (lambda d: d["activities"]["activities"].append({"id": "nope"}), "activities"),
    (lambda d: d["store"]["events"][0].update(owner_id="nobody"), "state"),
    (lambda d: d.update(clock={"offset_microseconds": "soon"}), "clock"),
    (lambda d: d.update(fixtures={"seed": 1, "events": -5}), "events"),
], ids=["format", "missing part", "blob hash", "activity", "event owner", "clock", "fixtures"])
def test_an_invalid_import_answers_422_and_changes_nothing(client: FlaskClient, bearer,
                                                           change, part: str) -> None:
    make_changes(client, bearer)
    before = export(client)
    document = export(client)
    change(document)
    answer = client.put("/__admin/state", json=document, headers=ADMIN)
    assert answer.status_code == 422, answer.json
    assert part in answer.json["errors"]
    assert export(client) == before


def test_import_refuses_what_is_not_a_json_object(client: FlaskClient) -> None:
    assert client.put("/__admin/state", data=b"{", content_type="application/json",
                      headers=ADMIN).status_code == 400
    assert client.put("/__admin/state", json=[], headers=ADMIN).status_code == 422
    assert client.put("/__admin/state", headers=ADMIN).status_code == 422


def test_an_import_brings_its_fixtures_so_reset_returns_to_them(client: FlaskClient,
                                                                services: Services) -> None:
    client.post("/__admin/reseed", json={"seed": 3, "events": 12}, headers=ADMIN)
    exported = export(client)
    client.post("/__admin/reseed", json={"seed": 42, "events": 60}, headers=ADMIN)
    client.put("/__admin/state", json=exported, headers=ADMIN)
    assert (services.fixture_seed, services.fixture_events) == (3, 12)
    client.post("/__admin/reset", headers=ADMIN)
    assert services.store.event_count() == 12
    client.post("/__admin/reseed", json={"seed": 42, "events": 60}, headers=ADMIN)
