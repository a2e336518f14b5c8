"""Oversized forms and bodies against a real `mock-server serve` (granian): the spec's JSON 413
over a socket, never the server's plain-text 500 (what 1,100 form parts used to get)."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import requests

from mock_server.domain.tracking import MAX_PHOTO_BYTES
from tests.conftest import ServerProcess, start_server, stop_server
from tests.multipart_bodies import CONTENT_TYPE, JPEG, field, file_part, form, many_fields

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def running() -> Iterator[ServerProcess]:
    server = start_server("--quiet")
    yield server
    stop_server(server)


@pytest.fixture(scope="module")
def headers(running: ServerProcess) -> dict[str, str]:
    return {"X-Api-Key": "aaa-bbb-ccc", "Authorization": f"Bearer {running.token()}"}


def post(running: ServerProcess, headers: dict[str, str], body: bytes) -> requests.Response:
    return requests.post(f"{running.url}/v2/upload", data=body, timeout=60,
                         headers={**headers, "Content-Type": CONTENT_TYPE})


@pytest.mark.parametrize("preamble", [False, True], ids=["quick-parser", "werkzeug"])
@pytest.mark.parametrize("case", ["too many parts", "huge text field", "file over the limit"])
def test_oversized_forms_get_the_json_413(running: ServerProcess, headers: dict[str, str],
                                          case: str, preamble: bool) -> None:
    parts = {
        "too many parts": [file_part(), *many_fields(1100)],
        "huge text field": [file_part(), field("note", b"a" * 600_000)],
        "file over the limit": [file_part(JPEG + b"\0" * MAX_PHOTO_BYTES)],
    }[case]
    answer = post(running, headers, form(*parts, preamble=preamble))
    assert answer.status_code == 413, answer.text[:300]
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.json()["code"] == 413


def test_a_body_over_the_limit_is_refused_unread(running: ServerProcess,
                                                 headers: dict[str, str]) -> None:
    answer = post(running, headers, form(file_part(JPEG + b"\0" * (5 * 1024 * 1024))))
    assert answer.status_code == 413 and answer.json()["code"] == 413


def test_a_chunked_upload_is_read_like_any_other(running: ServerProcess,
                                                 headers: dict[str, str]) -> None:
    body = form(file_part())
    answer = requests.post(f"{running.url}/v2/upload", data=iter([body[:50], body[50:]]),
                           timeout=60, headers={**headers, "Content-Type": CONTENT_TYPE})
    assert answer.status_code == 200, answer.text
    assert "/uploads/" in answer.json()["url"]


def test_a_chunked_upload_over_the_limit_is_the_json_413(running: ServerProcess,
                                                       headers: dict[str, str]) -> None:
    body = form(file_part(JPEG + b"\0" * (5 * 1024 * 1024)))
    chunks = (body[start:start + 65536] for start in range(0, len(body), 65536))
    answer = requests.post(f"{running.url}/v2/upload", data=chunks, timeout=60,
                           headers={**headers, "Content-Type": CONTENT_TYPE})
    assert answer.status_code == 413, answer.text[:300]
    assert answer.json()["code"] == 413


def _status_line(running: ServerProcess, headers: dict[str, str]) -> tuple[int, str]:
    parts = urlsplit(running.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request("GET", "/v1/auth/me", headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status, response.reason
    finally:
        connection.close()


def test_a_real_and_an_injected_498_have_one_status_line_on_the_wire(
        running: ServerProcess) -> None:
    """The reason phrase is the server's (granian writes hyper's table, which names no 498:
    ``<none>``); what matters is that both ways of answering 498 send the same line."""
    real = _status_line(running, {"X-Api-Key": "aaa-bbb-ccc",
                                  "Authorization": f"Bearer {running.token(ttl=-10)}"})
    rule = requests.post(f"{running.url}/__admin/faults", timeout=10,
                         headers={"X-Admin-Key": "admin-dev-key"},
                         json={"kind": "status", "status": 498, "count": 1,
                               "path": "/v1/auth/me"}).json()
    injected = _status_line(running, {"X-Api-Key": "aaa-bbb-ccc"})
    requests.delete(f"{running.url}/__admin/faults/{rule['id']}", timeout=10,
                    headers={"X-Admin-Key": "admin-dev-key"})
    assert real[0] == injected[0] == 498
    assert real[1] == injected[1]
