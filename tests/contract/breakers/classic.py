"""The first set of broken variants: events, lists, credentials, uploads (issue 10 and before)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .base import (
    Breaker,
    Environ,
    WSGIApp,
    buffered,
    call,
    event_id,
    events_in,
    json_answer,
    path_of,
)

__all__ = [
    "AppendsImages",
    "CorruptsUploads",
    "FailsOnMaximumDistance",
    "IgnoresDesiredLimit",
    "LetsAnyoneChangeEvents",
    "ListsCanceledEvents",
    "Oversubscribes",
    "PatchTouchesOtherFields",
    "SkipsApiKeyCheck",
    "SkipsTokenCheck",
    "WrongTypeSportId",
]


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
        found = event_id(environ, suffix="/cancel")
        if environ["REQUEST_METHOD"] == "POST" and found is not None:
            return self._cancel(environ, start_response, found)
        patched = event_id(environ)
        if environ["REQUEST_METHOD"] == "PATCH" and patched in self.canceled:
            # The real checks first (credentials, owner), as a server would, then the rule.
            status, answer = self._as_owner(environ, patched)
            if not status.startswith("200"):
                return json_answer(start_response, status, answer)
            return json_answer(start_response, "422 UNPROCESSABLE ENTITY",
                               {"code": 422, "message": "A canceled event cannot be modified."})
        return super().__call__(environ, start_response)

    def _as_owner(self, environ: Environ, event: int) -> tuple[str, Any]:
        """The credential and owner checks of a write, through a PATCH that changes nothing."""
        path = f"/activities/v1/events/{event}"
        status, read = call(self.app, environ, "GET", path)
        if not status.startswith("200"):
            return status, read
        return call(self.app, environ, "PATCH", path, {"title": read["data"]["title"]})

    def _cancel(self, environ: Environ, start_response: Callable[..., Any],
                canceled: int) -> Iterable[bytes]:
        status, patched = self._as_owner(environ, canceled)
        if not status.startswith("200"):
            return json_answer(start_response, status, patched)
        if canceled in self.canceled:
            return json_answer(start_response, "422 UNPROCESSABLE ENTITY",
                               {"code": 422, "message": "The event is already canceled."})
        self.canceled.add(canceled)
        patched["data"]["status"] = "CANCELED"
        return json_answer(start_response, status, patched)

    def rewrite_response(self, environ: Environ, status: str, payload: Any) -> tuple[str, Any]:
        for event in events_in(payload):
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
        """Only a change of an existing event: creating and subscribing stay the caller's."""
        changes = (environ["REQUEST_METHOD"] == "PATCH" and event_id(environ) is not None) \
            or (environ["REQUEST_METHOD"] == "POST"
                and any(event_id(environ, suffix=s) is not None
                        for s in ("/cancel", "/duplicate")))
        if changes and environ.get("HTTP_AUTHORIZATION") == f"Bearer {self.other}":
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
        path = path_of(environ)
        is_event = path == "/activities/v1/events" or (
            path.startswith("/activities/v1/events/") and path.count("/") == 4)
        if isinstance(body, dict) and "slots" in body and is_event:
            environ["breaker.asked"] = body["slots"]
            body = dict(body, slots=body["slots"] * 2)
        return body

    def rewrite_response(self, environ: Environ, status: str, payload: Any) -> tuple[str, Any]:
        if "breaker.asked" in environ and status[:1] == "2":
            for event in events_in(payload):
                self.asked[event["id"]] = environ["breaker.asked"]
        original = event_id(environ, suffix="/duplicate")
        if original in self.asked and status[:1] == "2":
            for event in events_in(payload):  # the copy keeps the capacity asked for
                self.asked[event["id"]] = self.asked[original]
        for event in events_in(payload):
            asked = self.asked.get(event["id"])
            if asked is not None:
                event["slots_limit"] = asked
                event["slots"] = max(0, event["slots"] - asked)
        return status, payload


class WrongTypeSportId(Breaker):
    """Answers `sport_id` as a string in every event (the spec says integer)."""

    def rewrite_response(self, environ: Environ, status: str, payload: Any) -> tuple[str, Any]:
        for event in events_in(payload):
            event["sport_id"] = str(event["sport_id"])
        return status, payload


class FailsOnMaximumDistance(Breaker):
    """Answers 500 to a list query at the documented maximum distance (an edge input)."""

    def __call__(self, environ: Environ, start_response: Callable[..., Any]) -> Iterable[bytes]:
        query = environ.get("QUERY_STRING", "")
        if path_of(environ) == "/activities/v1/events" and "distance=20000" in query.split("&"):
            body = b'{"code": 500, "message": "Internal server error."}'
            start_response("500 INTERNAL SERVER ERROR", [("Content-Type", "application/json"),
                                                         ("Content-Length", str(len(body)))])
            return [body]
        return super().__call__(environ, start_response)


class PatchTouchesOtherFields(Breaker):
    """A PATCH also resets `owner_message`, a field it was not given."""

    def rewrite_json_body(self, environ: Environ, body: Any) -> Any:
        path = path_of(environ)
        if environ["REQUEST_METHOD"] == "PATCH" and isinstance(body, dict) \
                and path.startswith("/activities/v1/events/") and path.count("/") == 4 \
                and "owner_message" not in body:
            body = dict(body, owner_message="changed behind your back")
        return body


class CorruptsUploads(Breaker):
    """Serves an uploaded file with its last byte changed."""

    def __call__(self, environ: Environ, start_response: Callable[..., Any]) -> Iterable[bytes]:
        if "/uploads/" not in path_of(environ):
            return super().__call__(environ, start_response)
        status, headers, content = buffered(self.app, environ)
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
        path = path_of(environ)
        if environ["REQUEST_METHOD"] == "PUT" and isinstance(body, dict) \
                and isinstance(body.get("images"), list):
            earlier = self.previous.get(path, [])
            self.previous[path] = list(body["images"])
            body = dict(body, images=earlier + [i for i in body["images"] if i not in earlier])
        return body
