"""Fixtures of the contract kit's own tests.

The conformant mock is built in-process with `mock_server.app.create_app` (the only mock
import allowed here) and served by `Target.from_wsgi` on a free loopback port, so tests run
in parallel under xdist without sharing a port, a file or any state. Tokens come from the
mock's command line, as a partner would get them.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from contracts import Spec, Target, TokenSource

MAIN_USER = "28cce8e0-2d57-4e54-8888-2fc69690aeeb"
OTHER_USER = "4c68165b-3869-4c22-8098-a4a429c97509"
API_KEY = "aaa-bbb-ccc"
#: A small data set keeps app creation fast; enough events near Lille for several pages.
MOCK_CONFIG = {"SEED": 42, "EVENTS": 120}


def _token(user: str | None = None) -> str:
    command = [sys.executable, "-m", "mock_server", "token"] + (["--user", user] if user else [])
    completed = subprocess.run(command, capture_output=True, text=True, check=True, timeout=60)
    return completed.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def tokens() -> dict[str, str]:
    """Bearer tokens of the mock's two fixture users, fetched once per worker."""
    return {"main": _token(), "other": _token(OTHER_USER)}


@pytest.fixture(scope="session")
def spec() -> Spec:
    return Spec.load()


@pytest.fixture
def mock_app() -> Any:
    from mock_server.app import create_app

    return create_app(dict(MOCK_CONFIG))


@pytest.fixture
def make_target(tokens: dict[str, str]) -> Iterator[Callable[..., Target]]:
    """Build a `Target` around a WSGI app (closed after the test); both users by default."""
    made: list[Target] = []

    def make(app: Any, *, other: bool = True, **options: Any) -> Target:
        options.setdefault("api_key", API_KEY)
        options.setdefault("token", TokenSource(token=tokens["main"]))
        if other:
            options.setdefault("other_token", TokenSource(token=tokens["other"]))
        target = Target.from_wsgi(app, **options)
        made.append(target)
        return target

    yield make
    for target in made:
        target.close()


@pytest.fixture
def mock_target(mock_app: Any, make_target: Callable[..., Target]) -> Target:
    """The conformant mock, fresh for this test, with both users' tokens."""
    return make_target(mock_app)
