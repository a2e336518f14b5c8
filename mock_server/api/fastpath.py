"""The fast path: API operations answered straight from WSGI, without Flask's machinery.

A request to the mock costs a few hundred microseconds, and a third of it was Flask's: the
request context, the URL adapter, the lazily parsed request object, the response object. An
API operation needs none of that: `ApiDispatcher` takes the operation the journal matched
(``openapi.matching.operation_of``, with the same regular expressions as the app's URL rules)
and hands the environ to the very responder Flask's views call (``pipeline.make_responder``:
the same request adapter, body and form parsing, pipeline and error mapping), so the answer is
byte for byte the same, status line included (``http_status``).

Everything else goes to Flask, unchanged: paths and methods no operation has (its 404 and 405
with `Allow`), HEAD and OPTIONS. ``Settings.fast_path = False`` leaves this layer out, and the
tests of ``tests/app`` run both ways.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from mock_server.api.headers import JSON
from mock_server.api.http_status import status_line
from mock_server.api.requests import Responder
from mock_server.openapi.matching import OperationMatcher, operation_of

WsgiApp = Callable[..., Iterable[bytes]]


class ApiDispatcher:
    """WSGI layer: answers an API operation directly, hands anything else to Flask."""

    def __init__(self, app: WsgiApp, matcher: OperationMatcher, respond: Responder) -> None:
        self.app = app
        self._matcher = matcher
        self._respond = respond

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        match = operation_of(environ, self._matcher)
        if match is None:
            return self.app(environ, start_response)
        answer = self._respond(environ, match)
        start_response(status_line(answer.status), [
            ("Content-Type", JSON), ("Content-Length", str(len(answer.body))),
            *answer.headers.items()])
        return [answer.body]
