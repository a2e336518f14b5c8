"""Every API test here runs through both request paths: the WSGI fast path and Flask's views.

Both call the same responder (``api.pipeline.make_responder``), so they must answer alike; a
test that passes one way and fails the other is a drift between them. ``make_app`` builds an
app for the path under test, for the tests that need settings of their own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest
from flask import Flask

from mock_server.app import create_app

REQUEST_PATHS = {"fast-path": True, "flask": False}

AppFactory = Callable[[Mapping[str, Any]], Flask]


@pytest.fixture(params=list(REQUEST_PATHS.values()), ids=list(REQUEST_PATHS))
def fast_path(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
def make_app(fast_path: bool) -> AppFactory:
    def make(config: Mapping[str, Any]) -> Flask:
        return create_app({**config, "FAST_PATH": fast_path})

    return make


@pytest.fixture
def app(make_app: AppFactory) -> Flask:
    return make_app({"SEED": 42, "EVENTS": 300})
