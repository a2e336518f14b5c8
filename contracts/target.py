"""A deployment to check: where each API lives, whose credentials to use, and how gently.

Every request the kit sends (schemathesis cases and behaviour checks alike) goes through one
`requests.Session` built here, so the rules that protect a real deployment hold everywhere:
`--read-only` refuses any unsafe method before it leaves the process, `--rate-limit` spaces
requests out, and a bearer token obtained from `--token-command` is fetched again when the
target answers 401 or 498 (the documented "token expired" status). An in-process WSGI app is
served on a loopback port (`local_server.py`) and reached through the same session, so checks
never know the difference.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

import requests
from requests.structures import CaseInsensitiveDict

from .concurrency import TURNS
from .local_server import LocalServer
from .results import header_text
from .spec import API_NAMES, ApiName
from .tokens import TokenSource

__all__ = [
    "API_PREFIXES",
    "Journal",
    "ReadOnlyViolation",
    "Target",
    "TargetSession",
    "User",
]

User = Literal["main", "other"]
#: Statuses after which a token from a command is fetched again (401 bad, 498 expired).
REFRESH_STATUSES = frozenset({401, 498})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Where the documents put each API under a shared host (`--base-url`).
API_PREFIXES: dict[ApiName, str] = {"activities": "/activities", "tracking": "/sportstrackingdata"}


class ReadOnlyViolation(RuntimeError):
    """An unsafe request was about to be sent to a target marked read-only."""


@dataclass
class Journal:
    """Every (method, url, status) sent through a target: the raw material of coverage."""

    entries: list[tuple[str, str, int]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    #: Called with (request, response, requests so far) after each exchange.
    listeners: list[Callable[[requests.PreparedRequest, requests.Response, int], None]] = field(
        default_factory=list, repr=False)

    def record(self, request: requests.PreparedRequest, response: requests.Response) -> None:
        with self._lock:
            self.entries.append(((request.method or "GET").upper(), request.url or "",
                                 response.status_code))
            count = len(self.entries)
        for listener in list(self.listeners):
            listener(request, response, count)

    def __len__(self) -> int:
        return len(self.entries)

    def snapshot(self) -> list[tuple[str, str, int]]:
        with self._lock:
            return list(self.entries)


class RateLimiter:
    """At most `per_second` requests per second, spaced evenly, across all threads."""

    def __init__(self, per_second: float) -> None:
        if per_second <= 0:
            raise ValueError("rate limit must be positive")
        self.interval = 1.0 / per_second
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self.interval
        delay = start - now
        if delay > 0:
            time.sleep(delay)


class TargetSession(requests.Session):
    """The one session of a target: read-only guard, rate limit, token refresh, journal."""

    def __init__(self, target: Target) -> None:
        super().__init__()
        self.target = target
        self.limiter = RateLimiter(target.rate_limit) if target.rate_limit else None
        self.journal = Journal()

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        method = (request.method or "GET").upper()
        if self.target.read_only and method not in SAFE_METHODS:
            raise ReadOnlyViolation(
                f"refusing to send {method} {request.url}: the target is read-only"
            )
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.target.timeout
        # While this request is on the wire, another thread of the run may work (`TURNS`).
        with TURNS.waiting():
            response = self._send_once(request, **kwargs)
            if response.status_code in REFRESH_STATUSES:
                retried = self._refreshed(request)
                if retried is not None:
                    response = self._send_once(retried, **kwargs)
        return response

    def _send_once(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if self.limiter is not None:
            self.limiter.wait()
        response = super().send(request, **kwargs)
        self.journal.record(request, response)
        return response

    def _refreshed(self, request: requests.PreparedRequest) -> requests.PreparedRequest | None:
        """A copy of `request` with a fresh token, if it carried one of ours from a command.

        Requests that deliberately carry no token or a wrong one (auth checks) are not retried:
        their 401 is the answer being checked.
        """
        authorization = header_text(request.headers.get("Authorization", ""))
        if not authorization.startswith("Bearer "):
            return None
        # A 401 to a request without our API key is about the key, not the token.
        if self.target.api_key is not None and (
                request.headers.get("X-Api-Key") != self.target.api_key):
            return None
        sent = authorization.removeprefix("Bearer ")
        for source in (self.target.token, self.target.other_token):
            if source is None or not source.refreshable or not source.issued(sent):
                continue
            fresh = source.refresh(stale=sent)
            if fresh is None or fresh == sent:
                return None
            retried = request.copy()
            retried.headers["Authorization"] = f"Bearer {fresh}"
            return retried
        return None


@dataclass
class Target:
    """A deployment of both APIs and the credentials to call it with.

    Build one with `from_base_url` (one host serving both APIs under their documented
    prefixes, like the mock), `from_urls` (one root per API, like production) or `from_wsgi`
    (an app in this process). `token`/`other_token` accept a string or a `TokenSource`.
    """

    activities_url: str
    tracking_url: str
    api_key: str | None = None
    token: TokenSource | None = None
    other_token: TokenSource | None = None
    read_only: bool = False
    rate_limit: float | None = None
    timeout: float = 30.0
    app: Any = None
    _session: TargetSession | None = field(default=None, init=False, repr=False)
    _server: LocalServer | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.activities_url = _check_url(self.activities_url, "activities URL")
        self.tracking_url = _check_url(self.tracking_url, "tracking URL")
        self.token = TokenSource.of(self.token)
        self.other_token = TokenSource.of(self.other_token)

    @classmethod
    def from_base_url(cls, base_url: str, **options: Any) -> Target:
        """One host serving both APIs: `<base>/activities` and `<base>/sportstrackingdata`."""
        base = _check_url(base_url, "base URL")
        return cls(
            activities_url=base + API_PREFIXES["activities"],
            tracking_url=base + API_PREFIXES["tracking"],
            **options,
        )

    @classmethod
    def from_urls(cls, *, activities_url: str, tracking_url: str, **options: Any) -> Target:
        """One root per API, e.g. `https://api-eu.decathlon.net/activities` and
        `https://api.decathlon.net/sportstrackingdata`."""
        return cls(activities_url=activities_url, tracking_url=tracking_url, **options)

    @classmethod
    def from_wsgi(cls, app: Callable[..., Any], **options: Any) -> Target:
        """An app in this process (e.g. the mock's `create_app(...)`, or a test's middleware
        around it), served on a free loopback port until `close()`."""
        server = LocalServer(app)
        target = cls.from_base_url(server.url, app=app, **options)
        target._server = server
        return target

    # -- URLs ---------------------------------------------------------------------------------

    def root(self, api: ApiName) -> str:
        if api not in API_NAMES:
            raise ValueError(f"unknown API {api!r}")
        return self.activities_url if api == "activities" else self.tracking_url

    def url(self, api: ApiName, path: str) -> str:
        """Absolute URL of a spec path (`/v1/events`) on this target."""
        return self.root(api) + "/" + path.lstrip("/")

    def resolve(self, api: ApiName, reference: str) -> str:
        """A URL the API answered (absolute, host-relative or API-root-relative) made absolute.

        Pagination links are relative to the API root (`/v1/events?page=2`), as documented.
        """
        if urlsplit(reference).scheme:
            return reference
        if reference.startswith(("/v1/", "/v2/")):
            return self.url(api, reference)
        return urljoin(self.root(api) + "/", reference)

    def split(self, url: str) -> tuple[ApiName, str] | None:
        """(API, spec path) of an absolute URL on this target, or None if it is elsewhere."""
        path = urlsplit(url)._replace(query="", fragment="").geturl()
        for api in API_NAMES:
            root = self.root(api)
            if path == root or path.startswith(root + "/"):
                return api, path[len(root):] or "/"
        return None

    @property
    def urls(self) -> dict[ApiName, str]:
        return {"activities": self.activities_url, "tracking": self.tracking_url}

    def describe(self) -> str:
        where = f"activities={self.activities_url} tracking={self.tracking_url}"
        if self.app is not None:
            where = f"in-process WSGI app ({where})"
        return where + (" (read-only)" if self.read_only else "")

    # -- credentials ----------------------------------------------------------------------------

    def has_user(self, user: User) -> bool:
        return (self.token if user == "main" else self.other_token) is not None

    def bearer(self, user: User = "main") -> str | None:
        source = self.token if user == "main" else self.other_token
        return source.current() if source is not None else None

    def auth_headers(self, *, user: User | None = "main", api_key: bool = True) -> dict[str, str]:
        """Credential headers for one call; `user=None` sends no token, `api_key=False` no key."""
        headers: dict[str, str] = {}
        if api_key and self.api_key is not None:
            headers["X-Api-Key"] = self.api_key
        if user is not None:
            token = self.bearer(user)
            if token is not None:
                headers["Authorization"] = f"Bearer {token}"
        return headers

    def secrets(self) -> dict[str, str]:
        """Credential values and the environment variable a rendered curl names them by."""
        found: dict[str, str] = {}
        if self.api_key:
            found[self.api_key] = "CONTRACTS_API_KEY"
        for source, name in ((self.token, "CONTRACTS_TOKEN"),
                             (self.other_token, "CONTRACTS_OTHER_TOKEN")):
            if source is not None:
                for token in source.history:
                    found[token] = name
                    # A tampered token keeps the signature: masked on its own too.
                    parts = token.split(".")
                    if len(parts) == 3 and len(parts[2]) >= 16:
                        found.setdefault(parts[2], f"{name}_SIGNATURE")
        return found

    # -- HTTP -----------------------------------------------------------------------------------

    @property
    def session(self) -> TargetSession:
        if self._session is None:
            self._session = TargetSession(self)
        return self._session

    @property
    def journal(self) -> Journal:
        return self.session.journal

    def request(self, method: str, api: ApiName, path: str, *, user: User | None = "main",
                api_key: bool = True, headers: Mapping[str, str] | None = None,
                **kwargs: Any) -> requests.Response:
        """Call a spec path of one API with this target's credentials (or deliberately without)."""
        merged = CaseInsensitiveDict(self.auth_headers(user=user, api_key=api_key))
        merged.update(headers or {})
        return self.session.request(method, self.url(api, path), headers=dict(merged), **kwargs)

    def get_url(self, url: str, *, user: User | None = "main", api_key: bool = True,
                headers: Mapping[str, str] | None = None, **kwargs: Any) -> requests.Response:
        """GET an absolute URL the API handed out (a pagination link, an uploaded file)."""
        merged = CaseInsensitiveDict(self.auth_headers(user=user, api_key=api_key))
        merged.update(headers or {})
        return self.session.get(url, headers=dict(merged), **kwargs)

    def close(self) -> None:
        """Release the session and stop the loopback server of a `from_wsgi` target."""
        if self._session is not None:
            self._session.close()
            self._session = None
        if self._server is not None:
            self._server.close()
            self._server = None

    def __enter__(self) -> Target:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _check_url(url: str, what: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{what} must be an absolute http(s) URL, got {url!r}")
    return url.rstrip("/")

