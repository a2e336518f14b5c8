"""Stoplight Prism's validation proxy in front of the mock, as an independent judge.

`prism proxy openapi.yaml UPSTREAM --errors` (Prism 5.14.2, pinned in tools/package-lock.json)
validates every request against the spec before forwarding it and every answer of the mock
after.
Its validator (AJV, JavaScript regular expressions, ajv-formats) is not ours, so it catches
what our own validation would wave through. Two kinds of traffic go through it, and neither
may draw a single violation: the documents' own requests, and a schemathesis run of valid
requests (`--mode positive`; Prism refuses invalid requests itself, with its own error body,
so the mock's answers to them are not Prism's to judge).

Known limits of Prism 5.14.2's proxy, kept out of the traffic on purpose (DECISIONS.md,
Tools): it forwards request bodies as UTF-8 text, so a binary photo arrives altered (the
documents' text formats, GPX and JSON, arrive intact); it parses a body as JSON whenever the
Content-Type says so, so the documents' upload curl (a multipart body sent as
application/json) gets Prism's own 400; and its multipart parser crashes on a file part
without a Content-Type (curl always sends one).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from mock_server.seed.fixtures import DEFAULT_USER_ID
from mock_server.settings import DEFAULT_API_KEY
from tests.conftest import ServerProcess
from tests.integration.partner_tools import (
    ROOT,
    PrismProxy,
    events_of_the_configured_caller,
    prism_answers,
    prism_violations,
    run_schemathesis,
    schemathesis_passed,
    start_prism,
)

pytestmark = pytest.mark.integration
DOCUMENTS = ROOT / "fixtures" / "documents"
SUBSCRIBER = "4c68165b-3869-4c22-8098-a4a429c97509"
GPX = (b'<?xml version="1.0" encoding="UTF-8"?>\n<gpx xmlns="http://www.topografix.com/GPX/1/1" '
       b'version="1.1" creator="partner"><trk><name>Lille</name></trk></gpx>')


def document(name: str) -> Any:
    return json.loads((DOCUMENTS / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def prism(server: ServerProcess) -> Iterator[PrismProxy]:
    """`prism proxy openapi.yaml http://MOCK --errors`: Prism serves the spec's paths as
    written (/v1/..., /v2/...) and forwards them to the mock's root, which serves them too."""
    proxy = start_prism(server.url)
    yield proxy
    proxy.stop()


class Client:
    """Sends requests through a proxy and keeps every `sl-violations` header Prism adds."""

    def __init__(self, proxy: PrismProxy, tokens: dict[str, str]) -> None:
        self.proxy = proxy
        self.tokens = tokens
        self.flagged: list[str] = []

    def __call__(self, method: str, path: str, expected: int, *, user: str | None = None,
                 **kwargs: Any) -> Any:
        headers = {"X-Api-Key": DEFAULT_API_KEY, "Accept": "application/json",
                   **kwargs.pop("headers", {})}
        if user:
            headers["Authorization"] = f"Bearer {self.tokens[user]}"
        answer = requests.request(method, self.proxy.url + path, headers=headers, timeout=30,
                                  **kwargs)
        if "sl-violations" in answer.headers:
            self.flagged.append(f"{method} {path}: {answer.headers['sl-violations']}")
        assert answer.status_code == expected, (method, path, answer.text)
        return answer.json()


def test_the_documents_requests_draw_no_violation(server: ServerProcess,
                                                   prism: PrismProxy) -> None:
    tokens = {DEFAULT_USER_ID: server.token(), SUBSCRIBER: server.token(SUBSCRIBER)}
    before = len(prism.output())
    api = Client(prism, tokens)
    owner = DEFAULT_USER_ID

    listed = api("GET", "/v1/events?latitude=50.617922&longitude=3.081998&level[]=5&level[]=10",
                 200)
    assert listed["data"], "the documents' search near Lille finds the fixture events"
    event = api("POST", "/v1/events", 201, user=owner,
                json=document("createEvent.request.json"))["data"]
    base = f"/v1/events/{event['id']}"
    api("PATCH", base, 200, user=owner, json=document("patchEvent.request.json"))
    api("GET", base, 200, user=owner)
    api("GET", "/v1/events/mine?type=created", 200, user=owner)
    api("POST", f"{base}/subscribers", 201, user=owner, json=document("addSubscriber.request.json"))
    api("GET", f"{base}/subscribers", 200, user=owner)
    api("PATCH", f"{base}/subscribers/{SUBSCRIBER}", 200, user=owner,
        json=document("updateSubscriber.request.json"))
    api("GET", f"{base}/subscribers/me", 200, user=SUBSCRIBER)
    api("DELETE", f"{base}/subscribers/{SUBSCRIBER}", 200, user=owner)
    api("POST", f"{base}/duplicate", 201, user=owner)
    api("POST", f"{base}/cancel", 200, user=owner)
    api("GET", "/v1/users/search_user_by_external_id?external_id=ZXXDOEJ&type=FED", 200,
        user=owner)
    api("GET", "/v1/auth/me", 200, user=owner)

    uploaded = api("POST", "/v2/upload", 200, user=owner,
                     files={"file": ("lille.gpx", GPX, "application/gpx+xml")})
    assert requests.get(uploaded["url"], timeout=10).content == GPX
    token = api("GET", "/v2/activities", 200, user=owner)[0]["id"]
    for body in (document("updateActivity.request.images.json"),
                 document("updateActivity.request.thumbnail.json")):
        api("PUT", f"/v2/activities/{token}", 200, user=owner, json=body)
    api("GET", f"/v2/activities/{token}", 200, user=owner)

    assert api.flagged == []
    log = prism.output()[before:]
    assert prism_violations(log) == [], log
    assert prism.process.poll() is None, log
    assert prism_answers(log)["forwarded"] == 19, log


def test_schemathesis_through_prism_draws_no_violation(server: ServerProcess,
                                                       prism: PrismProxy) -> None:
    before = len(prism.output())
    owned_before = events_of_the_configured_caller(server.url)
    run = run_schemathesis(prism.url, "--mode", "positive")
    log = prism.output()[before:]
    passed, output = schemathesis_passed(run)
    assert passed, output
    assert events_of_the_configured_caller(server.url) > owned_before, output
    assert prism.process.poll() is None, log[-3000:]
    assert prism_violations(log) == [], output
    # The run reached the mock: Prism forwarded the requests rather than answering them.
    answers = prism_answers(log)
    assert answers["forwarded"] > 500, answers
