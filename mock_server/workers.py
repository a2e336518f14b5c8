"""`mock-server serve`: the app in N worker processes under granian, one per core by default.

One CPython process runs one request at a time (the GIL), so on a 2-core machine a single
process leaves a core idle however many threads it has. The app is built once, in the parent
(a million fixture events take ~20 s), then granian (an HTTP server written in Rust) forks N
workers that serve that same object through RSGI (``mock_server.rsgi``): the fixtures are
shared copy-on-write, ``gc.freeze()`` first keeping the collector from touching (and so
copying) those pages in every child. The workers keep one state through the engine's log
(``mock_server.state``): what one writes, the next request on any other reads.

Why granian and not gunicorn, measured here (bench/README.md): for an app that returns two
bytes, gunicorn's best worker (``gthread``) served ~8,800 requests/s on this machine and
granian ~75,000. gunicorn parses HTTP in Python and sends headers and body in two system
calls; with the mock's own work at 40-350 us a request, gunicorn's 150-200 us were the larger
half of the time.

Each worker's event loop is uvloop's where it is installed (a dependency, but on Windows):
granian hands every request to the loop from its own threads, and uvloop's cross-thread wake-up
and scheduling cost about half of asyncio's; measured with one worker, wrk -c16: 10-25 % more
requests per second on `get` and `create`, ~5-10 % on the list (bench/README.md).

"ready" is printed only when a worker answers: the parent binds nothing itself (granian does),
so it first checks that the port is free (a busy port is a one-line error and exit status 2,
never "ready" followed by a crash), then polls ``/__health`` until a worker answers it.
"""

from __future__ import annotations

import errno
import gc
import http.client
import importlib.util
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

#: The app the workers serve, set by ``serve_workers`` in the parent before the fork; granian
#: loads it by this module's import path, which in a forked worker finds the built app.
APP: Callable[..., Any] | None = None
#: How long "ready" may take after the workers were started.
READY_TIMEOUT = 120.0


class PortBusy(Exception):
    """The address is in use: another server listens there."""


def _freeze_survivors(phase: str, info: dict[str, int]) -> None:
    if phase == "stop" and info["generation"] == 2:
        gc.freeze()


def settle_garbage_collector() -> None:
    """Keep the cyclic collector's pauses short in a long-running server.

    A full collection walks every tracked object not frozen. The fixtures are frozen at start;
    what the mock makes while serving (events, subscriptions, cached payloads) is frozen after
    each full collection it survived, so the next one walks only what is newer: measured here,
    full collections in the middle of a write load paused a worker for 25-55 ms, a p99 of
    100 ms on `POST /v1/events`. The price: a reference cycle that dies after being frozen is
    never freed; the mock's objects (frozen dataclasses, dicts, tuples) hardly form cycles.
    """
    gc.collect()
    gc.freeze()
    if _freeze_survivors not in gc.callbacks:
        gc.callbacks.append(_freeze_survivors)


def check_port_free(host: str, port: int) -> None:
    """``PortBusy`` if something listens on (host, port); SO_REUSEADDR, so a port left in
    TIME_WAIT by an earlier run still counts as free."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortBusy(f"{host}:{port} is already in use") from None
            raise


def _probe_host(host: str) -> str:
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "::1"
    return host


def announce_when_ready(host: str, port: int, announce: Callable[[], None]) -> threading.Thread:
    """Call ``announce`` once a worker answers ``GET /__health`` (polled from a thread)."""

    def wait() -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            connection = http.client.HTTPConnection(_probe_host(host), port, timeout=2)
            try:
                connection.request("GET", "/__health")
                if connection.getresponse().status == 200:
                    announce()
                    return
            except OSError:
                pass
            finally:
                connection.close()
            time.sleep(0.02)

    thread = threading.Thread(target=wait, name="readiness", daemon=True)
    thread.start()
    return thread


def serve_workers(app: Callable[..., Any], *, host: str, port: int, workers: int,
                  on_ready: Callable[[], None]) -> None:
    """Serve ``app`` (an RSGI app) from ``workers`` forked processes until SIGTERM or SIGINT."""
    from granian import Granian
    from granian.constants import Interfaces, Loops
    from granian.log import LogLevels

    global APP
    APP = app
    settle_garbage_collector()
    announce_when_ready(host, port, on_ready)
    Granian(
        f"{__name__}:APP",
        address=host,
        port=port,
        interface=Interfaces.RSGI,
        workers=workers,
        websockets=False,
        loop=Loops.uvloop if importlib.util.find_spec("uvloop") else Loops.asyncio,
        respawn_failed_workers=True,  # a worker that dies comes back, caught up from the log
        log_level=LogLevels.warning,
        log_access=False,  # the app has its own access log (--access-log/--quiet)
    ).serve()
