"""`mock-server serve` flags that change behaviour, through a real server process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from mock_server.settings import DEFAULT_API_KEY
from tests.conftest import start_server, stop_server

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def test_upload_storage_cap_and_extra_api_keys() -> None:
    server = start_server("--upload-storage-mb", "1", "--api-key", "partner-key", "--quiet")
    try:
        token = server.token()
        headers = {"Authorization": f"Bearer {token}", "X-Api-Key": "partner-key"}
        url = f"{server.url}/sportstrackingdata/v2/upload"

        def upload(fill: bytes) -> requests.Response:
            photo = b"\xff\xd8\xff\xe0" + fill * (700 * 1024)
            return requests.post(url, headers=headers, files={"file": ("p.jpeg", photo)},
                                 timeout=30)

        assert upload(b"a").status_code == 200
        full = upload(b"b")
        assert full.status_code == 507
        assert full.json()["code"] == 507
        default_key = requests.get(f"{server.url}/activities/v1/events?latitude=1&longitude=1",
                                   headers={"X-Api-Key": DEFAULT_API_KEY}, timeout=10)
        assert default_key.status_code == 401, "--api-key replaces the default key"
    finally:
        stop_server(server)


def _serve(*flags: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mock_server", "serve", *flags],
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def test_a_busy_port_is_one_line_and_exit_2_never_ready() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = _serve("--port", str(port), "--quiet")
    assert done.returncode == 2
    assert "ready" not in done.stdout
    assert done.stderr.strip() == f"mock-server: cannot listen: 127.0.0.1:{port} is already in use"


def test_an_unreachable_database_is_one_line_and_a_non_zero_exit() -> None:
    with socket.socket() as closed:  # a port where nothing listens
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    done = _serve("--port", "0", "--state-url", f"postgresql://mock:secret@127.0.0.1:{port}/x")
    assert done.returncode == 2
    assert "ready" not in done.stdout
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("mock-server: The mock's state is unavailable: cannot connect to "
                           f"postgresql://mock:****@127.0.0.1:{port}/x")
    assert "secret" not in done.stderr


def test_the_default_serves_one_worker_per_core_on_a_temporary_sqlite_state() -> None:
    server = start_server()
    try:
        banner = server.output()
        cores = os.cpu_count() or 1
        workers = f"{cores} worker process{'es' * (cores > 1)}"
        assert f"(temporary), fixtures seed 42 with 300 events; {workers}" in banner
        assert "SQLite" in banner
        answered = {requests.get(server.url + "/__health", timeout=5).json()["process"]
                    for _ in range(40)}
        assert len(answered) >= min(cores, 2) or cores == 1
    finally:
        stop_server(server)
    temporary = banner.split("SQLite ", 1)[1].split(" (temporary)")[0]
    assert not Path(temporary).exists()  # removed at exit


def test_cors_for_any_origin_by_default_and_no_cors() -> None:
    """A page on another origin (a partner's front end on :3000) may call the mock as it is."""
    events = "/activities/v1/events?latitude=50.63&longitude=3.06"
    origin = {"Origin": "http://localhost:3000"}
    default = start_server("--quiet")
    try:
        answer = requests.get(default.url + events, timeout=10,
                              headers={"X-Api-Key": DEFAULT_API_KEY, **origin})
        assert answer.status_code == 200
        assert answer.headers["Access-Control-Allow-Origin"] == origin["Origin"]
        preflight = requests.options(default.url + "/v1/events", timeout=10, headers={
            **origin, "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "x-api-key"})
        assert preflight.status_code == 200
        assert preflight.headers["Access-Control-Allow-Headers"] == "x-api-key"
    finally:
        stop_server(default)
    off = start_server("--quiet", "--no-cors")
    try:
        answer = requests.get(off.url + events, timeout=10,
                              headers={"X-Api-Key": DEFAULT_API_KEY, **origin})
        assert answer.status_code == 200
        assert "Access-Control-Allow-Origin" not in answer.headers
    finally:
        stop_server(off)


def test_no_cors_and_an_origin_list_exclude_each_other() -> None:
    refused = subprocess.run(
        [sys.executable, "-m", "mock_server", "serve", "--no-cors", "--cors-origin",
         "http://localhost:3000"], capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2
    assert "not allowed with argument" in refused.stderr
