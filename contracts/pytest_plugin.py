"""pytest plugin: the offline mock and the contract checks inside a partner's own test suite.

Fixtures:
- `mock_server` / `mock_server_url`: one mock process for the session, on a free port;
- `reset_mock_server`: the session mock, reset to its seeded data before the test through
  the mock's admin API (`POST /__admin/reset`);
- `fresh_mock_server`: a new mock process for one test (fresh state, no admin API needed);
- `contracts_target`: a `Target` for the behaviour checks, the mock unless
  `--contracts-base-url` points at a deployment (`--contracts-api-key`, `--contracts-token`);
- `contracts_check`: `contracts_check("cancel_gives_canceled_and_hides_from_public_list")`
  runs one behaviour check and fails the test with the rendered report if it fails.

The mock is started by command line only (`python -m mock_server serve ...`): the kit never
imports the mock, so the same checks stay valid against a real deployment.
"""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from .mock_users import DEFAULT_ADMIN_KEY, OTHER_USER
from .target import Target
from .tokens import TokenSource

__all__ = ["MockServer", "start_mock_server"]

DEFAULT_API_KEY = "aaa-bbb-ccc"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class MockServer:
    """A running mock process; `url` serves both APIs under their documented prefixes."""

    url: str
    port: int
    api_key: str
    process: subprocess.Popen[bytes]
    python: str = field(default=sys.executable)
    admin_key: str = field(default_factory=lambda: os.environ.get("MOCK_SERVER_ADMIN_KEY",
                                                                  DEFAULT_ADMIN_KEY))

    def reset(self) -> None:
        """Back to the seeded data set through the mock's admin API (`POST /__admin/reset`).

        Much faster than a new process; raises if this mock has no admin API.
        """
        response = requests.post(f"{self.url}/__admin/reset", timeout=30,
                                 headers={"X-Admin-Key": self.admin_key})
        if response.status_code != 200:
            raise RuntimeError(f"the mock did not reset: POST /__admin/reset answered "
                               f"{response.status_code} {response.text[:200]}")

    def token_command(self, user: str | None = None) -> str:
        """A shell command printing a fresh token for a fixture user (default: the main one)."""
        command = f"{shlex.quote(self.python)} -m mock_server token"
        return command + (f" --user {user}" if user else "")

    def token(self, user: str | None = None) -> str:
        return TokenSource(command=self.token_command(user)).current()

    def target(self, **options: Any) -> Target:
        options.setdefault("api_key", self.api_key)
        options.setdefault("token", TokenSource(command=self.token_command()))
        options.setdefault("other_token", TokenSource(command=self.token_command(OTHER_USER)))
        return Target.from_base_url(self.url, **options)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def start_mock_server(*, seed: int = 42, events: int | None = None,
                      api_key: str = DEFAULT_API_KEY, startup_timeout: float = 30.0,
                      attempts: int = 3) -> MockServer:
    """Start `python -m mock_server serve` on a free port and wait until it answers."""
    last_error = ""
    for _ in range(attempts):
        port = _free_port()
        command = [sys.executable, "-m", "mock_server", "serve", "--host", "127.0.0.1",
                   "--port", str(port), "--seed", str(seed), "--api-key", api_key]
        if events is not None:
            command += ["--events", str(events)]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"})
        server = MockServer(url=f"http://127.0.0.1:{port}", port=port, api_key=api_key,
                            process=process)
        deadline = time.monotonic() + startup_timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                last_error = (process.stderr.read() if process.stderr else b"").decode()[-2000:]
                break  # e.g. the port was taken between choosing and binding it: try another
            try:
                requests.get(f"{server.url}/activities/v1/events", timeout=1,
                             params={"latitude": 50.6292, "longitude": 3.0573},
                             headers={"X-Api-Key": api_key})
                return server
            except requests.ConnectionError:
                time.sleep(0.1)
        else:
            server.stop()
            last_error = f"no answer within {startup_timeout}s"
    raise RuntimeError(f"the mock server did not start: {last_error}")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("contracts", "Decathlon API contract checks")
    group.addoption("--contracts-base-url", metavar="URL",
                    help="point contracts_target at this deployment (both APIs under "
                         "/activities and /sportstrackingdata) instead of a local mock")
    group.addoption("--contracts-api-key", metavar="KEY",
                    default=os.environ.get("CONTRACTS_API_KEY"),
                    help="X-Api-Key for --contracts-base-url (env CONTRACTS_API_KEY)")
    group.addoption("--contracts-token", metavar="TOKEN",
                    default=os.environ.get("CONTRACTS_TOKEN"),
                    help="bearer token for --contracts-base-url (env CONTRACTS_TOKEN)")
    group.addoption("--contracts-other-token", metavar="TOKEN",
                    default=os.environ.get("CONTRACTS_OTHER_TOKEN"),
                    help="a second user's token, for the checks that need two users")
    group.addoption("--contracts-read-only", action="store_true",
                    help="send only safe requests to --contracts-base-url")


@pytest.fixture(scope="session")
def mock_server() -> Iterator[MockServer]:
    """One mock process for the whole session (its state accumulates across tests)."""
    server = start_mock_server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def mock_server_url(mock_server: MockServer) -> str:
    """Base URL of the session mock: `<url>/activities/...`, `<url>/sportstrackingdata/...`."""
    return mock_server.url


@pytest.fixture
def reset_mock_server(mock_server: MockServer) -> MockServer:
    """The session's mock, reset to its seeded data before this test (admin API)."""
    mock_server.reset()
    return mock_server


@pytest.fixture
def fresh_mock_server() -> Iterator[MockServer]:
    """A new mock process for this test only: the seeded data set, nothing else.

    Slower than `reset_mock_server` (a process start), but needs no admin API and gives the
    test a server of its own.
    """
    server = start_mock_server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def contracts_target(request: pytest.FixtureRequest) -> Iterator[Target]:
    """The deployment the behaviour checks run against (the session mock by default)."""
    config = request.config
    base_url = config.getoption("--contracts-base-url")
    if base_url:
        target = Target.from_base_url(
            base_url,
            api_key=config.getoption("--contracts-api-key"),
            token=config.getoption("--contracts-token"),
            other_token=config.getoption("--contracts-other-token"),
            read_only=config.getoption("--contracts-read-only"),
        )
    else:
        server: MockServer = request.getfixturevalue("mock_server")
        target = server.target()
    try:
        yield target
    finally:
        target.close()


@pytest.fixture
def contracts_check(contracts_target: Target) -> Callable[..., None]:
    """Run one behaviour check by name; fail (or skip) the calling test as it does."""
    # Imported here: schemathesis and hypothesis load only in suites that use the checks.
    from .report import render_failure
    from .results import Status
    from .runner import run_behaviour_check

    def check(name: str, *, seed: int = 0, max_examples: int = 10) -> None:
        outcome = run_behaviour_check(name, contracts_target, seed=seed,
                                      max_examples=max_examples)
        if outcome.status == Status.SKIPPED:
            pytest.skip(f"{name}: {outcome.reason}")
        if outcome.status == Status.ERROR:
            pytest.fail(f"{name} could not run: {outcome.reason}", pytrace=False)
        if outcome.status == Status.FAILED:
            secrets = contracts_target.secrets()
            pytest.fail("\n\n".join(render_failure(f, secrets=secrets)
                                    for f in outcome.failures), pytrace=False)

    return check
