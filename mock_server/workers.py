"""`mock-server serve --workers N`: the app in N processes, so a load test can use every core.

One CPython process runs one request at a time (the GIL), so on a 2-core machine a single
process leaves a core idle however many threads it has. gunicorn forks N copies of the app
after it was built: the fixtures (a million events take ~15 s to build) are made once, in the
parent, and shared copy-on-write; ``gc.freeze()`` first keeps the collector from touching (and
so copying) those pages in every child. The workers keep one state through the SQLite log of
``store_sqlite.py`` (the CLI sets ``Settings.shared_state`` before building the app).

Measured on the development machine (bench/README.md): gunicorn's ``gthread`` worker (keep-alive
connections, one thread) served ~1.5x the requests of its ``sync`` worker, which closes the
connection after every response, and both beat waitress in one process.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication

#: gunicorn worker class and threads per worker (see the module docstring for why).
WORKER_CLASS = "gthread"
THREADS_PER_WORKER = 1


class _PreloadedApplication(BaseApplication):  # type: ignore[misc]
    """gunicorn serving an app object built before the fork (no import string)."""

    def __init__(self, app: Callable[..., Any], options: dict[str, Any]) -> None:
        self._app = app
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Callable[..., Any]:
        return self._app


def serve_workers(app: Callable[..., Any], *, host: str, port: int, workers: int,
                  threads: int = THREADS_PER_WORKER) -> None:
    """Serve ``app`` from ``workers`` forked processes until SIGTERM or SIGINT."""
    gc.collect()
    gc.freeze()
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": WORKER_CLASS,
        "threads": threads,
        "keepalive": 5,
        "timeout": 120,  # a 1,000,000-event reset takes seconds, not minutes
        "graceful_timeout": 5,
        "accesslog": None,  # the app has its own access log (--access-log/--quiet)
        "errorlog": "-",
        "loglevel": "warning",
        "proc_name": "mock-server",
    }
    _PreloadedApplication(app, options).run()
