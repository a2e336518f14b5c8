"""The plumbing of the broken variants: a buffering WSGI middleware and a few helpers.

A breaker only sees HTTP (environ in, status, headers and body out); none reaches into the
mock's internals.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["Breaker", "Environ", "WSGIApp", "buffered", "call", "event_id", "events_in",
           "json_answer", "path_of"]

Environ = dict[str, Any]
WSGIApp = Callable[[Environ, Callable[..., Any]], Iterable[bytes]]


#: What a rewrite meets on a body or answer it cannot read (not JSON, not an object, a field
#: missing or of another type): the message goes on unchanged.
_UNREADABLE = (ValueError, TypeError, KeyError, AttributeError)


class Breaker:
    """Buffers a response so a subclass can rewrite the request and the JSON it answers."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    # Hooks -------------------------------------------------------------------------------------

    def rewrite_request(self, environ: Environ) -> None:
        """Change the request in place (headers are `HTTP_*` keys)."""

    def rewrite_json_body(self, environ: Environ, body: Any) -> Any:
        """Change a JSON request body."""
        return body

    def rewrite_response(self, environ: Environ, status: str, payload: Any) -> tuple[str, Any]:
        """Change a JSON response (status line and parsed body)."""
        return status, payload

    # Plumbing ----------------------------------------------------------------------------------

    def __call__(self, environ: Environ, start_response: Callable[..., Any]) -> Iterable[bytes]:
        self.rewrite_request(environ)
        if environ.get("CONTENT_TYPE", "").startswith("application/json"):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(length) if length else b""
            try:
                body = self.rewrite_json_body(environ, json.loads(raw)) if raw else None
                raw = json.dumps(body).encode() if body is not None else raw
            except _UNREADABLE:
                # A body the breaker's rewrite cannot read (not an object, a field missing or
                # of another type) goes on unchanged: the mock refuses it as it would, so the
                # breaker breaks only its own rule and never crashes with a 500 of its own.
                pass
            environ["wsgi.input"] = io.BytesIO(raw)
            environ["CONTENT_LENGTH"] = str(len(raw))
        status, headers, content = buffered(self.app, environ)
        content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
        if content_type.startswith("application/json") and content:
            try:
                status, payload = self.rewrite_response(environ, status, json.loads(content))
                content = json.dumps(payload).encode()
            except _UNREADABLE:
                pass  # an answer the rewrite cannot read goes out as the mock gave it
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(content))))
        start_response(status, headers)
        return [content]


def path_of(environ: Environ) -> str:
    return environ.get("PATH_INFO", "")


def event_id(environ: Environ, suffix: str = "") -> int | None:
    """The id of `/activities/v1/events/{id}<suffix>`, or None for another path."""
    path = path_of(environ)
    prefix = "/activities/v1/events/"
    if not path.startswith(prefix) or not path.endswith(suffix):
        return None
    middle = path[len(prefix):len(path) - len(suffix)]
    return int(middle) if middle.isdigit() else None


def json_answer(start_response: Callable[..., Any], status: str,
                 payload: Any) -> Iterable[bytes]:
    body = json.dumps(payload).encode()
    start_response(status, [("Content-Type", "application/json"),
                            ("Content-Length", str(len(body)))])
    return [body]


def call(app: WSGIApp, environ: Environ, method: str, path: str,
          body: Any = None) -> tuple[str, Any]:
    """Send the app a request of its own, with the credentials of `environ`'s request."""
    raw = json.dumps(body).encode() if body is not None else b""
    inner = {key: value for key, value in environ.items()
             if key.startswith(("HTTP_", "wsgi.", "SERVER_", "REMOTE_")) or key == "SCRIPT_NAME"}
    inner.update({"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "",
                  "CONTENT_TYPE": "application/json" if body is not None else "",
                  "CONTENT_LENGTH": str(len(raw)), "wsgi.input": io.BytesIO(raw)})
    status, _, content = buffered(app, inner)
    return status, json.loads(content) if content else None


def buffered(app: WSGIApp, environ: Environ) -> tuple[str, list[tuple[str, str]], bytes]:
    """Run the app on `environ` and answer its status, headers and whole body."""
    captured: dict[str, Any] = {}

    def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        captured["status"], captured["headers"] = status, list(headers)
        return lambda data: None

    result = app(environ, capture)
    try:
        content = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return captured["status"], captured["headers"], content


def events_in(payload: Any) -> list[dict[str, Any]]:
    """Event objects of an answer: `data` itself or the items of a `data` list."""
    data = payload.get("data") if isinstance(payload, dict) else None
    items = data if isinstance(data, list) else [data]
    return [item for item in items if isinstance(item, dict) and "slots_limit" in item]
