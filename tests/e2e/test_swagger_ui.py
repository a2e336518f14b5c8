"""The Swagger UI page of a real mock server process, driven in Debian's headless chromium.

What a developer following the documents does: open `/activities/api/swagger`, find every
operation, authorize with the development API key and a `mock-server token` token, and run
calls through "Try it out". The calls must reach the mock on the page's own origin (the served
spec puts relative servers first), and nothing may be loaded from the internet.

The browser is the distribution's `/usr/bin/chromium` (installed by `scripts/install-browser.sh`),
never one downloaded by `playwright install`: CI images get it from their apt mirror, and the
tests must not reach the network. Screenshots, timings and the server's log land in
`test-artifacts/` for CI to keep.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Locator,
    Page,
    Playwright,
    Route,
    expect,
    sync_playwright,
)

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",  # CI runs as root, where chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_TIMEOUT = 90.0  # seconds; fixture generation runs before the port opens
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})
# `pytest -n auto` may run these tests on several workers, each with its own server: one set of
# per-worker files each, so that they do not overwrite one another.
WORKER_SUFFIX = (
    f"-{os.environ['PYTEST_XDIST_WORKER']}" if "PYTEST_XDIST_WORKER" in os.environ else ""
)


@dataclass
class MockServer:
    """A `python -m mock_server serve` process and what a test needs to talk to it."""

    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    started_in: float


@dataclass
class PageWatch:
    """What the page did besides rendering: requests leaving the machine, script errors."""

    external_requests: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)


def _require_chromium() -> None:
    """Fail loudly without a browser: CI installs it, so a silent skip would hide a broken CI."""
    if CHROMIUM.exists():
        return
    if os.environ.get("SKIP_BROWSER_TESTS") == "1":
        pytest.skip(f"{CHROMIUM} is missing and SKIP_BROWSER_TESTS=1 is set")
    pytest.fail(
        f"{CHROMIUM} is missing: run scripts/install-browser.sh (as root), "
        "or set SKIP_BROWSER_TESTS=1 to skip the browser tests",
        pytrace=False,
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def _log_tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


@pytest.fixture(scope="module")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="module")
def playwright_driver() -> Iterator[Playwright]:
    _require_chromium()
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    browser = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def mock_server(artifacts_dir: Path) -> Iterator[MockServer]:
    """The real CLI on a free port, as a user starts it; stopped when the session ends."""
    port = _free_port()
    log_path = artifacts_dir / f"e2e-mock-server{WORKER_SUFFIX}.log"
    started = time.monotonic()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mock_server",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    server = MockServer(f"http://127.0.0.1:{port}", process, log_path, 0.0)
    try:
        deadline = started + SERVER_START_TIMEOUT
        while not _answers(f"{server.base_url}/activities/api/openapi.json"):
            if process.poll() is not None:
                pytest.fail(
                    f"mock server exited with {process.returncode} before answering:\n"
                    f"{_log_tail(log_path)}",
                    pytrace=False,
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    f"mock server did not answer within {SERVER_START_TIMEOUT:.0f}s:\n"
                    f"{_log_tail(log_path)}",
                    pytrace=False,
                )
            time.sleep(0.2)
        server.started_in = time.monotonic() - started
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def bearer_token() -> str:
    """A token from the real CLI: the name goes to stderr, the token alone to stdout."""
    result = subprocess.run(
        [sys.executable, "-m", "mock_server", "token"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"`python -m mock_server token` failed:\n{result.stderr}"
    lines = [line.strip() for line in result.stdout.splitlines() if line.strip()]
    assert lines, f"`python -m mock_server token` printed nothing:\n{result.stderr}"
    return lines[-1]


@pytest.fixture()
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh profile per test, so that one test's persisted authorization cannot help another."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    yield context
    context.close()


@pytest.fixture()
def watch(context: BrowserContext) -> PageWatch:
    """Blocks and records any request that would leave this machine (the page must be offline)."""
    watch = PageWatch()

    def route(route: Route) -> None:
        url = route.request.url
        if url.startswith(("data:", "blob:")) or urlsplit(url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            watch.external_requests.append(route.request.url)
            route.abort()

    context.route("**/*", route)
    return watch


@pytest.fixture()
def page(
    context: BrowserContext, watch: PageWatch, artifacts_dir: Path, request: pytest.FixtureRequest
) -> Iterator[Page]:
    page = context.new_page()
    page.on("pageerror", lambda error: watch.page_errors.append(str(error)))
    page.on(
        "console",
        lambda message: (
            watch.csp_violations.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        page.screenshot(
            path=str(artifacts_dir / f"{request.node.name}-failure.png"), full_page=True
        )
    page.close()


SPEC_PATH = REPO_ROOT / "openapi.yaml"
SWAGGER_PATH = "/activities/api/swagger"
API_KEY = "aaa-bbb-ccc"
LILLE = {"latitude": "50.6292", "longitude": "3.0573"}
UI_TIMEOUT_MS = 30_000
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def _spec_operation_ids() -> list[str]:
    """Read from the spec, so that a new operation is checked without touching this test."""
    with SPEC_PATH.open(encoding="utf-8") as handle:
        document: dict[str, Any] = yaml.safe_load(handle)
    return [
        item[method]["operationId"]
        for item in document["paths"].values()
        for method in HTTP_METHODS
        if method in item
    ]


@pytest.fixture(scope="module")
def timings(mock_server: MockServer, artifacts_dir: Path) -> Iterator[dict[str, float]]:
    """Seconds each step took, written next to the screenshots for whoever tunes CI."""
    measured = {"server_start": round(mock_server.started_in, 2)}
    yield measured
    path = artifacts_dir / f"e2e-swagger-timings{WORKER_SUFFIX}.json"
    path.write_text(json.dumps(measured, indent=2) + "\n", encoding="utf-8")


def _timed(timings: dict[str, float], name: str, started: float) -> None:
    timings[name] = round(time.monotonic() - started, 2)


def _open_swagger(page: Page, server: MockServer) -> None:
    page.goto(server.base_url + SWAGGER_PATH)
    expect(page.locator(".opblock").first).to_be_visible(timeout=UI_TIMEOUT_MS)


def _authorize(page: Page, *, api_key: str, token: str | None = None) -> None:
    """Fills Swagger UI's Authorize dialog, one form per security scheme of the spec."""
    page.locator("button.authorize").first.click()
    dialog = page.locator(".dialog-ux")
    expect(dialog).to_be_visible()
    entries = {"ApiKey": api_key} if token is None else {"ApiKey": api_key, "BearerAuth": token}
    for scheme, value in entries.items():
        form = dialog.locator(".auth-container").filter(
            has=page.locator("h4", has_text=re.compile(rf"^{scheme}\b"))
        )
        form.locator("input").fill(value)
        form.locator("button.authorize").click()
        expect(form.locator("button", has_text="Logout")).to_be_visible()


def _close_dialog(page: Page) -> None:
    page.locator(".dialog-ux button.close-modal").click()
    expect(page.locator(".dialog-ux")).to_have_count(0)


def _operation(page: Page, operation_id: str) -> Locator:
    return page.locator(".opblock").filter(
        has=page.locator(".opblock-summary-operation-id", has_text=re.compile(rf"^{operation_id}$"))
    )


def _execute(page: Page, operation_id: str, values: dict[str, str], *,
             server: str | None = None) -> Locator:
    """ "Try it out" -> fill `values`, empty every other parameter -> Execute (through
    `server`, an entry of the operation's "Servers" drop-down, when given).

    Swagger UI pre-fills parameters from the spec's examples (`sport=182`, a fixed
    `start_date`...), which would narrow the search to nothing; a user would clear them too.
    """
    operation = _operation(page, operation_id)
    operation.locator(".opblock-summary").click()
    operation.locator("button.try-out__btn").click()
    rows = operation.locator("tr[data-param-name]")
    for index in range(rows.count()):
        row = rows.nth(index)
        name = row.get_attribute("data-param-name") or ""
        inputs = row.locator("input")
        for input_index in range(inputs.count()):
            inputs.nth(input_index).fill(values.get(name, ""))
        selects = row.locator("select")
        for select_index in range(selects.count()):
            selects.nth(select_index).select_option([])
    # The relative server the served spec puts first: the page's own origin.
    server_select = operation.locator(".servers select")
    if server_select.count():
        assert server_select.input_value().startswith("/")
    if server is not None:
        server_select.select_option(server)
    operation.locator("button.execute").click()
    expect(operation.locator(".live-responses-table")).to_be_visible(timeout=UI_TIMEOUT_MS)
    return operation


def _live_response(operation: Locator) -> tuple[str, Any, str, str]:
    """Status, parsed JSON body, request URL and curl command as the page shows them."""
    row = operation.locator(".live-responses-table tbody tr.response").first
    status = row.locator("td.response-col_status").inner_text().strip()
    body_text = row.locator(".response-col_description pre").first.inner_text()
    request_url = operation.locator(".request-url pre").inner_text().strip()
    curl = operation.locator(".curl-command").inner_text()
    try:
        body = json.loads(body_text)
    except json.JSONDecodeError:
        body = body_text
    return status, body, request_url, curl


def _assert_offline_and_clean(watch: PageWatch) -> None:
    assert watch.external_requests == [], "the page tried to reach the internet"
    assert watch.page_errors == [], "Swagger UI raised script errors"
    assert watch.csp_violations == [], "the page broke its own Content-Security-Policy"


def test_every_operation_of_the_spec_is_listed(
    page: Page,
    mock_server: MockServer,
    watch: PageWatch,
    artifacts_dir: Path,
    timings: dict[str, float],
) -> None:
    started = time.monotonic()
    _open_swagger(page, mock_server)
    _timed(timings, "page_load", started)

    expected = _spec_operation_ids()
    listed = page.locator(".opblock-summary-operation-id").all_inner_texts()
    assert sorted(listed) == sorted(expected)
    banner = page.locator("#mock-banner").inner_text()
    assert API_KEY in banner
    assert "mock-server token" in banner
    page.screenshot(path=str(artifacts_dir / "swagger-ui-operations.png"), full_page=True)
    _assert_offline_and_clean(watch)


def test_try_it_out_lists_events_on_the_same_origin(
    page: Page,
    mock_server: MockServer,
    bearer_token: str,
    watch: PageWatch,
    artifacts_dir: Path,
    timings: dict[str, float],
) -> None:
    _open_swagger(page, mock_server)
    _authorize(page, api_key=API_KEY, token=bearer_token)
    page.locator(".dialog-ux .modal-ux").screenshot(
        path=str(artifacts_dir / "swagger-ui-authorized.png")
    )
    _close_dialog(page)

    started = time.monotonic()
    operation = _execute(page, "listEvents", LILLE)
    _timed(timings, "list_events_execute", started)
    status, body, request_url, curl = _live_response(operation)
    operation.screenshot(path=str(artifacts_dir / "swagger-ui-list-events.png"))

    assert request_url == (
        f"{mock_server.base_url}/activities/v1/events"
        f"?latitude={LILLE['latitude']}&longitude={LILLE['longitude']}"
    )
    assert f"X-Api-Key: {API_KEY}" in curl
    assert status == "200", body
    assert isinstance(body, dict) and isinstance(body.get("data"), list), body
    assert body["data"], "no fixture event near Lille"
    assert {"id", "title", "start_date"} <= set(body["data"][0])
    _assert_offline_and_clean(watch)


def test_try_it_out_calls_a_bearer_protected_operation(
    page: Page,
    mock_server: MockServer,
    bearer_token: str,
    watch: PageWatch,
    artifacts_dir: Path,
    timings: dict[str, float],
) -> None:
    _open_swagger(page, mock_server)
    _authorize(page, api_key=API_KEY, token=bearer_token)
    _close_dialog(page)

    started = time.monotonic()
    operation = _execute(page, "getAuthenticatedUser", {})
    _timed(timings, "auth_me_execute", started)
    status, body, request_url, curl = _live_response(operation)
    operation.screenshot(path=str(artifacts_dir / "swagger-ui-auth-me.png"))

    assert request_url == f"{mock_server.base_url}/activities/v1/auth/me"
    assert f"Authorization: Bearer {bearer_token}" in curl
    assert status == "200", body
    assert isinstance(body, dict) and body.get("id"), body
    _assert_offline_and_clean(watch)


def test_try_it_out_through_the_mocks_root(
    page: Page,
    mock_server: MockServer,
    bearer_token: str,
    watch: PageWatch,
) -> None:
    """The served spec offers the mock's root too: the spec's paths as written, same origin."""
    _open_swagger(page, mock_server)
    _authorize(page, api_key=API_KEY, token=bearer_token)
    _close_dialog(page)

    operation = _execute(page, "getAuthenticatedUser", {}, server="/")
    status, body, request_url, _ = _live_response(operation)

    assert request_url == f"{mock_server.base_url}/v1/auth/me"
    assert status == "200", body
    assert isinstance(body, dict) and body.get("id"), body
    _assert_offline_and_clean(watch)
