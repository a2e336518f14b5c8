"""At the door of every request: the state caught up, or a JSON 503 when it cannot be.

A write acknowledged by any worker or replica before a request starts must be seen by that
request, so the request's first step applies every committed change (``Services.sync``).
When the engine cannot be reached (a lost database), the request answers 503 with the spec's
error body at once, never a 500 or a hang; the next request tries again.

It also answers ``GET /__health``, for load balancers and readiness checks: 200 when the state
is reachable and current, 503 when it is not. Health checks are not journaled and never
faulted (this layer sits inside the journal's skip list and outside the faults).

With PostgreSQL, catching up is a round trip to the database per request, and on a worker that
serves many connections at once that round trip is most of a short request's cost. But one
check serves every request that arrived before it *began*: it sees every commit acknowledged
before them. So the server (``mock_server.rsgi``) asks ``SharedCatchUp`` first: a request joins
the next check to start (never one already under way, which may have begun before it arrived),
waits for it without blocking the worker, and is marked ``ENV_CAUGHT_UP``, so this layer does
not check again. Under load, one query answers for several requests (7-8 in the bench's `get`);
alone, a request pays exactly one round trip, as before.
"""

from __future__ import annotations

import asyncio
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
#: Set by the server when a shared catch-up that began after the request arrived succeeded.
ENV_CAUGHT_UP = "mock_server.caught_up"


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
            if not environ.get(ENV_CAUGHT_UP):
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


class _Check(asyncio.Future[None]):
    """The outcome of the next check, which every request waiting for it awaits directly.

    A request cancelled meanwhile (its client went away) must not cancel the check for the
    others: refused here, its task is cancelled once the check is done instead. (Each request
    wrapped the shared future in ``asyncio.shield`` before: 6.2 us per waiter against 3.9 in
    a microbenchmark; the shield was 2 % of a worker's samples under the bench's ``get``.)
    """

    def cancel(self, msg: Any = None) -> bool:
        return False


class SharedCatchUp:
    """One catch-up with the log for every request that arrived before it began (see above).

    The check is a task on the worker's event loop (``Services.sync_async``): while it awaits
    the database, the loop goes on serving requests already caught up. (It ran on a thread
    until the bench showed the hop and the GIL hand-overs costing more than the query.)
    Engines whose check costs nothing (memory, SQLite's mapped counter) are checked inline.
    """

    def __init__(self, services: Services) -> None:
        self.services = services
        self.remote = services.engine.kind == "postgresql"
        self._running: asyncio.Future[None] | None = None
        self._next: _Check | None = None

    async def wait(self) -> bool:
        """Whether the state is caught up for a request that arrived just now (False: the
        check failed, and the request's own layer will answer the 503)."""
        if not self.remote:
            return False  # FreshState checks inline: a few microseconds
        waiting = self._next
        if waiting is None:
            loop = asyncio.get_running_loop()
            waiting = self._next = _Check(loop=loop)
            if self._running is None:  # after the requests already woken: they join it too
                loop.call_soon(self._launch, loop)
        try:
            await waiting
        except Exception:  # noqa: BLE001 - the request's own catch-up reports it properly
            return False
        return True

    def _launch(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start the check every waiting request joined (it begins after they arrived)."""
        queued, self._next = self._next, None
        if queued is None or self._running is not None:
            self._next = queued  # still waiting: ``finished`` launches it
            return
        running = self._running = loop.create_task(self.services.sync_async())

        def finished(done: asyncio.Future[None]) -> None:
            self._running = None
            if not queued.done():
                if done.exception() is not None:
                    queued.set_exception(done.exception())  # type: ignore[arg-type]
                else:
                    queued.set_result(None)
            if self._next is not None:  # requests that arrived meanwhile: the next check
                self._launch(loop)

        running.add_done_callback(finished)
