"""Token minting and the virtual clock: time-dependent behaviour follows the mock's now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient

from mock_server.app import create_app
from mock_server.domain.clock import VirtualClock
from mock_server.seed import DEFAULT_USER_ID

from .conftest import ADMIN, API_KEY, LILLE_QUERY, OTHER_USER_ID

SCHEDULED_EVENT = 5  # PUBLISHED, publish_date 60 days after the fixtures' base date
AFTER_PUBLICATION = "2027-03-01T00:00:00Z"
BEFORE_PUBLICATION = "2026-06-01T00:00:00Z"


def me(client: FlaskClient, headers: dict[str, str]) -> tuple[int, dict]:
    answer = client.get("/activities/v1/auth/me", headers=headers)
    return answer.status_code, answer.json


def clock(client: FlaskClient) -> dict:
    return client.get("/__admin/clock", headers=ADMIN).json


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_tokens_for_any_fixture_user_by_id_or_external_id(client: FlaskClient, bearer) -> None:
    status, body = me(client, bearer(OTHER_USER_ID))
    assert status == 200 and body["id"] == OTHER_USER_ID
    minted = client.post("/__admin/tokens", json={"user": "JOHND01"}, headers=ADMIN)
    assert minted.status_code == 201
    assert minted.json["user"]["id"] == DEFAULT_USER_ID
    expires = parse(minted.json["expires_at"]) - parse(minted.json["issued_at"])
    assert expires == timedelta(hours=1)


def test_a_token_with_a_negative_ttl_is_already_expired(client: FlaskClient, bearer) -> None:
    status, body = me(client, bearer(ttl=-1))
    assert status == 498 and body["code"] == 498


@pytest.mark.parametrize("body, field", [({"user": "nobody"}, "user"), ({"user": 7}, "user"),
                                         ({"ttl_seconds": "1h"}, "ttl_seconds"),
                                         ({"ttl_seconds": 10 ** 10}, "ttl_seconds"),
                                         ({"role": "admin"}, "role")])
def test_token_requests_are_validated(client: FlaskClient, body: dict, field: str) -> None:
    answer = client.post("/__admin/tokens", json=body, headers=ADMIN)
    assert answer.status_code == 422 and field in answer.json["errors"]


def test_the_clock_follows_the_wall_clock_by_default(client: FlaskClient) -> None:
    state = clock(client)
    assert state["frozen"] is False and state["offset_seconds"] == 0
    assert abs(parse(state["now"]) - datetime.now(UTC)) < timedelta(seconds=5)


def test_set_freeze_advance_unfreeze_and_back_to_the_wall(client: FlaskClient) -> None:
    frozen = client.put("/__admin/clock", json={"now": "2027-01-02T03:04:05Z", "frozen": True},
                        headers=ADMIN)
    assert frozen.json["now"] == "2027-01-02T03:04:05.000000Z" and frozen.json["frozen"]
    assert clock(client)["now"] == "2027-01-02T03:04:05.000000Z"
    advanced = client.post("/__admin/clock/advance", json={"seconds": 86400.5}, headers=ADMIN)
    assert advanced.json["now"] == "2027-01-03T03:04:05.500000Z"
    back = client.post("/__admin/clock/advance", json={"seconds": -0.5}, headers=ADMIN)
    assert back.json["now"] == "2027-01-03T03:04:05.000000Z"
    flowing = client.put("/__admin/clock", json={"frozen": False}, headers=ADMIN).json
    assert flowing["frozen"] is False
    assert parse(flowing["now"]) - parse("2027-01-03T03:04:05Z") < timedelta(seconds=5)
    assert parse(clock(client)["now"]) >= parse(flowing["now"])
    wall = client.delete("/__admin/clock", headers=ADMIN).json
    assert wall["offset_seconds"] == 0 and wall["frozen"] is False


def test_setting_the_clock_without_freezing_keeps_time_flowing(client: FlaskClient) -> None:
    answer = client.put("/__admin/clock", json={"now": "2030-05-05T00:00:00Z"}, headers=ADMIN)
    assert answer.json["frozen"] is False
    assert answer.json["offset_seconds"] > 3 * 365 * 86400


@pytest.mark.parametrize("body", [{}, {"now": "tomorrow"}, {"now": "2027-01-01T00:00:00"},
                                  {"frozen": "yes"}, {"now": "2027-01-01T00:00:00Z", "tz": 1}])
def test_clock_settings_are_validated(client: FlaskClient, body: dict) -> None:
    before = clock(client)
    assert client.put("/__admin/clock", json=body, headers=ADMIN).status_code == 422
    assert clock(client)["frozen"] == before["frozen"]


@pytest.mark.parametrize("seconds", [None, "60", True, 10 ** 12])
def test_advance_is_validated(client: FlaskClient, seconds: object) -> None:
    answer = client.post("/__admin/clock/advance", json={"seconds": seconds}, headers=ADMIN)
    assert answer.status_code == 422


def test_a_scheduled_event_becomes_public_when_the_clock_passes_its_publish_date(
        client: FlaskClient, bearer) -> None:
    client.put("/__admin/clock", json={"now": BEFORE_PUBLICATION, "frozen": True},
               headers=ADMIN)
    other = bearer(OTHER_USER_ID, ttl=400 * 86400)  # minted on the mock's clock, lasts a year
    assert client.get(f"/activities/v1/events/{SCHEDULED_EVENT}",
                      headers=other).status_code == 404
    listed = client.get(f"/activities/v1/events?{LILLE_QUERY}", headers=API_KEY).json["data"]
    assert SCHEDULED_EVENT not in {event["id"] for event in listed}

    client.put("/__admin/clock", json={"now": AFTER_PUBLICATION}, headers=ADMIN)
    assert client.get(f"/activities/v1/events/{SCHEDULED_EVENT}",
                      headers=other).status_code == 200


def test_token_expiry_follows_the_clock(client: FlaskClient, bearer) -> None:
    headers = bearer(ttl=600)
    assert me(client, headers)[0] == 200
    client.post("/__admin/clock/advance", json={"seconds": 601}, headers=ADMIN)
    assert me(client, headers)[0] == 498
    client.delete("/__admin/clock", headers=ADMIN)
    assert me(client, headers)[0] == 200


def test_a_clock_that_cannot_be_steered_answers_409() -> None:
    app = create_app({"SEED": 42, "EVENTS": 10, "CLOCK": VirtualClock()})
    answer = app.test_client().get("/__admin/clock", headers=ADMIN)
    assert answer.status_code == 409 and answer.json["code"] == 409
