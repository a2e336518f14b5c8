"""The HTML report as a QA engineer opens it: Debian's headless Chromium, offline.

A real run against a broken variant of the mock (it ignores `X-Desired-Limit`), narrowed to
the examples phase so the page also shows what was not checked; the page is opened from its
file with every network request refused, and a screenshot lands in `test-artifacts/`.
The browser is the distribution's `/usr/bin/chromium`, as in `tests/e2e`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Route, expect, sync_playwright

from contracts import RunOptions, Target, run, write_html

from . import breakers

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update"]
WORKER = f"-{os.environ['PYTEST_XDIST_WORKER']}" if "PYTEST_XDIST_WORKER" in os.environ else ""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        if os.environ.get("SKIP_BROWSER_TESTS") == "1":
            pytest.skip(f"{CHROMIUM} is missing and SKIP_BROWSER_TESTS=1 is set")
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install-browser.sh (as root)",
                    pytrace=False)
    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def test_the_html_report_opens_offline_and_shows_what_to_triage(
        browser: Browser, mock_app: Any, make_target: Callable[..., Target],
        tmp_path: Path) -> None:
    target = make_target(breakers.IgnoresDesiredLimit(mock_app))
    report = run(target, options=RunOptions(seed=7, max_examples=3,
                                            phases=("examples", "behaviour")))
    path = tmp_path / "contracts-report.html"
    write_html(report, path, secrets=target.secrets(),
               replay_prefix="contracts run --url http://127.0.0.1:8000")

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    requested: list[str] = []

    def refuse(route: Route) -> None:
        if not route.request.url.startswith("file://"):
            requested.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    context.route("**/*", refuse)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(path.as_uri())

    expect(page.locator(".verdict strong")).to_contain_text("RESULT: FAILED (exit 1)")
    expect(page.locator("summary").first).to_contain_text("FAILED desired_limit_is_honoured")
    failure = page.locator("details").first
    expect(failure).to_contain_text("X-Desired-Limit")
    expect(failure).to_contain_text("curl -X GET")
    expect(failure).to_contain_text("--generation-seed 7 --phases behaviour --check desired_limit")
    expect(page.locator("#not-checked")).to_be_visible()
    expect(page.locator("table.matrix tr")).to_have_count(1 + 18)  # header + every operation
    expect(page.locator("#links")).to_be_visible()
    text = page.locator("body").inner_text()
    assert all(secret not in text for secret in target.secrets()), "a credential is shown"
    assert requested == [] and errors == []

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"contracts-report{WORKER}.png"), full_page=False)
    page.screenshot(path=str(ARTIFACTS / f"contracts-report-full{WORKER}.png"), full_page=True)
    context.close()
