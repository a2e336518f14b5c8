"""`Target`: URL mapping, credentials, token refresh on 401/498, read-only, rate limit.

The refresh tests use a tiny WSGI app of their own that accepts only the newest token, so
they say exactly what the kit does without depending on the mock.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
import requests

from contracts import ReadOnlyViolation, Target, TokenCommandError, TokenSource


def test_base_url_serves_both_apis_under_their_documented_prefixes() -> None:
    target = Target.from_base_url("http://127.0.0.1:8000/")
    assert target.activities_url == "http://127.0.0.1:8000/activities"
    assert target.tracking_url == "http://127.0.0.1:8000/sportstrackingdata"
    assert target.url("activities", "/v1/events") == "http://127.0.0.1:8000/activities/v1/events"
    assert target.url("tracking", "v2/upload") == (
        "http://127.0.0.1:8000/sportstrackingdata/v2/upload")


def test_one_url_per_api_like_production() -> None:
    target = Target.from_urls(activities_url="https://api-eu.decathlon.net/activities",
                              tracking_url="https://api.decathlon.net/sportstrackingdata")
    assert target.url("activities", "/v1/events/1") == (
        "https://api-eu.decathlon.net/activities/v1/events/1")
    assert target.split("https://api.decathlon.net/sportstrackingdata/v2/activities/x?a=1") == (
        "tracking", "/v2/activities/x")
    assert target.split("https://example.com/2caf4b77") is None


def test_links_relative_to_the_api_root_resolve_to_the_target() -> None:
    target = Target.from_base_url("http://h:1")
    assert target.resolve("activities", "/v1/events?page=2") == (
        "http://h:1/activities/v1/events?page=2")
    assert target.resolve("tracking", "https://cdn/x") == "https://cdn/x"


@pytest.mark.parametrize("url", ["127.0.0.1:8000", "ftp://h", "/activities", ""])
def test_relative_or_odd_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="absolute http"):
        Target.from_base_url(url)


def test_credentials_are_sent_only_as_asked() -> None:
    target = Target.from_base_url("http://h", api_key="k", token="t", other_token="o")
    assert target.auth_headers() == {"X-Api-Key": "k", "Authorization": "Bearer t"}
    assert target.auth_headers(user="other") == {"X-Api-Key": "k", "Authorization": "Bearer o"}
    assert target.auth_headers(user=None, api_key=False) == {}
    assert target.secrets() == {"k": "CONTRACTS_API_KEY", "t": "CONTRACTS_TOKEN",
                                "o": "CONTRACTS_OTHER_TOKEN"}


def _command(tmp_path: Path, tokens: list[str]) -> str:
    """A token command printing the next token of `tokens` each time it runs."""
    state = tmp_path / "count"
    state.write_text("0")
    script = tmp_path / "token.py"
    script.write_text(
        "import pathlib, sys\n"
        f"state = pathlib.Path({str(state)!r})\n"
        "n = int(state.read_text())\n"
        "state.write_text(str(n + 1))\n"
        f"tokens = {tokens!r}\n"
        "print('a banner the command may print first')\n"
        "print(tokens[min(n, len(tokens) - 1)])\n"
    )
    return f"{sys.executable} {script}"


class NewestTokenOnly:
    """Answers 498 to the expired token, 401 to others without the current one."""

    def __init__(self, current: str, expired: str) -> None:
        self.current, self.expired = current, expired
        self.seen: list[str] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        token = environ.get("HTTP_AUTHORIZATION", "").removeprefix("Bearer ")
        self.seen.append(token)
        if environ.get("HTTP_X_API_KEY") != "k":
            status = "401 UNAUTHORIZED"
        elif token == self.current:
            status = "200 OK"
        elif token == self.expired:
            status = "498 TOKEN EXPIRED"
        else:
            status = "401 UNAUTHORIZED"
        body = json.dumps({"status": status}).encode()
        start_response(status, [("Content-Type", "application/json")])
        return [body]


@pytest.mark.parametrize("stale_status", ["expired", "unknown"])
def test_a_token_from_a_command_is_fetched_again_on_401_or_498(tmp_path: Path,
                                                               stale_status: str) -> None:
    stale = "old-token" if stale_status == "expired" else "garbage"
    app = NewestTokenOnly(current="new-token", expired="old-token")
    source = TokenSource(command=_command(tmp_path, [stale, "new-token"]))
    with Target.from_wsgi(app, api_key="k", token=source) as target:
        response = target.request("GET", "activities", "/v1/auth/me")
        assert response.status_code == 200
        assert app.seen == [stale, "new-token"]
        assert source.refreshes == 1
        # Both tokens are named by variable in reports.
        assert set(target.secrets()) >= {stale, "new-token"}


def test_a_fixed_token_is_not_refreshed_and_the_401_is_answered(tmp_path: Path) -> None:
    app = NewestTokenOnly(current="new-token", expired="old-token")
    with Target.from_wsgi(app, api_key="k", token="old-token") as target:
        assert target.request("GET", "activities", "/v1/auth/me").status_code == 498
        assert app.seen == ["old-token"]


def test_deliberately_wrong_credentials_are_not_retried(tmp_path: Path) -> None:
    app = NewestTokenOnly(current="new-token", expired="old-token")
    source = TokenSource(command=_command(tmp_path, ["old-token", "new-token"]))
    with Target.from_wsgi(app, api_key="k", token=source) as target:
        # No API key: the 401 is about the key, so the token is not refreshed.
        response = target.request("GET", "activities", "/v1/auth/me", api_key=False)
        assert response.status_code == 401
        # Someone else's token: not ours, not retried.
        response = target.request("GET", "activities", "/v1/auth/me", user=None,
                                  headers={"Authorization": "Bearer forged"})
        assert response.status_code == 401
        assert source.refreshes == 0


def test_a_failing_token_command_says_so(tmp_path: Path) -> None:
    source = TokenSource(command=f"{sys.executable} -c 'import sys; sys.exit(3)'")
    with pytest.raises(TokenCommandError, match="exited 3"):
        source.current()
    with pytest.raises(TokenCommandError, match="printed nothing"):
        TokenSource(command=f"{sys.executable} -c 'pass'").current()


def test_read_only_refuses_unsafe_methods_before_sending() -> None:
    app = NewestTokenOnly(current="t", expired="x")
    with Target.from_wsgi(app, api_key="k", token="t", read_only=True) as target:
        assert target.request("GET", "activities", "/v1/events").status_code == 200
        for method in ("POST", "PATCH", "PUT", "DELETE"):
            with pytest.raises(ReadOnlyViolation, match="read-only"):
                target.request(method, "activities", "/v1/events")
        assert len(app.seen) == 1
        assert [entry[0] for entry in target.journal.snapshot()] == ["GET"]


def test_rate_limit_spaces_requests() -> None:
    app = NewestTokenOnly(current="t", expired="x")
    with Target.from_wsgi(app, api_key="k", token="t", rate_limit=20) as target:
        started = time.monotonic()
        for _ in range(6):
            target.request("GET", "activities", "/v1/events")
        assert time.monotonic() - started >= 5 / 20 * 0.9


def test_wsgi_target_is_served_on_loopback_until_closed() -> None:
    app = NewestTokenOnly(current="t", expired="x")
    target = Target.from_wsgi(app, api_key="k", token="t")
    url = target.url("activities", "/v1/events")
    assert url.startswith("http://127.0.0.1:")
    assert requests.get(url, headers={"X-Api-Key": "k", "Authorization": "Bearer t"},
                        timeout=5).status_code == 200
    target.close()
    with pytest.raises(requests.ConnectionError):
        requests.get(url, timeout=2)
