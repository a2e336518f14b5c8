"""`mock-server serve --workers 2`: two processes, one state.

What one worker writes, the other must see on the very next request, and check-then-act rules
must hold when both write at once (store_sqlite.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests

from mock_server.api.auth import Tokens
from mock_server.domain.clock import SystemClock
from mock_server.seed import DEFAULT_USER_ID, build_fixtures
from mock_server.settings import DEFAULT_API_KEY, DEFAULT_TOKEN_SECRET
from tests.conftest import ServerProcess, start_server, stop_server

pytestmark = pytest.mark.integration
USERS = build_fixtures(seed=42, events=0).users
SIGNER = Tokens(DEFAULT_TOKEN_SECRET, SystemClock())
OWNER_HEADERS = {
    "X-Api-Key": DEFAULT_API_KEY,
    "Authorization": "Bearer " + SIGNER.issue(DEFAULT_USER_ID, "FED", ttl=timedelta(hours=1)),
}
EVENT = {
    "title": "Two workers", "description": "Coherence", "start_date": "2027-01-10T10:00:00Z",
    "end_date": "2027-01-10T12:00:00Z", "sport_id": 121, "latitude": 50.63,
    "longitude": 3.06, "level": [5], "age_min": 10, "age_max": 60, "slots": 5,
}


@pytest.fixture(scope="module")
def workers() -> Iterator[ServerProcess]:
    running = start_server("--workers", "2", "--quiet")
    yield running
    stop_server(running)


def create_event(base: str, **changes: object) -> int:
    response = requests.post(f"{base}/activities/v1/events", json={**EVENT, **changes},
                             headers=OWNER_HEADERS, timeout=10)
    assert response.status_code == 201, response.text
    return int(response.json()["data"]["id"])


def test_what_one_worker_creates_every_worker_sees_at_once(workers: ServerProcess) -> None:
    base = workers.url
    for _ in range(30):
        event_id = create_event(base)
        url = f"{base}/activities/v1/events/{event_id}"
        # New connections each time, so the reads spread over both workers.
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(
                lambda target: requests.get(target, headers=OWNER_HEADERS,
                                            timeout=10).status_code,
                [url] * 8))
        assert statuses == [200] * 8


def test_concurrent_subscriptions_take_exactly_the_free_places(workers: ServerProcess) -> None:
    base = workers.url
    places = 5
    event_id = create_event(base, slots=places)
    candidates = [user.id for user in USERS if user.id != DEFAULT_USER_ID][:40]

    def subscribe(user_id: str) -> int:
        response = requests.post(f"{base}/activities/v1/events/{event_id}/subscribers",
                                 json={"user": user_id}, headers=OWNER_HEADERS, timeout=10)
        return response.status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(subscribe, candidates))
    assert statuses.count(201) == places
    assert statuses.count(422) == len(candidates) - places
    event = requests.get(f"{base}/activities/v1/events/{event_id}", headers=OWNER_HEADERS,
                         timeout=10).json()["data"]
    assert (event["slots"], event["slots_limit"]) == (0, places)
    listed = requests.get(f"{base}/activities/v1/events/{event_id}/subscribers",
                          headers={**OWNER_HEADERS, "X-Desired-Limit": "100"}, timeout=10)
    assert listed.json()["meta"]["total"] == places


def test_concurrent_creations_get_distinct_ids(workers: ServerProcess) -> None:
    with ThreadPoolExecutor(max_workers=16) as pool:
        ids = list(pool.map(lambda _: create_event(workers.url), range(48)))
    assert len(set(ids)) == len(ids)


def test_an_upload_is_served_by_every_worker(workers: ServerProcess) -> None:
    content = b'{"distance": 10.5, "worker": "coherence"}'
    response = requests.post(f"{workers.url}/sportstrackingdata/v2/upload",
                             files={"file": ("run.json", content, "application/json")},
                             headers=OWNER_HEADERS, timeout=10)
    assert response.status_code == 200, response.text
    digest = hashlib.sha1(content).hexdigest()
    assert response.json()["url"].endswith(digest)
    with ThreadPoolExecutor(max_workers=8) as pool:
        bodies = list(pool.map(
            lambda _: requests.get(f"{workers.url}/uploads/{digest}", timeout=10).content,
            range(8)))
    assert bodies == [content] * 8
