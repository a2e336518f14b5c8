"""The documents' own requests, replayed against a real `mock-server serve` process.

Each test sends what a documented curl command sends (with the mock's host, the development
key and a token) and checks the documented answer.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from mock_server.api.auth import Tokens
from mock_server.domain.clock import SystemClock
from mock_server.seed import DEFAULT_USER_ID, build_fixtures
from mock_server.settings import DEFAULT_API_KEY, DEFAULT_TOKEN_SECRET

pytestmark = pytest.mark.integration
DOCUMENTS = Path(__file__).resolve().parents[2] / "fixtures" / "documents"
SUBSCRIBER = "4c68165b-3869-4c22-8098-a4a429c97509"


def document(name: str) -> dict:
    return json.loads((DOCUMENTS / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def tokens():
    """Tokens for every fixture user, signed like `mock-server token` does."""
    signer = Tokens(DEFAULT_TOKEN_SECRET, SystemClock())
    users = build_fixtures(seed=42, events=0).users
    return {u.id: signer.issue(u.id, u.type, ttl=timedelta(hours=1)) for u in users}


@pytest.fixture(scope="module")
def api(server, tokens):
    base = f"{server.url}/activities"

    def call(method: str, path: str, user: str | None = DEFAULT_USER_ID, **kwargs):
        headers = {"X-Api-Key": DEFAULT_API_KEY, "Accept": "application/json",
                   **kwargs.pop("headers", {})}
        if user:
            headers["Authorization"] = f"Bearer {tokens[user]}"
        return requests.request(method, base + path, headers=headers, timeout=10, **kwargs)

    return call


def test_list_of_sport_activities_as_documented(api):
    query = "/v1/events?latitude=50.617922&longitude=3.081998&level[]=5&level[]=10"
    response = api("GET", query, user=None)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"data", "links", "meta"}
    expected = document("listEvents.response.json")
    assert set(body["meta"]) == set(expected["meta"])
    assert set(body["links"]) == set(expected["links"])
    # Links keep the query string exactly as the client sent it (requests encodes the brackets).
    sent = response.request.path_url.removeprefix("/activities")
    assert body["links"]["first"] == sent + "&page=1"
    assert sent.replace("%5B%5D", "[]") == query
    assert body["meta"]["path"] == "/v1/events"
    assert body["meta"]["per_page"] == 25
    for event in body["data"]:
        assert set(event) >= set(expected["data"][0])
        assert set(event["level"]) & {5, 10}
        assert event["status"] == "PUBLISHED"


def test_event_lifecycle_as_documented(api):
    sent = document("createEvent.request.json")
    created = api("POST", "/v1/events", json=sent)
    assert created.status_code == 201, created.text
    event = created.json()["data"]
    for key, value in sent.items():
        assert event[key] == value, key
    assert event["owner"]["id"] == DEFAULT_USER_ID
    assert event["slots_limit"] == event["slots"] == sent["slots"]
    event_id = event["id"]

    patched = api("PATCH", f"/v1/events/{event_id}", json=document("patchEvent.request.json"))
    assert patched.status_code == 200
    assert patched.json()["data"]["title"] == "Test title 2"
    assert patched.json()["data"]["description"] == sent["description"]

    read = api("GET", f"/v1/events/{event_id}")
    assert read.status_code == 200 and read.json()["data"] == patched.json()["data"]

    mine = api("GET", "/v1/events/mine?type=created", headers={"X-Desired-Limit": "100"})
    assert event_id in [e["id"] for e in mine.json()["data"]]
    assert mine.json()["links"]["first"] == "/v1/events/mine?type=created&page=1"

    duplicated = api("POST", f"/v1/events/{event_id}/duplicate")
    assert duplicated.status_code == 201
    assert duplicated.json()["data"]["status"] == "PENDING"
    assert duplicated.json()["data"]["id"] != event_id

    canceled = api("POST", f"/v1/events/{event_id}/cancel")
    assert canceled.status_code == 200
    assert canceled.json()["data"]["status"] == "CANCELED"
    assert api("PATCH", f"/v1/events/{event_id}", json={"title": "x"}).status_code == 422


def test_subscribers_as_documented(api):
    event = api("POST", "/v1/events", json=document("createEvent.request.json")).json()["data"]
    base = f"/v1/events/{event['id']}/subscribers"
    added = api("POST", base, json=document("addSubscriber.request.json"))
    assert added.status_code == 201 and added.json() == {"data": True}

    listed = api("GET", base)
    assert listed.status_code == 200
    assert [s["id"] for s in listed.json()["data"]] == [SUBSCRIBER]
    assert listed.json()["links"]["first"] == f"{base}?page=1"
    subscriber = listed.json()["data"][0]
    assert subscriber["additional_subscribers"] == 0 and subscriber["children"] == []

    updated = api("PATCH", f"{base}/{SUBSCRIBER}", json=document("updateSubscriber.request.json"))
    assert updated.status_code == 200 and updated.json() == {"data": True}
    me = api("GET", f"{base}/me", user=SUBSCRIBER)
    assert me.status_code == 200
    assert me.json()["has_attended"] is True
    assert me.json()["children"] == [{"name": "Suzie"}, {"name": "Michael"}]
    read = api("GET", f"/v1/events/{event['id']}").json()["data"]
    assert read["slots"] == event["slots_limit"] - 3

    removed = api("DELETE", f"{base}/{SUBSCRIBER}")
    assert removed.status_code == 200 and removed.json() == {"data": True}
    assert api("GET", f"{base}/me", user=SUBSCRIBER).status_code == 404
    assert api("GET", f"/v1/events/{event['id']}").json()["data"]["slots"] == event["slots"]


def test_users_and_auth_as_documented(api):
    found = api("GET", "/v1/users/search_user_by_external_id?external_id=ZXXDOEJ&type=FED")
    assert found.status_code == 200
    assert found.json() == {"data": [document("searchUserByExternalId.response.json")["data"][0]]}
    me = api("GET", "/v1/auth/me")
    assert me.status_code == 200 and me.json()["id"] == DEFAULT_USER_ID


def test_documented_errors(api, server):
    assert api("GET", "/v1/auth/me", user=None).status_code == 401
    assert api("GET", "/v1/events?latitude=1&longitude=1", user=None,
               headers={"X-Api-Key": "wrong"}).status_code == 401
    expired = server.token(ttl=-10)
    response = requests.get(f"{server.url}/activities/v1/auth/me", timeout=10, headers={
        "X-Api-Key": DEFAULT_API_KEY, "Authorization": f"Bearer {expired}"})
    assert response.status_code == 498
    assert response.json()["code"] == 498
    malformed = api("POST", "/v1/events", data="{", headers={"Content-Type": "application/json"})
    assert malformed.status_code == 400
    invalid = api("POST", "/v1/events", json={"title": ""})
    assert invalid.status_code == 422 and "description" in invalid.json()["errors"]
    assert api("GET", "/v1/events/999999").status_code == 404
    assert api("PUT", "/v1/events").status_code == 405


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_documented_upload_curl_works_verbatim(server, tmp_path):
    photo = tmp_path / "myphoto.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 2000)
    token = server.token()
    out = subprocess.run(
        ["curl", "-s", "-X", "POST", f"{server.url}/sportstrackingdata/v2/upload",
         "-H", f"Authorization: Bearer {token}", "-H", "Content-Type: application/json",
         "-H", f"x-api-key: {DEFAULT_API_KEY}", "-F", f"file=@{photo}"],
        capture_output=True, text=True, check=True, timeout=30)
    url = json.loads(out.stdout)["url"]
    assert requests.get(url, timeout=10).content == photo.read_bytes()
    headers = {"Authorization": f"Bearer {token}", "x-api-key": DEFAULT_API_KEY}
    activities = requests.get(f"{server.url}/sportstrackingdata/v2/activities", headers=headers,
                              timeout=10).json()
    token_id = activities[0]["id"]
    for body in (document("updateActivity.request.images.json"),
                 document("updateActivity.request.thumbnail.json")):
        put = requests.put(f"{server.url}/sportstrackingdata/v2/activities/{token_id}",
                           json=body, headers=headers, timeout=10)
        assert put.status_code == 200
        for key, value in body.items():
            assert put.json()[key] == value


def test_concurrent_subscriptions_take_exactly_the_free_places(api, tokens):
    places = 7
    body = {**document("createEvent.request.json"), "slots": places}
    event = api("POST", "/v1/events", json=body).json()["data"]
    candidates = [u for u in tokens if u != DEFAULT_USER_ID][:40]

    def subscribe(user: str) -> int:
        return api("POST", f"/v1/events/{event['id']}/subscribers", user=user,
                   json={"user": user}).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(subscribe, candidates))
    assert statuses.count(201) == places
    assert statuses.count(422) == len(candidates) - places
    after = api("GET", f"/v1/events/{event['id']}").json()["data"]
    assert after["slots"] == 0
    listed = api("GET", f"/v1/events/{event['id']}/subscribers",
                 headers={"X-Desired-Limit": "100"}).json()
    assert listed["meta"]["total"] == places
