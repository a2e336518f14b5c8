"""Broken variants for the checks beyond the schema (issue 13): one class of bug each.

Each one breaks a documented rule the way a real service regresses (RESTler's checkers and
the WFC fault catalogue name these classes): a child resource reachable under the wrong
parent, another user's resource visible, mass assignment, a refused write that still writes,
forged credentials accepted, 401 and 403 confused, a filter that drops matches, a write
answered but not kept, and formats and files off what the documents say.
"""

from __future__ import annotations

import base64
import io
import json
import re
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode

from .base import Breaker, Environ, WSGIApp, call, event_id, path_of

__all__ = [
    "AcceptsAlgNone",
    "AcceptsAnyExtension",
    "AcceptsSecondSubscription",
    "AppliesSlotsLimit",
    "AuthMeFlipsType",
    "CancelAnswersAnotherId",
    "DropsAttendance",
    "ForbiddenSubscriberChangeIs401",
    "LevelFilterRequiresAll",
    "ListsOthersActivities",
    "LocalTimeTrackingDates",
    "MineIgnoresType",
    "RefusedCreateStillCreates",
    "SubscriberReachableUnderAnyEvent",
    "ThumbnailsMissing",
]

EVENTS = "/activities/v1/events"


def _subscriber_path(environ: Environ) -> tuple[int, str] | None:
    """(event id, user) of `/activities/v1/events/{id}/subscribers/{user}`, else None."""
    found = re.fullmatch(r"/activities/v1/events/(\d+)/subscribers/([^/]+)", path_of(environ))
    return (int(found.group(1)), found.group(2)) if found and found.group(2) != "me" else None


def _claims(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))


class AppliesSlotsLimit(Breaker):
    """Mass assignment: a `slots_limit` in a create or patch body sets the capacity."""

    def rewrite_json_body(self, environ: Environ, body: Any) -> Any:
        path = path_of(environ)
        if isinstance(body, dict) and "slots_limit" in body and (
                path == EVENTS or event_id(environ) is not None):
            body = dict(body)
            body["slots"] = body.pop("slots_limit")
        return body


class RefusedCreateStillCreates(Breaker):
    """A create refused for its dates (end before start) still stores the event, fixed."""

    def rewrite_json_body(self, environ: Environ, body: Any) -> Any:
        if (environ["REQUEST_METHOD"] == "POST" and path_of(environ) == EVENTS
                and isinstance(body, dict)
                and str(body.get("end_date", "")) < str(body.get("start_date", ""))):
            fixed = dict(body, start_date=body["end_date"], end_date=body["start_date"])
            call(self.app, environ, "POST", EVENTS, fixed)
        return body


class LevelFilterRequiresAll(Breaker):
    """`level[]` with several levels keeps only events with all of them (AND, not OR)."""

    def rewrite_response(self, environ: Environ, status: str, payload: Any) -> tuple[str, Any]:
        asked = parse_qs(environ.get("QUERY_STRING", "")).get("level[]", [])
        if (path_of(environ) == EVENTS and environ["REQUEST_METHOD"] == "GET"
                and len(asked) > 1 and status.startswith("200")):
            levels = {int(level) for level in asked}
            kept = [e for e in payload["data"] if levels <= set(e.get("level") or [])]
            payload["meta"]["total"] -= len(payload["data"]) - len(kept)
            payload["data"] = kept
        return status, payload


class MineIgnoresType(Breaker):
    """`mine?type=subscribed` lists the caller's created events instead."""

    def rewrite_request(self, environ: Environ) -> None:
        if path_of(environ) == f"{EVENTS}/mine":
            query = parse_qs(environ.get("QUERY_STRING", ""))
            if query.get("type") == ["subscribed"]:
                query["type"] = ["created"]
                environ["QUERY_STRING"] = urlencode(query, doseq=True)


class SubscriberReachableUnderAnyEvent(Breaker):
    """Subscribers can change or leave their subscription under any event: the request goes
    to the event they subscribed to (the route's parent id is not checked)."""

    def __init__(self, app: WSGIApp, *tokens: str) -> None:
        super().__init__(app)
        self.joined: dict[str, list[int]] = {}
        self.user_of = {f"Bearer {token}": _claims(token)["sub"] for token in tokens}

    def __call__(self, environ: Environ, start_response: Callable[..., Any]) -> Iterable[bytes]:
        found = _subscriber_path(environ)
        own = found is not None and self.user_of.get(environ.get("HTTP_AUTHORIZATION", "")) \
            == found[1]
        if found is not None and own and environ["REQUEST_METHOD"] in ("PATCH", "DELETE"):
            event, user = found
            events = self.joined.get(user, [])
            if events and event not in events:
                environ["PATH_INFO"] = f"{EVENTS}/{events[-1]}/subscribers/{user}"
        return super().__call__(environ, start_response)

    def rewrite_json_body(self, environ: Environ, body: Any) -> Any:
        subscribing = path_of(environ).endswith("/subscribers") and \
            environ["REQUEST_METHOD"] == "POST"
        if subscribing and isinstance(body, dict):
            environ["breaker.user"] = body.get("user")
        return body

    def rewrite_response(self, environ: Environ, status: str, payload: Any) -> tuple[str, Any]:
        user = environ.get("breaker.user")
        if user and status.startswith("201"):
            event = int(path_of(environ).split("/")[4])
            self.joined.setdefault(str(user), []).append(event)
        found = _subscriber_path(environ)
        if found and environ["REQUEST_METHOD"] == "DELETE" and status.startswith("200"):
            event, removed = found
            if event in self.joined.get(removed, []):
                self.joined[removed].remove(event)
        return status, payload


class DropsAttendance(Breaker):
    """A PATCH of `has_attended` is answered 200 but not kept: it is undone at once."""

    def rewrite_json_body(self, environ: Environ, body: Any) -> Any:
        if (_subscriber_path(environ) and environ["REQUEST_METHOD"] == "PATCH"
                and isinstance(body, dict) and set(body) == {"has_attended"}):
            environ["breaker.attended"] = bool(body["has_attended"])
        return body

    def rewrite_response(self, environ: Environ, status: str, payload: Any) -> tuple[str, Any]:
        if "breaker.attended" in environ and status.startswith("200"):
            call(self.app, environ, "PATCH", path_of(environ),
                 {"has_attended": not environ["breaker.attended"]})
        return status, payload


class AcceptsAlgNone(Breaker):
    """A token with `alg: none` is taken at its word: its `sub` is the caller."""

    def __init__(self, app: WSGIApp, *tokens: str) -> None:
        super().__init__(app)
        self.by_sub = {_claims(token)["sub"]: token for token in tokens}

    def rewrite_request(self, environ: Environ) -> None:
        token = environ.get("HTTP_AUTHORIZATION", "").removeprefix("Bearer ")
        try:
            head = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
            sub = _claims(token).get("sub")
        except (ValueError, IndexError):
            return
        if head.get("alg") == "none" and sub in self.by_sub:
            environ["HTTP_AUTHORIZATION"] = f"Bearer {self.by_sub[sub]}"


class ForbiddenSubscriberChangeIs401(Breaker):
    """Another user changing or removing a subscriber gets 401 instead of the documented 403."""

    def rewrite_response(self, environ: Environ, status: str, payload: Any) -> tuple[str, Any]:
        if _subscriber_path(environ) and status.startswith("403"):
            return "401 UNAUTHORIZED", dict(payload, code=401)
        return status, payload


class AuthMeFlipsType(Breaker):
    """`GET /v1/auth/me` answers the right user with the other user type (FED / DKTCONNECT)."""

    def rewrite_response(self, environ: Environ, status: str, payload: Any) -> tuple[str, Any]:
        if path_of(environ) == "/activities/v1/auth/me" and status.startswith("200"):
            payload["type"] = "DKTCONNECT" if payload.get("type") == "FED" else "FED"
        return status, payload


class ListsOthersActivities(Breaker):
    """The second user's `GET /v2/activities` also lists the first user's activities."""

    def __init__(self, app: WSGIApp, owner_token: str, other_token: str) -> None:
        super().__init__(app)
        self.owner, self.other = owner_token, other_token

    def rewrite_response(self, environ: Environ, status: str, payload: Any) -> tuple[str, Any]:
        if (path_of(environ) == "/sportstrackingdata/v2/activities" and status.startswith("200")
                and environ.get("HTTP_AUTHORIZATION") == f"Bearer {self.other}"):
            owners = dict(environ, HTTP_AUTHORIZATION=f"Bearer {self.owner}")
            _, theirs = call(self.app, owners, "GET", "/sportstrackingdata/v2/activities")
            payload = list(payload) + list(theirs or [])
        return status, payload


_ALLOWED = re.compile(rb'filename="[^"]*\.(gpx|tcx|json|xml|jpeg|jpg)"', re.IGNORECASE)
_FILENAME = re.compile(rb'filename="([^"]*)"')


class AcceptsAnyExtension(Breaker):
    """An upload with an extension off the list is stored anyway (as if named .jpg)."""

    def __call__(self, environ: Environ, start_response: Callable[..., Any]) -> Iterable[bytes]:
        if path_of(environ) == "/sportstrackingdata/v2/upload" and \
                environ.get("CONTENT_TYPE", "").startswith("multipart/"):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(length) if length else b""
            if not _ALLOWED.search(raw):
                raw = _FILENAME.sub(lambda m: b'filename="' + m.group(1) + b'.jpg"', raw, 1)
            environ["wsgi.input"] = io.BytesIO(raw)
            environ["CONTENT_LENGTH"] = str(len(raw))
        return super().__call__(environ, start_response)


class ThumbnailsMissing(Breaker):
    """The generated thumbnails of activities point at a file that is not there."""

    def rewrite_response(self, environ: Environ, status: str, payload: Any) -> tuple[str, Any]:
        if path_of(environ).startswith("/sportstrackingdata/v2/activities"):
            for activity in payload if isinstance(payload, list) else [payload]:
                url = activity.get("thumbnail") if isinstance(activity, dict) else None
                if isinstance(url, str) and "/thumbnails/" in url:
                    activity["thumbnail"] = url.rsplit("/", 1)[0] + "/missing.png"
        return status, payload


_TRACKING_DATES = ("startdate", "createdAt", "updatedAt")


class LocalTimeTrackingDates(Breaker):
    """Tracking dates in local time (`+02:00`), the same instants but not in UTC."""

    def rewrite_response(self, environ: Environ, status: str, payload: Any) -> tuple[str, Any]:
        if path_of(environ).startswith("/sportstrackingdata/v2/activities"):
            for activity in payload if isinstance(payload, list) else [payload]:
                for name in _TRACKING_DATES:
                    value = activity.get(name) if isinstance(activity, dict) else None
                    if isinstance(value, str) and value.endswith("+00:00"):
                        moment = datetime.fromisoformat(value) + timedelta(hours=2)
                        activity[name] = moment.strftime("%Y-%m-%dT%H:%M:%S") + "+02:00"
        return status, payload


class AcceptsSecondSubscription(Breaker):
    """A second subscription of the same user is answered 201 (and nothing happens)."""

    def rewrite_response(self, environ: Environ, status: str, payload: Any) -> tuple[str, Any]:
        if status.startswith("422") and "already subscribed" in str(payload.get("message")):
            return "201 CREATED", {"data": True}
        return status, payload


class CancelAnswersAnotherId(Breaker):
    """The cancel's answer names another event: a client following the spec's links from it
    (read the cancelled event, duplicate it) reaches nothing. The event itself is cancelled."""

    def rewrite_response(self, environ: Environ, status: str, payload: Any) -> tuple[str, Any]:
        if (environ["REQUEST_METHOD"] == "POST" and event_id(environ, suffix="/cancel")
                is not None and status.startswith("200") and isinstance(payload, dict)
                and isinstance(payload.get("data"), dict)):
            payload["data"]["id"] = int(payload["data"]["id"]) + 900_000
        return status, payload
