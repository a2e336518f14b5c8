"""Shared fixtures: a fresh app per test (flaskr style), tokens, and a real server process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings
from postgres_server import PostgresServer

from mock_server.api.auth import Tokens
from mock_server.app import CREDENTIALS, create_app
from mock_server.seed import DEFAULT_USER_ID
from mock_server.services import Services
from mock_server.settings import DEFAULT_API_KEY
from mock_server.state.engine import MemoryEngine
from mock_server.state.postgres import PostgresEngine
from mock_server.state.sqlite import SqliteEngine

ROOT = Path(__file__).resolve().parents[1]
OTHER_USER_ID = "4c68165b-3869-4c22-8098-a4a429c97509"  # a documented DKTCONNECT user
SECOND_FED_USER_ID = "1c4884b6-c92b-4b0a-9808-373049fe6c25"
LILLE = {"latitude": 50.6292, "longitude": 3.0573}

settings.register_profile("ci", max_examples=30, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=50, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the whole run (per xdist worker), stopped at the end."""
    server = PostgresServer()
    yield server
    server.close()


ENGINES = ["memory", "sqlite", "postgresql"]


@pytest.fixture(params=ENGINES)
def engine_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Any]]:
    """Opens engines of one kind on one shared place: call it twice for two processes' view
    (two engines on one SQLite file or one PostgreSQL database are two replicas)."""
    opened: list[Any] = []
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres").create_database()
    path = tmp_path / "state.sqlite"

    def open_one() -> Any:
        if request.param == "memory":
            engine: Any = MemoryEngine()
        elif request.param == "sqlite":
            engine = SqliteEngine(path, persistent=True)
        else:
            engine = PostgresEngine(url)
        opened.append(engine)
        return engine

    yield open_one
    for engine in opened:
        engine.close()


@pytest.fixture
def app() -> Flask:
    return create_app({"SEED": 42, "EVENTS": 300})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def services(app: Flask) -> Services:
    return app.extensions["mock_server"]


@pytest.fixture
def tokens(app: Flask) -> Tokens:
    return app.extensions[CREDENTIALS].tokens


@pytest.fixture
def headers_for(services: Services, tokens: Tokens) -> Callable[..., dict[str, str]]:
    """Headers of a call by a fixture user: the API key and that user's fresh token."""

    def make(user_id: str = DEFAULT_USER_ID, *, ttl: timedelta = timedelta(hours=1),
             api_key: str = DEFAULT_API_KEY) -> dict[str, str]:
        user = services.store.get_user(user_id)
        assert user is not None, user_id
        token = tokens.issue(user.id, user.type, ttl=ttl)
        return {"X-Api-Key": api_key, "Authorization": f"Bearer {token}"}

    return make


@pytest.fixture
def owner_headers(headers_for: Callable[..., dict[str, str]]) -> dict[str, str]:
    return headers_for(DEFAULT_USER_ID)


@pytest.fixture
def other_headers(headers_for: Callable[..., dict[str, str]]) -> dict[str, str]:
    return headers_for(OTHER_USER_ID)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    url: str
    process: subprocess.Popen[str]
    log: IO[str] | None = None

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def output(self) -> str:
        """Everything the server printed so far (stdout and stderr, access log included).

        Read through the file's name: seeking the descriptor the server writes through would
        move its write position too (they share one open file).
        """
        if self.log is None:
            return ""
        return Path(self.log.name).read_text(encoding="utf-8", errors="replace")

    def token(self, user: str | None = None, *, ttl: int | None = None) -> str:
        args = [sys.executable, "-m", "mock_server", "token"]
        if user:
            args += ["--user", user]
        if ttl is not None:
            args += ["--ttl-seconds", str(ttl)]
        out = subprocess.run(args, capture_output=True, text=True, check=True, cwd=ROOT)
        return out.stdout.strip()


def start_server(*extra: str, timeout: float = 60.0, port: int | None = None,
                 cwd: Path = ROOT) -> ServerProcess:
    """`mock-server serve` on ``port`` (a free one by default), up when it says "ready";
    relative paths among ``extra`` (``--state-file``) are relative to ``cwd``."""
    port = port or free_port()
    # A file, not a pipe: a server writing an access log line per request into a pipe nobody
    # reads would block once the pipe's buffer is full.
    log = tempfile.NamedTemporaryFile(mode="w+", encoding="utf-8", prefix="mock-server-",
                                      suffix=".log")
    process = subprocess.Popen(
        [sys.executable, "-m", "mock_server", "serve", "--host", "127.0.0.1", "--port",
         str(port), *extra],
        cwd=cwd, stdout=log, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,  # its own process group: kill() reaches every worker
    )
    server = ServerProcess(f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"mock-server exited: {server.output()}")
        if "mock-server: ready" in server.output():
            return server
        time.sleep(0.05)
    process.kill()
    raise RuntimeError("mock-server did not answer in time")


def kill_server(server: ServerProcess) -> None:
    """SIGKILL to the server and every worker at once: no shutdown code runs."""
    try:
        os.killpg(server.process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    server.process.wait()


def stop_server(server: ServerProcess) -> None:
    """SIGTERM, as docker stop and CI runners send; SIGKILL for whatever is left after 10 s."""
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    kill_server(server)  # a worker left behind must not hold the port or the state


@dataclass(frozen=True)
class ServerControl:
    """`start_server`/`stop_server` as a fixture: test modules in other directories cannot
    import this conftest by name (each directory's conftest is a module named `conftest`)."""

    start: Callable[..., ServerProcess]
    stop: Callable[[ServerProcess], None]
    kill: Callable[[ServerProcess], None]
    free_port: Callable[[], int]
    root: Path


@pytest.fixture(scope="session")
def server_control() -> ServerControl:
    return ServerControl(start_server, stop_server, kill_server, free_port, ROOT)


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    """A real `mock-server serve` process (granian, its defaults) on a free port, stopped after
    the module."""
    running = start_server()
    yield running
    stop_server(running)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """What the markers mean, kept true whoever writes the test:

    * ``integration`` starts a real process (the mock, PostgreSQL, HAProxy, Prism...);
    * ``slow`` takes seconds: every integration test, and every test on the PostgreSQL
      engine (its server starts once per run and worker);
    * ``e2e`` drives a real browser.

    ``pytest -m "not slow and not e2e"`` is the fast inner loop (the domain, the state on
    memory and SQLite, the app through Flask's test client); ``./scripts/test`` runs it all.
    """
    for item in items:
        uses_postgres = "postgres" in getattr(item, "fixturenames", ()) or (
            getattr(item, "callspec", None) is not None
            and item.callspec.params.get("engine_factory") == "postgresql")
        if item.get_closest_marker("integration") or uses_postgres:
            item.add_marker(pytest.mark.slow)
