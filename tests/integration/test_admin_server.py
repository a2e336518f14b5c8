"""Every test-engineer control through the real HTTP interface of `mock-server serve`.

Faults and latency are measured from the client's side of a socket; the state file and an
export survive a restart of a real server process, SIGKILL of every worker included.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
ServerProcess = Any  # tests/conftest.py's ServerProcess (its conftest cannot be imported here)
KEY = "integration-admin-key"
API_KEY = {"X-Api-Key": "aaa-bbb-ccc"}
ORIGIN = "http://localhost:3000"
EVENTS_QUERY = "/activities/v1/events?latitude=50.6292&longitude=3.0573"
NEW_EVENT = {
    "title": "Evening ride", "description": "Around Lille", "start_date": "2027-07-21T17:32:28Z",
    "end_date": "2027-07-21T19:32:28Z", "sport_id": 381, "latitude": 50.64,
    "longitude": 3.14, "level": [10], "age_min": 16, "age_max": 70, "slots": 12,
}


class Admin:
    """The admin API of one server, with its key."""

    def __init__(self, url: str, key: str = KEY) -> None:
        self.url = url
        self.session = requests.Session()
        self.session.headers["X-Admin-Key"] = key

    def call(self, method: str, path: str, **kwargs: object) -> requests.Response:
        return self.session.request(method, f"{self.url}/__admin{path}", timeout=30,
                                    **kwargs)  # type: ignore[arg-type]

    def ok(self, method: str, path: str, **kwargs: object) -> dict:
        answer = self.call(method, path, **kwargs)
        assert answer.status_code < 300, answer.text
        return answer.json()

    def bearer(self, ttl: float = 3600, user: str | None = None) -> dict[str, str]:
        body: dict[str, object] = {"ttl_seconds": ttl}
        if user:
            body["user"] = user
        token = self.ok("POST", "/tokens", json=body)["token"]
        return {**API_KEY, "Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def mock(server_control: Any) -> Iterator[ServerProcess]:
    running = server_control.start("--events", "60", "--admin-key", KEY, "--cors-origin",
                                   ORIGIN, "--access-log")
    yield running
    server_control.stop(running)


@pytest.fixture
def admin(mock: ServerProcess) -> Admin:
    admin = Admin(mock.url)
    admin.ok("POST", "/reset")
    return admin


def get(url: str, **kwargs: object) -> requests.Response:
    return requests.get(url, timeout=30, **kwargs)  # type: ignore[arg-type]


# --- access -----------------------------------------------------------------------------------

def test_the_admin_api_refuses_without_its_key(mock: ServerProcess) -> None:
    for path in ("/__admin/journal", "/__admin/state", "/__admin/clock", "/__admin/faults"):
        assert get(mock.url + path).status_code == 401
        assert get(mock.url + path, headers={"X-Admin-Key": "admin-dev-key"}).status_code == 401
        assert get(mock.url + path, headers={"X-Admin-Key": KEY}).status_code == 200
    refused = requests.post(mock.url + "/__admin/reset", timeout=10)
    assert refused.status_code == 401 and refused.json()["code"] == 401


def test_no_admin_switches_the_prefix_off(server_control: Any) -> None:
    running = server_control.start("--events", "5", "--no-admin", "--quiet")
    try:
        for path in ("/__admin/journal", "/__admin/openapi.yaml"):
            assert get(running.url + path, headers={"X-Admin-Key": "admin-dev-key"}
                       ).status_code == 404
        assert get(running.url + EVENTS_QUERY, headers=API_KEY).status_code == 200
    finally:
        server_control.stop(running)


# --- state --------------------------------------------------------------------------------------

def test_reset_and_reseed(mock: ServerProcess, admin: Admin) -> None:
    headers = admin.bearer()
    created = requests.post(mock.url + "/activities/v1/events", json=NEW_EVENT, headers=headers,
                            timeout=10)
    assert created.status_code == 201
    event_url = f"{mock.url}/activities/v1/events/{created.json()['data']['id']}"
    assert get(event_url, headers=headers).status_code == 200
    assert admin.ok("POST", "/reset")["events"] == 60
    assert get(event_url, headers=headers).status_code == 404
    assert admin.ok("POST", "/reseed", json={"seed": 5, "events": 15})["events"] == 15
    assert admin.ok("POST", "/reset")["fixtures"] == {"seed": 5, "events": 15}
    admin.ok("POST", "/reseed", json={"seed": 42, "events": 60})


def test_export_imports_exactly_into_another_server_process(mock: ServerProcess,
                                                            admin: Admin,
                                                            server_control: Any) -> None:
    headers = admin.bearer()
    created = requests.post(mock.url + "/activities/v1/events", json=NEW_EVENT, headers=headers,
                            timeout=10).json()["data"]
    exported = admin.call("GET", "/state").content
    other = server_control.start("--events", "5", "--quiet")
    try:
        twin = Admin(other.url, "admin-dev-key")
        imported = twin.call("PUT", "/state", data=exported,
                             headers={"Content-Type": "application/json"})
        assert imported.status_code == 200, imported.text
        assert imported.json()["fixtures"] == {"seed": 42, "events": 60}
        assert json.loads(twin.call("GET", "/state").content) == json.loads(exported)
        event = get(f"{other.url}/activities/v1/events/{created['id']}", headers=headers)
        assert event.status_code == 200 and event.json()["data"] == created
    finally:
        server_control.stop(other)


def test_an_invalid_import_is_refused_with_422(admin: Admin) -> None:
    before = admin.call("GET", "/state").content
    answer = admin.call("PUT", "/state", json={"format": "mock-server-state/1"})
    assert answer.status_code == 422 and "store" in answer.json()["errors"]
    assert admin.call("GET", "/state").content == before


def test_acknowledged_writes_survive_sigkill_and_the_restart_resumes(
        tmp_path: Path, server_control: Any) -> None:
    """Every worker killed at once, no shutdown at all: what was answered is on disk."""
    state_file = tmp_path / "state.sqlite"
    flags = ("--events", "20", "--quiet", "--state-file", str(state_file))
    first = server_control.start(*flags)
    try:
        admin = Admin(first.url, "admin-dev-key")
        headers = admin.bearer(ttl=86400)
        created = []
        for index in range(8):
            answer = requests.post(first.url + "/activities/v1/events",
                                   json={**NEW_EVENT, "title": f"Ride {index}"},
                                   headers=headers, timeout=10)
            assert answer.status_code == 201
            created.append(answer.json()["data"]["id"])
        upload = requests.post(first.url + "/sportstrackingdata/v2/upload", headers=headers,
                               files={"file": ("ride.json", b'{"ride": 1}')}, timeout=10)
        assert upload.status_code == 200
    finally:
        server_control.kill(first)  # SIGKILL to the whole process group
    second = server_control.start(*flags)
    try:
        for index, event_id in enumerate(created):
            event = get(f"{second.url}/activities/v1/events/{event_id}", headers=headers)
            assert event.status_code == 200 and event.json()["data"]["title"] == f"Ride {index}"
        path = upload.json()["url"].split("/uploads/")[1]
        again = get(f"{second.url}/uploads/{path}")
        assert again.status_code == 200 and again.content == b'{"ride": 1}'
    finally:
        server_control.stop(second)


# --- tokens, journal ------------------------------------------------------------------------

def test_minted_tokens_work_and_expire(mock: ServerProcess, admin: Admin) -> None:
    assert get(mock.url + "/activities/v1/auth/me", headers=admin.bearer()).status_code == 200
    expired = get(mock.url + "/activities/v1/auth/me", headers=admin.bearer(ttl=-1))
    assert expired.status_code == 498 and expired.json()["code"] == 498


def test_the_journal_shows_what_the_client_sent(mock: ServerProcess, admin: Admin) -> None:
    headers = admin.bearer()
    requests.post(mock.url + "/activities/v1/events?", json=NEW_EVENT, headers=headers,
                  timeout=10)
    get(mock.url + "/activities/v1/evnts", headers=API_KEY)
    page = admin.ok("GET", "/journal", params={"operationId": "createEvent"})
    [exchange] = page["exchanges"]
    assert exchange["request"]["headers"]["Authorization"] == "Bearer ****"
    assert json.loads(exchange["request"]["body"]) == NEW_EVENT
    assert exchange["response"]["status"] == 201
    assert admin.ok("GET", "/journal/count", params={"status": "4xx"}) == {"count": 1}
    [miss] = admin.ok("GET", "/journal/unmatched")["exchanges"]
    assert miss["nearest"]["operationId"] == "listEvents"
    assert admin.ok("DELETE", "/journal") == {"cleared": 2}


def test_the_access_log_has_one_json_line_per_request(mock: ServerProcess,
                                                      admin: Admin) -> None:
    get(mock.url + EVENTS_QUERY, headers={**API_KEY, "X-Request-Id": "access-log-probe"})
    deadline = time.monotonic() + 5
    while "access-log-probe" not in mock.output() and time.monotonic() < deadline:
        time.sleep(0.05)
    [line] = [json.loads(text) for text in mock.output().splitlines()
              if "access-log-probe" in text]
    assert line["status"] == 200 and line["operationId"] == "listEvents"
    assert line["method"] == "GET" and line["path"] == "/activities/v1/events"


# --- faults, from the client's side -----------------------------------------------------------

def test_a_status_fault_from_the_client_side(mock: ServerProcess, admin: Admin) -> None:
    rule = admin.ok("POST", "/faults", json={"kind": "status", "status": 500, "count": 1,
                                              "path": "/activities/v1/events"})
    failed = get(mock.url + EVENTS_QUERY, headers=API_KEY)
    assert failed.status_code == 500
    assert failed.json() == {"code": 500, "message": "Internal server error."}
    assert failed.headers["X-Mock-Fault"] == rule["id"]
    assert get(mock.url + EVENTS_QUERY, headers=API_KEY).status_code == 200


def test_latency_is_felt_by_the_client(mock: ServerProcess, admin: Admin) -> None:
    started = time.perf_counter()
    assert get(mock.url + EVENTS_QUERY, headers=API_KEY).status_code == 200
    baseline = time.perf_counter() - started
    admin.ok("POST", "/faults", json={"kind": "latency", "latency_ms": 400})
    started = time.perf_counter()
    assert get(mock.url + EVENTS_QUERY, headers=API_KEY).status_code == 200
    slow = time.perf_counter() - started
    assert slow >= 0.4 and slow > baseline
    with pytest.raises(requests.Timeout):
        requests.get(mock.url + EVENTS_QUERY, headers=API_KEY, timeout=0.2)


def test_a_latency_range_is_felt_within_its_bounds(mock: ServerProcess, admin: Admin) -> None:
    admin.ok("POST", "/faults", json={"kind": "latency", "latency_ms": [100, 200]})
    for _ in range(3):
        started = time.perf_counter()
        get(mock.url + EVENTS_QUERY, headers=API_KEY)
        assert 0.1 <= time.perf_counter() - started < 2


def test_a_dropped_connection_gets_no_response(mock: ServerProcess, admin: Admin) -> None:
    admin.ok("POST", "/faults", json={"kind": "drop", "path": "/activities/v1/events",
                                      "count": 1})
    with pytest.raises(requests.ConnectionError):
        requests.get(mock.url + EVENTS_QUERY, headers=API_KEY, timeout=10)
    assert get(mock.url + EVENTS_QUERY, headers=API_KEY).status_code == 200  # retry works
    [dropped] = admin.ok("GET", "/journal", params={"faulted": "true"})["exchanges"]
    assert dropped["response"] is None and "dropped" in dropped["error"]


def test_prefer_over_http(mock: ServerProcess, admin: Admin) -> None:
    answer = get(mock.url + "/activities/v1/events/1", headers={"Prefer": "code=404"})
    assert answer.status_code == 404 and answer.headers["Preference-Applied"] == "code=404"
    example = get(mock.url + "/activities/v1/events/1", headers={"Prefer": "example=documented"})
    assert example.status_code == 200 and example.json()["data"]["title"] == "Test title 2"


def test_cors_preflight_and_headers(mock: ServerProcess, admin: Admin) -> None:
    preflight = requests.options(mock.url + "/activities/v1/events", timeout=10, headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, x-api-key, content-type"})
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == ORIGIN
    answer = get(mock.url + EVENTS_QUERY, headers={**API_KEY, "Origin": ORIGIN})
    assert answer.headers["Access-Control-Allow-Origin"] == ORIGIN


# --- clock --------------------------------------------------------------------------------------

def test_the_clock_moves_what_is_visible(mock: ServerProcess, admin: Admin) -> None:
    scheduled = mock.url + "/activities/v1/events/5"  # published 60 days after 2026-11-30
    admin.ok("PUT", "/clock", json={"now": "2026-06-01T00:00:00Z", "frozen": True})
    other = admin.bearer(ttl=400 * 86400, user="4c68165b-3869-4c22-8098-a4a429c97509")
    assert get(scheduled, headers=other).status_code == 404
    clock = admin.ok("POST", "/clock/advance", json={"seconds": 300 * 86400})
    assert clock["now"].startswith("2027-03-28")
    assert get(scheduled, headers=other).status_code == 200
    assert admin.ok("DELETE", "/clock")["frozen"] is False


# --- the command line -----------------------------------------------------------------------

def cli(mock: ServerProcess, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mock_server", "admin", *args, "--url",
                           mock.url, "--admin-key", KEY], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)


def test_the_admin_commands_drive_a_running_mock(mock: ServerProcess, admin: Admin,
                                                 tmp_path: Path) -> None:
    added = cli(mock, "faults", "add", "--status", "503", "--path", "/activities/*")
    assert added.returncode == 1 and "status" in added.stderr  # 503 is not documented
    added = cli(mock, "faults", "add", "--status", "500", "--path", "/activities/*",
                "--count", "1")
    assert added.returncode == 0, added.stderr
    assert get(mock.url + EVENTS_QUERY, headers=API_KEY).status_code == 500
    assert json.loads(cli(mock, "faults", "list").stdout)["faults"][0]["hits"] == 1
    assert json.loads(cli(mock, "journal", "--count", "--status", "500").stdout) == {"count": 1}

    token = cli(mock, "token", "--ttl-seconds", "-5").stdout.strip()
    expired = get(mock.url + "/activities/v1/auth/me",
                  headers={**API_KEY, "Authorization": f"Bearer {token}"})
    assert expired.status_code == 498

    clock = cli(mock, "clock", "--set", "2027-02-01T09:00:00Z", "--freeze", "--advance", "60")
    assert json.loads(clock.stdout)["now"] == "2027-02-01T09:01:00.000000Z"

    dump = tmp_path / "state.json"
    assert cli(mock, "export", "-o", str(dump)).returncode == 0
    assert json.loads(cli(mock, "reseed", "--events", "9").stdout)["events"] == 9
    assert json.loads(cli(mock, "import", str(dump)).stdout)["events"] == 60
    reset = json.loads(cli(mock, "reset", "--keep", "clock").stdout)
    assert reset["reset"] == ["data", "journal", "faults"]
    assert admin.ok("GET", "/clock")["frozen"] is True


def test_the_admin_command_reports_an_unreachable_mock() -> None:
    done = subprocess.run([sys.executable, "-m", "mock_server", "admin", "journal", "--url",
                           "http://127.0.0.1:9"], capture_output=True, text=True, cwd=ROOT,
                          timeout=60)
    assert done.returncode == 2 and "cannot reach" in done.stderr
