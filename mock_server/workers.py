"""`mock-server serve --workers N`: the app in N processes, so a load test can use every core.

One CPython process runs one request at a time (the GIL), so on a 2-core machine a single
process leaves a core idle however many threads it has. Here the app is built once, in the
parent, then granian (an HTTP server written in Rust, serving WSGI) forks N workers that all
serve that same app object: the fixtures (a million events take ~20 s to build) are made once
and shared copy-on-write, ``gc.freeze()`` first keeping the collector from touching (and so
copying) those pages in every child. The workers keep one state through the SQLite log of
``store_sqlite.py`` (the CLI sets ``Settings.shared_state`` before building the app).

Why granian and not gunicorn, measured here (bench/README.md): for an app that returns two
bytes, gunicorn's best worker (``gthread``) served ~8,800 requests/s on this machine and
granian ~75,000. gunicorn parses HTTP in Python and sends headers and body in two system
calls; with the mock's own work at 40-350 us a request, gunicorn's 150-200 us were the larger
half of the time, and `GET /v1/events/1` went from ~3,900 to ~17,000 requests/s.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

#: The app the workers serve, set by ``serve_workers`` in the parent before the fork; granian
#: loads it by this module's import path, which in a forked worker finds the built app.
APP: Callable[..., Any] | None = None


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


def serve_workers(app: Callable[..., Any], *, host: str, port: int, workers: int) -> None:
    """Serve ``app`` from ``workers`` forked processes until SIGTERM or SIGINT."""
    from granian import Granian
    from granian.constants import Interfaces
    from granian.log import LogLevels

    global APP
    APP = app
    settle_garbage_collector()
    Granian(
        f"{__name__}:APP",
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=workers,
        blocking_threads=1,  # one Python thread per worker: the GIL would share one core anyway
        websockets=False,
        log_level=LogLevels.warning,
        log_access=False,  # the app has its own access log (--access-log/--quiet)
    ).serve()
