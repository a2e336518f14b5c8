"""A WSGI app of this process served on a loopback port (`Target.from_wsgi`)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

__all__ = ["LocalServer"]


class _TerminatedInput:
    """Gives the app a request body that ends at Content-Length, as production servers do.

    Werkzeug's development server hands over the raw socket; an app (or middleware) that reads
    ahead past the body would then wait for bytes that never come.
    """

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        from werkzeug.wsgi import LimitedStream

        if not environ.get("wsgi.input_terminated"):
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            environ["wsgi.input"] = LimitedStream(environ["wsgi.input"], max(length, 0))
            environ["wsgi.input_terminated"] = True
        return self.app(environ, start_response)


class LocalServer:
    """Serves a WSGI app on a free loopback port from a daemon thread of this process.

    Why a socket rather than a transport adapter: schemathesis sends some probes (e.g. the
    `ignored_auth` check re-sends a request without credentials) through a session of its own,
    and a real socket reaches the app from any client, including the curl commands a report
    prints while the process runs.
    """

    def __init__(self, app: Callable[..., Any], host: str = "127.0.0.1") -> None:
        from werkzeug.serving import WSGIRequestHandler, make_server

        class QuietHandler(WSGIRequestHandler):
            def log(self, type: str, message: str, *args: Any) -> None:  # noqa: A002
                """Access logs would drown the report; failures carry their own exchange."""

        self._server = make_server(host, 0, _TerminatedInput(app), threaded=True,
                                   request_handler=QuietHandler)
        self.url = f"http://{host}:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="contracts-wsgi",
                                        daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
