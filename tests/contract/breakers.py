"""Broken variants of the mock: tiny WSGI middlewares around the real app.

Each one breaks exactly one documented rule, the way a real service might regress, so a test
can show that the kit notices and says why. They only see HTTP (environ in, status, headers
and body out); none of them reaches into the mock's internals.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from typing import Any

Environ = dict[str, Any]
WSGIApp = Callable[[Environ, Callable[..., Any]], Iterable[bytes]]


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
            except ValueError:
                pass
            environ["wsgi.input"] = io.BytesIO(raw)
            environ["CONTENT_LENGTH"] = str(len(raw))
        status, headers, content = _buffered(self.app, environ)
        content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
        if content_type.startswith("application/json") and content:
            status, payload = self.rewrite_response(environ, status, json.loads(content))
            content = json.dumps(payload).encode()
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(content))))
        start_response(status, headers)
        return [content]


def _path(environ: Environ) -> str:
    return environ.get("PATH_INFO", "")


def _event_id(environ: Environ, suffix: str = "") -> int | None:
    """The id of `/activities/v1/events/{id}<suffix>`, or None for another path."""
    path = _path(environ)
    prefix = "/activities/v1/events/"
    if not path.startswith(prefix) or not path.endswith(suffix):
        return None
    middle = path[len(prefix):len(path) - len(suffix)]
    return int(middle) if middle.isdigit() else None


def _json_answer(start_response: Callable[..., Any], status: str,
                 payload: Any) -> Iterable[bytes]:
    body = json.dumps(payload).encode()
    start_response(status, [("Content-Type", "application/json"),
                            ("Content-Length", str(len(body)))])
    return [body]


def _call(app: WSGIApp, environ: Environ, method: str, path: str,
          body: Any = None) -> tuple[str, Any]:
    """Send the app a request of its own, with the credentials of `environ`'s request."""
    raw = json.dumps(body).encode() if body is not None else b""
    inner = {key: value for key, value in environ.items()
             if key.startswith(("HTTP_", "wsgi.", "SERVER_", "REMOTE_")) or key == "SCRIPT_NAME"}
    inner.update({"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "",
                  "CONTENT_TYPE": "application/json" if body is not None else "",
                  "CONTENT_LENGTH": str(len(raw)), "wsgi.input": io.BytesIO(raw)})
    status, _, content = _buffered(app, inner)
    return status, json.loads(content) if content else None


def _buffered(app: WSGIApp, environ: Environ) -> tuple[str, list[tuple[str, str]], bytes]:
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


def _events_in(payload: Any) -> list[dict[str, Any]]:
    """Event objects of an answer: `data` itself or the items of a `data` list."""
    data = payload.get("data") if isinstance(payload, dict) else None
    items = data if isinstance(data, list) else [data]
    return [item for item in items if isinstance(item, dict) and "slots_limit" in item]


class IgnoresDesiredLimit(Breaker):
    """Drops the X-Desired-Limit header, so every page has the default 25 events."""

    def rewrite_request(self, environ: Environ) -> None:
        environ.pop("HTTP_X_DESIRED_LIMIT", None)


class ListsCanceledEvents(Breaker):
    """Cancels in name only: the event reads CANCELED but stays in the public list.

    The way a real service regresses when the list's status filter is lost: the answer of
    cancel, reads and lists say CANCELED, a second cancel or a patch is refused, and the list
    (with consistent `meta` and `links`) still shows the event. The mock itself never cancels
    it; the breaker keeps which events it "cancelled".
    """

    def __init__(self, app: WSGIApp) -> None:
        super().__init__(app)
        self.canceled: set[int] = set()

    def __call__(self, environ: Environ, start_response: Callable[..., Any]) -> Iterable[bytes]:
        event_id = _event_id(environ, suffix="/cancel")
        if environ["REQUEST_METHOD"] == "POST" and event_id is not None:
            return self._cancel(environ, start_response, event_id)
        event_id = _event_id(environ)
        if environ["REQUEST_METHOD"] == "PATCH" and event_id in self.canceled:
            return _json_answer(start_response, "422 UNPROCESSABLE ENTITY",
                                {"code": 422, "message": "A canceled event cannot be modified."})
        return super().__call__(environ, start_response)

    def _cancel(self, environ: Environ, start_response: Callable[..., Any],
                event_id: int) -> Iterable[bytes]:
        if event_id in self.canceled:
            return _json_answer(start_response, "422 UNPROCESSABLE ENTITY",
                                {"code": 422, "message": "The event is already canceled."})
        # The owner check of the real cancel, through a PATCH that changes nothing.
        path = f"/activities/v1/events/{event_id}"
        status, read = _call(self.app, environ, "GET", path)
        if not status.startswith("200"):
            return _json_answer(start_response, status, read)
        status, patched = _call(self.app, environ, "PATCH", path,
                                {"title": read["data"]["title"]})
        if not status.startswith("200"):
            return _json_answer(start_response, status, patched)
        self.canceled.add(event_id)
        patched["data"]["status"] = "CANCELED"
        return _json_answer(start_response, status, patched)

    def rewrite_response(self, environ: Environ, status: str, payload: Any) -> tuple[str, Any]:
        for event in _events_in(payload):
            if event["id"] in self.canceled:
                event["status"] = "CANCELED"
        return status, payload


class SkipsApiKeyCheck(Breaker):
    """Lets requests without a valid API key through (as if the key check were forgotten)."""

    def __init__(self, app: WSGIApp, key: str = "aaa-bbb-ccc") -> None:
        super().__init__(app)
        self.key = key

    def rewrite_request(self, environ: Environ) -> None:
        environ["HTTP_X_API_KEY"] = self.key


class SkipsTokenCheck(Breaker):
    """Treats a request without a valid bearer token as the main user's.

    Tokens the mock issued (`tokens`) keep working as themselves, so only the requests that
    carry no token or a bad one see the fault.
    """

    def __init__(self, app: WSGIApp, token: str, *valid: str) -> None:
        super().__init__(app)
        self.token = token
        self.valid = {f"Bearer {known}" for known in (token, *valid)}

    def rewrite_request(self, environ: Environ) -> None:
        if environ.get("HTTP_AUTHORIZATION", "") not in self.valid:
            environ["HTTP_AUTHORIZATION"] = f"Bearer {self.token}"


class LetsAnyoneChangeEvents(Breaker):
    """Runs another user's modify/cancel/duplicate as if the owner had sent it."""

    def __init__(self, app: WSGIApp, owner_token: str, other_token: str) -> None:
        super().__init__(app)
        self.owner, self.other = owner_token, other_token

    def rewrite_request(self, environ: Environ) -> None:
        writes = environ["REQUEST_METHOD"] in ("PATCH", "POST", "DELETE")
        if writes and environ.get("HTTP_AUTHORIZATION") == f"Bearer {self.other}":
            environ["HTTP_AUTHORIZATION"] = f"Bearer {self.owner}"


class Oversubscribes(Breaker):
    """Secretly doubles every event's capacity: a full event still takes subscriptions.

    Clients see the capacity they asked for (`slots_limit`) and the free places computed
    from it, so only a subscription beyond the limit reveals the fault.
    """

    def __init__(self, app: WSGIApp) -> None:
        super().__init__(app)
        self.asked: dict[int, int] = {}

    def rewrite_json_body(self, environ: Environ, body: Any) -> Any:
        path = _path(environ)
        is_event = path == "/activities/v1/events" or (
            path.startswith("/activities/v1/events/") and path.count("/") == 4)
        if isinstance(body, dict) and "slots" in body and is_event:
            environ["breaker.asked"] = body["slots"]
            body = dict(body, slots=body["slots"] * 2)
        return body

    def rewrite_response(self, environ: Environ, status: str, payload: Any) -> tuple[str, Any]:
        if "breaker.asked" in environ and status[:1] == "2":
            for event in _events_in(payload):
                self.asked[event["id"]] = environ["breaker.asked"]
        original = _event_id(environ, suffix="/duplicate")
        if original in self.asked and status[:1] == "2":
            for event in _events_in(payload):  # the copy keeps the capacity asked for
                self.asked[event["id"]] = self.asked[original]
        for event in _events_in(payload):
            asked = self.asked.get(event["id"])
            if asked is not None:
                event["slots_limit"] = asked
                event["slots"] = max(0, event["slots"] - asked)
        return status, payload


class WrongTypeSportId(Breaker):
    """Answers `sport_id` as a string in every event (the spec says integer)."""

    def rewrite_response(self, environ: Environ, status: str, payload: Any) -> tuple[str, Any]:
        for event in _events_in(payload):
            event["sport_id"] = str(event["sport_id"])
        return status, payload


class FailsOnMaximumDistance(Breaker):
    """Answers 500 to a list query at the documented maximum distance (an edge input)."""

    def __call__(self, environ: Environ, start_response: Callable[..., Any]) -> Iterable[bytes]:
        query = environ.get("QUERY_STRING", "")
        if _path(environ) == "/activities/v1/events" and "distance=20000" in query.split("&"):
            body = b'{"code": 500, "message": "Internal server error."}'
            start_response("500 INTERNAL SERVER ERROR", [("Content-Type", "application/json"),
                                                         ("Content-Length", str(len(body)))])
            return [body]
        return super().__call__(environ, start_response)


class PatchTouchesOtherFields(Breaker):
    """A PATCH also resets `owner_message`, a field it was not given."""

    def rewrite_json_body(self, environ: Environ, body: Any) -> Any:
        path = _path(environ)
        if environ["REQUEST_METHOD"] == "PATCH" and isinstance(body, dict) \
                and path.startswith("/activities/v1/events/") and path.count("/") == 4 \
                and "owner_message" not in body:
            body = dict(body, owner_message="changed behind your back")
        return body


class CorruptsUploads(Breaker):
    """Serves an uploaded file with its last byte changed."""

    def __call__(self, environ: Environ, start_response: Callable[..., Any]) -> Iterable[bytes]:
        if "/uploads/" not in _path(environ):
            return super().__call__(environ, start_response)
        status, headers, content = _buffered(self.app, environ)
        if content:
            content = content[:-1] + bytes([content[-1] ^ 0xFF])
        start_response(status, headers)
        return [content]


class AppendsImages(Breaker):
    """Adds the photos of the previous PUT to the new list instead of replacing it."""

    def __init__(self, app: WSGIApp) -> None:
        super().__init__(app)
        self.previous: dict[str, list[str]] = {}

    def rewrite_json_body(self, environ: Environ, body: Any) -> Any:
        path = _path(environ)
        if environ["REQUEST_METHOD"] == "PUT" and isinstance(body, dict) and "images" in body:
            earlier = self.previous.get(path, [])
            self.previous[path] = list(body["images"])
            body = dict(body, images=earlier + [i for i in body["images"] if i not in earlier])
        return body
