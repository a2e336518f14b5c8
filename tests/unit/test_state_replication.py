"""Two replicas over one engine behave as one mock: what one writes, the other reads.

Each test builds two apps on the same SQLite file or the same PostgreSQL database, as two
workers (or two machines) would have, and drives them through their test clients.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mock_server.app import CREDENTIALS, SERVICES, create_app
from mock_server.seed import DEFAULT_USER_ID

ADMIN = {"X-Admin-Key": "admin-dev-key"}
KEY = {"X-Api-Key": "aaa-bbb-ccc"}
NEW_EVENT = {
    "title": "Evening ride", "description": "Around Lille", "start_date": "2027-07-21T17:32:28Z",
    "end_date": "2027-07-21T19:32:28Z", "sport_id": 381, "latitude": 50.64,
    "longitude": 3.14, "level": [10], "age_min": 16, "age_max": 70, "slots": 5,
}


@pytest.fixture(params=["sqlite", "postgresql"])
def twins(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Flask, Flask]]:
    if request.param == "sqlite":
        config: dict[str, Any] = {"STATE_FILE": str(tmp_path / "state.sqlite")}
    else:
        config = {"STATE_URL": request.getfixturevalue("postgres").create_database()}
    apps = [create_app({"SEED": 42, "EVENTS": 50, **config}) for _ in range(2)]
    yield apps[0], apps[1]
    for app in apps:
        app.extensions[SERVICES].close()


def bearer(app: Flask, user_id: str = DEFAULT_USER_ID) -> dict[str, str]:
    user = app.extensions[SERVICES].store.get_user(user_id)
    token = app.extensions[CREDENTIALS].tokens.issue(user.id, user.type)
    return {**KEY, "Authorization": f"Bearer {token}"}


def test_a_write_through_one_is_read_through_the_other(twins: tuple[Flask, Flask]) -> None:
    one, two = (app.test_client() for app in twins)
    created = one.post("/activities/v1/events", json=NEW_EVENT, headers=bearer(twins[0]))
    assert created.status_code == 201
    event_id = created.json["data"]["id"]
    read = two.get(f"/activities/v1/events/{event_id}", headers=bearer(twins[1]))
    assert read.status_code == 200 and read.json["data"] == created.json["data"]
    patched = two.patch(f"/activities/v1/events/{event_id}", json={"title": "Moved"},
                        headers=bearer(twins[1]))
    assert patched.status_code == 200
    again = one.get(f"/activities/v1/events/{event_id}", headers=bearer(twins[0]))
    assert again.json["data"]["title"] == "Moved"


def test_places_hold_across_replicas_under_concurrent_subscriptions(
        twins: tuple[Flask, Flask]) -> None:
    one = twins[0].test_client()
    event_id = one.post("/activities/v1/events", json=NEW_EVENT,
                        headers=bearer(twins[0])).json["data"]["id"]
    users = [u.id for u in twins[0].extensions[SERVICES].store.users()
             if u.id != DEFAULT_USER_ID][:30]
    statuses: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(users))

    def subscribe(index: int, user_id: str) -> None:
        app = twins[index % 2]
        client = app.test_client()
        headers = bearer(app, user_id)
        barrier.wait()
        answer = client.post(f"/activities/v1/events/{event_id}/subscribers",
                             json={"user": user_id}, headers=headers)
        with lock:
            statuses.append(answer.status_code)

    threads = [threading.Thread(target=subscribe, args=(i, u)) for i, u in enumerate(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201] * 5 + [422] * (len(users) - 5)
    for app in twins:
        event = app.test_client().get(f"/activities/v1/events/{event_id}", headers=bearer(app))
        assert event.json["data"]["slots"] == 0 and event.json["data"]["slots_limit"] == 5


def test_reset_reseed_and_import_through_one_apply_to_the_other(
        twins: tuple[Flask, Flask]) -> None:
    one, two = (app.test_client() for app in twins)
    one.post("/activities/v1/events", json=NEW_EVENT, headers=bearer(twins[0]))
    assert two.post("/__admin/reseed", json={"seed": 7, "events": 20},
                    headers=ADMIN).status_code == 200
    assert one.get("/__admin/state", headers=ADMIN).json["fixtures"] == {"seed": 7, "events": 20}
    exported = one.get("/__admin/state", headers=ADMIN).json
    assert exported == two.get("/__admin/state", headers=ADMIN).json
    one.post("/activities/v1/events", json=NEW_EVENT, headers=bearer(twins[0]))
    assert two.put("/__admin/state", json=exported, headers=ADMIN).status_code == 200
    assert one.get("/__admin/state", headers=ADMIN).json == exported
    one.post("/activities/v1/events", json=NEW_EVENT, headers=bearer(twins[0]))
    assert two.post("/__admin/reset", headers=ADMIN).json["events"] == 20
    assert one.get("/__admin/state", headers=ADMIN).json["store"]["next_event_id"] == 21


def test_one_clock_and_one_set_of_fault_rules(twins: tuple[Flask, Flask]) -> None:
    one, two = (app.test_client() for app in twins)
    one.put("/__admin/clock", json={"now": "2027-02-01T09:00:00Z", "frozen": True},
            headers=ADMIN)
    assert two.get("/__admin/clock", headers=ADMIN).json["now"] == "2027-02-01T09:00:00.000000Z"
    rule = two.post("/__admin/faults", json={"kind": "status", "status": 500, "count": 3,
                                             "path": "/activities/v1/users*"},
                    headers=ADMIN).json
    statuses = [client.get("/activities/v1/users?external_id=x&type=FED",
                           headers=bearer(app)).status_code
                for app, client in zip(twins * 3, (one, two) * 3, strict=True)]
    assert statuses.count(500) == 3  # count: 3 fires three times, fleet-wide
    listed = one.get("/__admin/faults", headers=ADMIN).json["faults"]
    assert [(r["id"], r["remaining"], r["hits"]) for r in listed] == [(rule["id"], 0, 3)]
    assert two.delete("/__admin/faults", headers=ADMIN).json == {"removed": 1}
    assert one.get("/__admin/faults", headers=ADMIN).json == {"faults": []}


def test_the_journal_answers_for_both(twins: tuple[Flask, Flask]) -> None:
    clients: list[FlaskClient] = [app.test_client() for app in twins]
    for index, client in enumerate(clients * 3):
        client.get(f"/activities/v1/events?latitude=50.6&longitude=3.0&page={index + 1}",
                   headers=KEY)
    for client in clients:
        found = client.get("/__admin/journal?operationId=listEvents", headers=ADMIN)
        pages = sorted(int(e["request"]["query"]["page"][0]) for e in found.json["exchanges"])
        assert pages == [1, 2, 3, 4, 5, 6]
    assert clients[1].delete("/__admin/journal", headers=ADMIN).json == {"cleared": 6}
    assert clients[0].get("/__admin/journal/count", headers=ADMIN).json == {"count": 0}
    stats = clients[0].get("/__admin/journal", headers=ADMIN).json["stats"]
    assert (stats["recorded"], stats["evicted"]) == (0, 0)  # since start or clear
