"""Fixtures of the admin API's tests: one app per module, reset through the admin API itself.

Building an app compiles the spec (most of a second), so each module shares one and every test
starts with `POST /__admin/reset`, which is exactly what a partner's suite does between tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mock_server.app import create_app
from mock_server.seed import DEFAULT_USER_ID
from mock_server.services import Services
from mock_server.settings import DEFAULT_API_KEY

ADMIN = {"X-Admin-Key": "admin-dev-key"}
API_KEY = {"X-Api-Key": DEFAULT_API_KEY}
OTHER_USER_ID = "4c68165b-3869-4c22-8098-a4a429c97509"
LILLE_QUERY = "latitude=50.6292&longitude=3.0573"
NEW_EVENT: dict[str, Any] = {
    "title": "Morning run", "description": "Easy pace", "start_date": "2027-07-21T17:32:28Z",
    "end_date": "2027-07-21T19:32:28Z", "sport_id": 121, "latitude": 50.64,
    "longitude": 3.14, "level": [5], "age_min": 12, "age_max": 70, "slots": 20,
}


@pytest.fixture(scope="module")
def admin_app() -> Flask:
    return create_app({"SEED": 42, "EVENTS": 60})


@pytest.fixture
def client(admin_app: Flask) -> Iterator[FlaskClient]:
    """A client of a mock reset to its fixtures (data, journal, faults and clock)."""
    client = admin_app.test_client()
    assert client.post("/__admin/reset", headers=ADMIN).status_code == 200
    yield client


@pytest.fixture
def services(admin_app: Flask) -> Services:
    return admin_app.extensions["mock_server"]


@pytest.fixture
def bearer(client: FlaskClient) -> Callable[..., dict[str, str]]:
    """API key and a token minted through the admin API, for any user and lifetime."""

    def make(user: str = DEFAULT_USER_ID, ttl: float = 3600) -> dict[str, str]:
        answer = client.post("/__admin/tokens", json={"user": user, "ttl_seconds": ttl},
                             headers=ADMIN)
        assert answer.status_code == 201, answer.json
        return {**API_KEY, "Authorization": f"Bearer {answer.json['token']}"}

    return make
