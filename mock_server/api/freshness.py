"""At the door of every request: the state caught up, or a JSON 503 when it cannot be.

A write acknowledged by any worker or replica before a request starts must be seen by that
request, so the request's first step applies every committed change (``Services.sync``).
When the engine cannot be reached (a lost database), the request answers 503 with the spec's
error body at once, never a 500 or a hang; the next request tries again.

It also answers ``GET /__health``, for load balancers and readiness checks: 200 when the state
is reachable and current, 503 when it is not. Health checks are not journaled and never
faulted (this layer sits inside the journal's skip list and outside the faults).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterable
from typing import Any

import orjson

from mock_server.api.http_status import status_line
from mock_server.api.shaping import error_body
from mock_server.errors import ApiError
from mock_server.services import Services

HEALTH_PATH = "/__health"


def process_name() -> str:
    """Which process answered (host:pid), so a balancer's spread can be seen."""
    return f"{socket.gethostname()}:{os.getpid()}"
WsgiApp = Callable[..., Iterable[bytes]]


def _json(start_response: Callable[..., Any], status: int, body: Any,
          head: bool = False) -> list[bytes]:
    data = orjson.dumps(body)
    start_response(status_line(status), [("Content-Type", "application/json"),
                                         ("Content-Length", str(len(data))),
                                         ("Cache-Control", "no-store")])
    return [] if head else [data]


class FreshState:
    """WSGI layer: ``services.sync()`` before the app; 503 JSON when the state is gone."""

    def __init__(self, app: WsgiApp, services: Services) -> None:
        self.app = app
        self.services = services

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        head = environ.get("REQUEST_METHOD") == "HEAD"
        try:
            self.services.sync()
        except ApiError as exc:
            return _json(start_response, exc.status,
                         error_body(exc.status, exc.message, exc.errors), head)
        if environ.get("PATH_INFO") == HEALTH_PATH and environ.get("REQUEST_METHOD") in (
                "GET", "HEAD"):
            engine = self.services.engine
            return _json(start_response, 200, {
                "status": "ok", "state": engine.describe(), "engine": engine.kind,
                "seq": self.services.replica.seq, "process": process_name()}, head)
        return self.app(environ, start_response)
