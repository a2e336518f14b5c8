"""CORS for browser clients, on by default for any origin (as Prism does), as one WSGI layer.

A partner's web front end served from `http://localhost:3000` can only call the mock on `:8000`
if the mock answers CORS. This layer does it for every answer the mock makes, whoever makes it:
the API (fast path or Flask), uploaded files and thumbnails, an injected fault, a `Prefer`
answer, a 404 or a 500. It sits just inside the journal (which records the headers the browser
saw) and outside the faults. The admin API is left out: test code and the CLI drive it, not a
page, and a page of any origin must not be able to reset the mock.

Preflights (``OPTIONS`` with ``Access-Control-Request-Method``) are answered here, before any
other layer: never faulted, never journaled as a miss. The headers a preflight asks for are
allowed as asked (a mock has no header to hide; a fault rule may match a test's own header),
and the methods are those the two APIs use.

Hand-written rather than taken from a library: flask-cors works in a Flask hook, which the fast
path never runs (it turned the fast path off), and the WSGI CORS packages on PyPI are
unmaintained since 2017-2018.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from mock_server.controls.journal import ENV_ROUTED

#: Request headers a browser client of the two APIs sends, allowed when a preflight names none.
ALLOWED_HEADERS = ("Authorization", "Content-Type", "X-Api-Key", "X-Desired-Limit", "Prefer",
                   "X-Request-Id")
#: Response headers a browser client may read besides the CORS-safelisted ones.
EXPOSED_HEADERS = ("Allow", "Location", "X-Request-Id", "X-Mock-Fault", "Preference-Applied",
                   "X-Contract-Violations")
ALLOWED_METHODS = "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"
#: How long a browser may cache a preflight's answer, in seconds.
MAX_AGE = "600"
ANY_ORIGIN = "*"


class CorsMiddleware:
    """WSGI layer adding CORS headers for allowed origins (``"*"``: any) and answering
    preflights; requests under ``skip_prefix`` (the admin API) pass untouched."""

    def __init__(self, app: Callable[..., Iterable[bytes]], origins: Sequence[str], *,
                 skip_prefix: str) -> None:
        if not origins:
            raise ValueError("CORS needs at least one origin ('*' for any); leave it out "
                             "of the stack to switch it off")
        self.app = app
        self.any_origin = ANY_ORIGIN in origins
        self.origins = frozenset(origin.lower().rstrip("/") for origin in origins)
        self.skip_prefix = skip_prefix
        self._exposed = ("Access-Control-Expose-Headers", ", ".join(EXPOSED_HEADERS))

    def allows(self, origin: str) -> bool:
        return self.any_origin or origin.lower().rstrip("/") in self.origins

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        origin = environ.get("HTTP_ORIGIN")
        if not origin or (environ.get("PATH_INFO") or "").startswith(self.skip_prefix):
            return self.app(environ, start_response)
        if not self.allows(origin):
            return self.app(environ, start_response)  # answered, but unreadable to that page
        allow = [("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]
        if (environ.get("REQUEST_METHOD") == "OPTIONS"
                and environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD")):
            asked = environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", "").strip()
            environ[ENV_ROUTED] = True  # served, by this layer: not a miss for the journal
            start_response("200 OK", [
                *allow,
                ("Access-Control-Allow-Methods", ALLOWED_METHODS),
                ("Access-Control-Allow-Headers", asked or ", ".join(ALLOWED_HEADERS)),
                ("Access-Control-Max-Age", MAX_AGE),
                ("Content-Length", "0"),
            ])
            return [b""]
        allow.append(self._exposed)

        def with_cors(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, [*headers, *allow], exc_info)

        return self.app(environ, with_cors)
