"""The validation proxy against the mock itself and against a deliberately broken upstream.

The upstreams and the proxy run in this process on waitress threads (free ports, nothing
shared), except one test that drives the real `mock-server proxy` command and its report file.
"""

from __future__ import annotations

import gzip
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest
import requests
import waitress
from flask import Flask, Response
from waitress import wasyncore

from mock_server.app import create_app
from mock_server.controls.proxy import VIOLATIONS_HEADER, ProxyApp

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
ADMIN = {"X-Admin-Key": "proxy-key"}
API_KEY = {"X-Api-Key": "aaa-bbb-ccc"}
USER_ID = "28cce8e0-2d57-4e54-8888-2fc69690aeeb"
EVENTS_QUERY = "/activities/v1/events?latitude=50.6292&longitude=3.0573"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def served(app: Any) -> Iterator[str]:
    """Serve a WSGI app with waitress on a free port, in a daemon thread."""
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
    stopped = threading.Event()

    def run() -> None:  # waitress's loop, one turn at a time, so it can stop between turns
        while not stopped.is_set():
            wasyncore.loop(timeout=0.05, map=server._map, count=1)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        stopped.set()
        thread.join(timeout=5)
        server.task_dispatcher.shutdown(timeout=1)
        wasyncore.close_all(server._map)


def raw(response: requests.Response) -> bytes:
    """The bytes on the wire (no decompression)."""
    return response.raw.read(decode_content=False)


def fetch(url: str, **kwargs: Any) -> tuple[requests.Response, bytes]:
    response = requests.get(url, stream=True, timeout=30, **kwargs)
    return response, raw(response)


@pytest.fixture(scope="module")
def mock_upstream() -> Iterator[str]:
    with served(create_app({"SEED": 42, "EVENTS": 40})) as url:
        yield url


@pytest.fixture(scope="module")
def token(mock_upstream: str) -> str:
    answer = requests.post(f"{mock_upstream}/__admin/tokens", json={"ttl_seconds": 3600},
                           headers={"X-Admin-Key": "admin-dev-key"}, timeout=10)
    return str(answer.json()["token"])


def broken_upstream() -> Flask:
    """Answers that break openapi.yaml in several ways, and one that does not."""
    app = Flask("broken")

    @app.get("/activities/v1/events/<int:event_id>")
    def wrong_type(event_id: int) -> Response:
        return Response(b'{"data": {"id": "not-an-integer", "title": 7}}',
                        content_type="application/json", headers={"X-Upstream": "broken"})

    @app.get("/activities/v1/auth/me")
    def conformant() -> Response:
        return Response(orjson.dumps({"id": USER_ID, "type": "FED", "name": "John D"}),
                        content_type="application/json")

    @app.get("/sportstrackingdata/v2/activities")
    def teapot() -> Response:
        return Response(b'{"code": 418, "message": "short and stout"}', status=418,
                        content_type="application/json")

    @app.get("/activities/v1/users/search_user_by_external_id")
    def not_json() -> Response:
        return Response(b"<user/>", content_type="text/xml")

    @app.get("/activities/v1/events/mine")
    def compressed() -> Response:
        body = {"data": [{"id": "x"}], "links": {}, "meta": {}}
        return Response(gzip.compress(orjson.dumps(body), mtime=0),
                        content_type="application/json", headers={"Content-Encoding": "gzip"})

    return app


@pytest.fixture
def proxy_to_mock(mock_upstream: str, tmp_path: Path) -> Iterator[tuple[str, ProxyApp]]:
    proxy = ProxyApp(mock_upstream, report_path=str(tmp_path / "report.json"),
                     admin_key="proxy-key")
    with served(proxy) as url:
        yield url, proxy
    proxy.close()


@pytest.fixture
def proxy_to_broken(tmp_path: Path) -> Iterator[tuple[str, str, ProxyApp]]:
    with served(broken_upstream()) as upstream:
        proxy = ProxyApp(upstream, report_path=str(tmp_path / "report.json"),
                         admin_key="proxy-key")
        with served(proxy) as url:
            yield url, upstream, proxy
        proxy.close()


def test_the_mock_through_the_proxy_has_no_violation_and_the_same_bytes(
        proxy_to_mock: tuple[str, ProxyApp], mock_upstream: str, token: str) -> None:
    url, proxy = proxy_to_mock
    headers = {**API_KEY, "Authorization": f"Bearer {token}"}
    for path in (EVENTS_QUERY, "/activities/v1/events/1", "/activities/v1/auth/me",
                 "/activities/v1/events/mine?type=created", "/sportstrackingdata/v2/activities",
                 "/activities/v1/events/999999"):
        direct, direct_bytes = fetch(mock_upstream + path, headers=headers)
        proxied, proxied_bytes = fetch(url + path, headers=headers)
        assert proxied.status_code == direct.status_code, path
        assert proxied_bytes == direct_bytes, path
        assert proxied.headers["Content-Type"] == direct.headers["Content-Type"]
        assert VIOLATIONS_HEADER not in proxied.headers, path
    created = requests.post(url + "/activities/v1/events", headers=headers, timeout=10, json={
        "title": "Through the proxy", "description": "d", "start_date": "2027-07-21T17:32:28Z",
        "end_date": "2027-07-21T19:32:28Z", "sport_id": 121, "latitude": 50.6,
        "longitude": 3.1, "level": [5], "age_min": 5, "age_max": 50, "slots": 3})
    assert created.status_code == 201 and VIOLATIONS_HEADER not in created.headers
    report = requests.get(url + "/__admin/report", headers=ADMIN, timeout=10).json()
    assert report["exchanges"] == 7 and report["violations"] == 0
    assert report["by_operation"]["getEvent"] == {"exchanges": 2, "violations": 0}


def test_root_paths_are_checked_like_the_mounted_ones(
        proxy_to_mock: tuple[str, ProxyApp], mock_upstream: str, token: str) -> None:
    """A client of one base URL (`/v1/...`, `/v2/...`) gets the same checks and bytes."""
    url, _ = proxy_to_mock
    headers = {**API_KEY, "Authorization": f"Bearer {token}"}
    for path in ("/v1/events?latitude=50.6292&longitude=3.0573", "/v1/events/1",
                 "/v1/auth/me", "/v2/activities"):
        direct, direct_bytes = fetch(mock_upstream + path, headers=headers)
        proxied, proxied_bytes = fetch(url + path, headers=headers)
        assert proxied.status_code == direct.status_code == 200, path
        assert proxied_bytes == direct_bytes, path
        assert VIOLATIONS_HEADER not in proxied.headers, path
    bad = requests.get(url + "/v1/events?latitude=500&longitude=3", headers=API_KEY, timeout=10)
    assert bad.status_code == 422 and bad.headers[VIOLATIONS_HEADER] == "1"
    report = requests.get(url + "/__admin/report", headers=ADMIN, timeout=10).json()
    assert report["by_operation"]["listEvents"] == {"exchanges": 2, "violations": 1}
    assert report["by_operation"]["listActivities"] == {"exchanges": 1, "violations": 0}


def test_client_side_violations_are_reported_too(proxy_to_mock: tuple[str, ProxyApp]) -> None:
    url, _ = proxy_to_mock
    answer = requests.get(url + "/activities/v1/events?latitude=500&longitude=3&colour=red",
                          headers=API_KEY, timeout=10)
    assert answer.status_code == 422  # the upstream's own answer, passed through
    assert answer.headers[VIOLATIONS_HEADER] == "2"
    unknown = requests.get(url + "/activities/v1/evnts", timeout=10)
    assert unknown.status_code == 404 and unknown.headers[VIOLATIONS_HEADER] == "1"
    no_token = requests.get(url + "/activities/v1/auth/me", headers=API_KEY, timeout=10)
    assert no_token.status_code == 401 and no_token.headers[VIOLATIONS_HEADER] == "1"
    entries = requests.get(url + "/__admin/report", headers=ADMIN, timeout=10).json()["entries"]
    kinds = [v["kind"] for entry in entries for v in entry["violations"]]
    assert kinds == ["schema", "schema", "operation", "security"]
    assert "nearest: GET /activities/v1/events" in entries[1]["violations"][0]["message"]


def test_a_non_conformant_upstream_is_passed_through_and_reported(
        proxy_to_broken: tuple[str, str, ProxyApp], tmp_path: Path) -> None:
    url, upstream, proxy = proxy_to_broken
    headers = {**API_KEY, "Authorization": "Bearer anything"}
    direct, direct_bytes = fetch(upstream + "/activities/v1/events/1", headers=headers)
    proxied, proxied_bytes = fetch(url + "/activities/v1/events/1", headers=headers)
    assert proxied.status_code == direct.status_code == 200
    assert proxied_bytes == direct_bytes == b'{"data": {"id": "not-an-integer", "title": 7}}'
    assert proxied.headers["X-Upstream"] == "broken"
    assert int(proxied.headers[VIOLATIONS_HEADER]) >= 3  # id type, title type, required fields

    conformant = requests.get(url + "/activities/v1/auth/me", headers=headers, timeout=10)
    assert conformant.status_code == 200 and VIOLATIONS_HEADER not in conformant.headers
    teapot = requests.get(url + "/sportstrackingdata/v2/activities", headers=headers,
                          timeout=10)
    assert teapot.status_code == 418 and teapot.headers[VIOLATIONS_HEADER] == "1"
    xml = requests.get(url + "/activities/v1/users/search_user_by_external_id?type=FED"
                       "&external_id=JOHND01", headers=headers, timeout=10)
    assert xml.text == "<user/>" and xml.headers[VIOLATIONS_HEADER] == "1"

    journal = requests.get(url + "/__admin/journal", params={"violating": "true"},
                           headers=ADMIN, timeout=10).json()["exchanges"]
    by_path = {e["request"]["path"]: e["violations"] for e in journal}
    assert set(by_path) == {"/activities/v1/events/1", "/sportstrackingdata/v2/activities",
                            "/activities/v1/users/search_user_by_external_id"}
    wrong_type = " ".join(v["message"] for v in by_path["/activities/v1/events/1"])
    assert "'not-an-integer' is not of type 'integer'" in wrong_type
    assert by_path["/sportstrackingdata/v2/activities"][0]["kind"] == "status"
    assert by_path["/activities/v1/users/search_user_by_external_id"][0]["kind"] == (
        "content-type")

    proxy.close()
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["exchanges"] == 4 and report["violating_exchanges"] == 3
    assert report["by_operation"]["getAuthenticatedUser"] == {"exchanges": 1, "violations": 0}


def test_a_compressed_body_stays_compressed_and_is_still_checked(
        proxy_to_broken: tuple[str, str, ProxyApp]) -> None:
    url, upstream, _ = proxy_to_broken
    headers = {**API_KEY, "Authorization": "Bearer x", "Accept-Encoding": "gzip"}
    direct, direct_bytes = fetch(upstream + "/activities/v1/events/mine?type=created",
                                 headers=headers)
    proxied, proxied_bytes = fetch(url + "/activities/v1/events/mine?type=created",
                                   headers=headers)
    assert proxied.headers["Content-Encoding"] == "gzip"
    assert proxied_bytes == direct_bytes and gzip.decompress(proxied_bytes).startswith(b"{")
    assert int(proxied.headers[VIOLATIONS_HEADER]) >= 1


def test_an_unreachable_upstream_answers_502(tmp_path: Path) -> None:
    proxy = ProxyApp(f"http://127.0.0.1:{free_port()}", admin_key="proxy-key", timeout=2)
    with served(proxy) as url:
        answer = requests.get(url + EVENTS_QUERY, headers=API_KEY, timeout=10)
    assert answer.status_code == 502 and answer.headers["X-Proxy-Error"] == "upstream-unreachable"
    assert answer.json()["code"] == 502


def test_routes_send_a_prefix_to_another_upstream(mock_upstream: str) -> None:
    with served(broken_upstream()) as broken:
        proxy = ProxyApp(broken, routes={"/sportstrackingdata": mock_upstream
                                         + "/sportstrackingdata"})
        assert proxy.proxy.target("/activities/v1/events") == broken + "/activities/v1/events"
        assert proxy.proxy.target("/sportstrackingdata/v2/activities") == (
            mock_upstream + "/sportstrackingdata/v2/activities")


def test_the_proxy_command_writes_its_report_and_refuses_admin_without_key(
        mock_upstream: str, tmp_path: Path) -> None:
    port = free_port()
    report_path = tmp_path / "violations.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "mock_server", "proxy", "--upstream", mock_upstream, "--port",
         str(port), "--report", str(report_path), "--quiet"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(url + "/activities/v1/nowhere", timeout=1)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline and process.poll() is None
                time.sleep(0.05)
        assert requests.get(url + "/__admin/report", timeout=5).status_code == 401
        answer = requests.get(url + "/activities/v1/events?latitude=91&longitude=0",
                              headers=API_KEY, timeout=10)
        assert answer.status_code == 422 and answer.headers[VIOLATIONS_HEADER] == "1"
        admin = [sys.executable, "-m", "mock_server", "admin", "--url", url]
        report = subprocess.run([*admin[:4], "report", *admin[4:]], capture_output=True,
                                text=True, cwd=ROOT, timeout=60)
        assert json.loads(report.stdout)["violating_exchanges"] == 2, report.stderr
        violating = subprocess.run([*admin[:4], "journal", "--violating", *admin[4:]],
                                   capture_output=True, text=True, cwd=ROOT, timeout=60)
        assert json.loads(violating.stdout)["count"] == 2
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert process.returncode == 0
    report = json.loads(report_path.read_text())
    assert report["exchanges"] == 2 and report["violating_exchanges"] == 2
