"""Two replicas on one PostgreSQL database, alone and behind HAProxy: one mock.

Real processes throughout: `mock-server serve --state-url ...` twice, Debian's HAProxy
round-robin in front, a real PostgreSQL server (tests/postgres_server.py).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import requests
from fleet import Fleet, start_balancer

from mock_server.api.auth import Tokens
from mock_server.domain.clock import SystemClock
from mock_server.seed import DEFAULT_USER_ID, build_fixtures
from mock_server.settings import DEFAULT_API_KEY, DEFAULT_TOKEN_SECRET

pytestmark = [pytest.mark.integration, pytest.mark.slow]
USERS = build_fixtures(seed=42, events=0).users
SIGNER = Tokens(DEFAULT_TOKEN_SECRET, SystemClock())
KEY = {"X-Api-Key": DEFAULT_API_KEY}
ADMIN = {"X-Admin-Key": "admin-dev-key"}
EVENT = {
    "title": "Fleet ride", "description": "Two replicas", "start_date": "2027-01-10T10:00:00Z",
    "end_date": "2027-01-10T12:00:00Z", "sport_id": 381, "latitude": 50.63,
    "longitude": 3.06, "level": [5], "age_min": 10, "age_max": 60, "slots": 5,
}


def bearer(user_id: str = DEFAULT_USER_ID) -> dict[str, str]:
    user = next(u for u in USERS if u.id == user_id)
    return {**KEY, "Authorization": "Bearer " + SIGNER.issue(user.id, user.type,
                                                             ttl=timedelta(hours=2))}


@pytest.fixture(scope="module")
def fleet(postgres: Any, server_control: Any) -> Iterator[Fleet]:
    flags = ("--state-url", postgres.create_database(), "--workers", "1", "--quiet")
    replicas = [server_control.start(*flags) for _ in range(2)]
    balancer = start_balancer([r.port for r in replicas], server_control.free_port())
    running = Fleet(balancer.url, replicas, balancer, server_control.start, flags)
    yield running
    balancer.stop()
    for replica in running.replicas:
        server_control.stop(replica)


@pytest.fixture
def clean(fleet: Fleet) -> Fleet:
    answer = requests.post(fleet.url + "/__admin/reset", headers=ADMIN, timeout=30)
    assert answer.status_code == 200, answer.text
    return fleet


def test_the_balancer_spreads_requests_over_both_replicas(clean: Fleet) -> None:
    answered = [requests.get(clean.url + "/__health", timeout=5).json()["process"]
                for _ in range(10)]
    assert len(set(answered)) == 2  # round-robin: both replicas answer


def test_what_one_replica_writes_the_other_reads_at_once(clean: Fleet) -> None:
    first, second = (replica.url for replica in clean.replicas)
    for _ in range(10):
        created = requests.post(first + "/activities/v1/events", json=EVENT, headers=bearer(),
                                timeout=10)
        assert created.status_code == 201
        event_id = created.json()["data"]["id"]
        read = requests.get(f"{second}/activities/v1/events/{event_id}", headers=bearer(),
                            timeout=10)
        assert read.status_code == 200 and read.json()["data"] == created.json()["data"]
        first, second = second, first


def test_thirty_users_at_once_through_both_replicas_take_exactly_five_places(
        clean: Fleet) -> None:
    created = requests.post(clean.url + "/activities/v1/events", json=EVENT, headers=bearer(),
                            timeout=10)
    event_id = created.json()["data"]["id"]
    subscribers = [u.id for u in USERS if u.id != DEFAULT_USER_ID][:30]
    barrier = threading.Barrier(len(subscribers))
    statuses: list[int] = []
    lock = threading.Lock()

    def subscribe(user_id: str) -> None:
        headers = bearer(user_id)
        barrier.wait()
        answer = requests.post(f"{clean.url}/activities/v1/events/{event_id}/subscribers",
                               json={"user": user_id}, headers=headers, timeout=30)
        with lock:
            statuses.append(answer.status_code)

    threads = [threading.Thread(target=subscribe, args=(u,)) for u in subscribers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201] * 5 + [422] * 25
    for replica in clean.replicas:
        event = requests.get(f"{replica.url}/activities/v1/events/{event_id}",
                             headers=bearer(), timeout=10).json()["data"]
        assert (event["slots"], event["slots_limit"]) == (0, 5)
        listed = requests.get(f"{replica.url}/activities/v1/events/{event_id}/subscribers",
                              headers={**bearer(), "X-Desired-Limit": "100"}, timeout=10)
        assert listed.json()["meta"]["total"] == 5


def test_a_fault_with_count_one_fires_once_for_the_whole_fleet(clean: Fleet) -> None:
    rule = requests.post(clean.url + "/__admin/faults", headers=ADMIN, timeout=10, json={
        "kind": "status", "status": 500, "count": 1,
        "path": "/activities/v1/auth/me"}).json()
    statuses = [requests.get(clean.url + "/activities/v1/auth/me", headers=bearer(),
                             timeout=10).status_code for _ in range(6)]
    assert statuses.count(500) == 1 and statuses.count(200) == 5
    for replica in clean.replicas:
        [listed] = requests.get(replica.url + "/__admin/faults", headers=ADMIN,
                                timeout=10).json()["faults"]
        assert (listed["id"], listed["hits"], listed["remaining"]) == (rule["id"], 1, 0)


def test_the_journal_the_clock_and_reset_are_the_same_through_either_replica(
        clean: Fleet) -> None:
    requests.delete(clean.url + "/__admin/journal", headers=ADMIN, timeout=10)
    for page in range(1, 7):
        answer = requests.get(clean.url + f"/activities/v1/events?latitude=50.6&longitude=3.0"
                                          f"&page={page}", headers=KEY, timeout=10)
        assert answer.status_code == 200
    for replica in clean.replicas:
        journal = requests.get(replica.url + "/__admin/journal?operationId=listEvents",
                               headers=ADMIN, timeout=10).json()
        pages = sorted(int(e["request"]["query"]["page"][0]) for e in journal["exchanges"])
        assert pages == [1, 2, 3, 4, 5, 6]
    requests.put(clean.replicas[0].url + "/__admin/clock", headers=ADMIN, timeout=10,
                 json={"now": "2027-03-01T08:00:00Z", "frozen": True})
    for replica in clean.replicas:
        clock = requests.get(replica.url + "/__admin/clock", headers=ADMIN, timeout=10).json()
        assert clock == {"now": "2027-03-01T08:00:00.000000Z", "frozen": True,
                         "offset_seconds": clock["offset_seconds"]}
    requests.delete(clean.replicas[1].url + "/__admin/clock", headers=ADMIN, timeout=10)
    assert not requests.get(clean.replicas[0].url + "/__admin/clock", headers=ADMIN,
                            timeout=10).json()["frozen"]  # back on the wall, for both
    created = requests.post(clean.replicas[1].url + "/activities/v1/events", json=EVENT,
                            headers=bearer(), timeout=10).json()["data"]["id"]
    summary = requests.post(clean.replicas[0].url + "/__admin/reset", headers=ADMIN,
                            timeout=30).json()
    assert summary["events"] == 300
    assert requests.get(clean.replicas[1].url + "/__admin/journal/count", headers=ADMIN,
                        timeout=10).json() == {"count": 0}
    gone = requests.get(f"{clean.replicas[1].url}/activities/v1/events/{created}",
                        headers=bearer(), timeout=10)
    assert gone.status_code == 404


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_sigkill_of_every_replica_loses_nothing_acknowledged(
        engine: str, postgres: Any, server_control: Any, tmp_path: Any) -> None:
    if engine == "sqlite":  # one machine: one server, a worker per core, one state file
        flags: tuple[str, ...] = ("--state-file", str(tmp_path / "state.sqlite"), "--quiet")
        count = 1
    else:  # two replicas on one database
        flags = ("--state-url", postgres.create_database(), "--workers", "1", "--quiet")
        count = 2
    replicas = [server_control.start(*flags) for _ in range(count)]
    fleet = Fleet(replicas[0].url, replicas, None, server_control.start, flags)
    acknowledged: list[tuple[int, str]] = []
    try:
        for index in range(12):
            target = fleet.replicas[index % count].url
            answer = requests.post(target + "/activities/v1/events", headers=bearer(),
                                   json={**EVENT, "title": f"Kept {index}"}, timeout=10)
            assert answer.status_code == 201
            acknowledged.append((answer.json()["data"]["id"], f"Kept {index}"))
        upload = requests.post(fleet.replicas[-1].url + "/sportstrackingdata/v2/upload",
                               headers=bearer(), timeout=10,
                               files={"file": ("kept.json", b'{"kept": true}')})
        assert upload.status_code == 200
        fleet.restart_all(server_control.kill)  # SIGKILL, every worker of every replica
        for replica in fleet.replicas:
            for event_id, title in acknowledged:
                read = requests.get(f"{replica.url}/activities/v1/events/{event_id}",
                                    headers=bearer(), timeout=10)
                assert read.status_code == 200 and read.json()["data"]["title"] == title
            digest = upload.json()["url"].rsplit("/", 1)[1]
            kept = requests.get(f"{replica.url}/uploads/{digest}", timeout=10)
            assert kept.content == b'{"kept": true}'
    finally:
        for replica in fleet.replicas:
            server_control.stop(replica)


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_a_stopped_servers_last_exchanges_are_in_the_journal_after_its_restart(
        engine: str, postgres: Any, server_control: Any, tmp_path: Any) -> None:
    """Busy workers hold their newest exchanges until a journal query asks for them; a server
    stopped (SIGTERM) writes them as it exits."""
    if engine == "sqlite":
        flags: tuple[str, ...] = ("--state-file", str(tmp_path / "state.sqlite"), "--quiet")
    else:
        flags = ("--state-url", postgres.create_database(), "--quiet")
    fleet = Fleet("", [server_control.start(*flags)], None, server_control.start, flags)
    try:
        for _ in range(20):  # a connection each: spread over the workers by the kernel
            answer = requests.get(f"{fleet.replicas[0].url}/activities/v1/events/1",
                                  headers=bearer(), timeout=10)
            assert answer.status_code == 200
        fleet.restart_all(server_control.stop)  # at once: no worker has had a quiet second
        count = requests.get(fleet.replicas[0].url + "/__admin/journal/count",
                             params={"operationId": "getEvent"}, headers=ADMIN, timeout=10)
        assert count.json() == {"count": 20}
    finally:
        for replica in fleet.replicas:
            server_control.stop(replica)


def test_the_database_stopped_and_restarted_under_traffic(server_control: Any) -> None:
    """While the database is down: JSON 503s, never a 500 or a hang; after: nothing lost."""
    from postgres_server import PostgresServer

    database = PostgresServer()
    server = server_control.start("--state-url", database.create_database(), "--workers", "1",
                                  "--quiet")
    outcomes: list[tuple[float, int, Any]] = []
    created: list[int] = []
    stop = threading.Event()

    def traffic() -> None:
        while not stop.is_set():
            started = time.monotonic()
            try:
                answer = requests.post(server.url + "/activities/v1/events", json=EVENT,
                                       headers=bearer(), timeout=15)
            except requests.RequestException as exc:  # a hang or a dropped connection
                outcomes.append((time.monotonic() - started, -1, repr(exc)))
                continue
            body = answer.json()
            outcomes.append((time.monotonic() - started, answer.status_code, body))
            if answer.status_code == 201:
                created.append(body["data"]["id"])
            time.sleep(0.01)

    worker = threading.Thread(target=traffic)
    try:
        worker.start()
        time.sleep(1.0)
        database.stop("fast")
        time.sleep(2.0)
        during = len(outcomes)
        database.start()
        database.wait_until_up()
        time.sleep(2.0)
        stop.set()
        worker.join(timeout=30)
        statuses = [status for _, status, _ in outcomes]
        assert set(statuses) <= {201, 503}, outcomes
        assert 503 in statuses[:during] and statuses[-1] == 201
        assert all(body["code"] == 503 and "unavailable" in body["message"]
                   for _, status, body in outcomes if status == 503)
        assert max(duration for duration, _, _ in outcomes) < 10  # never a hang
        for event_id in created:
            read = requests.get(f"{server.url}/activities/v1/events/{event_id}",
                                headers=bearer(), timeout=10)
            assert read.status_code == 200, (event_id, read.text)
    finally:
        stop.set()
        server_control.stop(server)
        database.close()
