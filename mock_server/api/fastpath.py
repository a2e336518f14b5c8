"""The fast path: API operations answered straight from WSGI, without Flask's machinery.

A request to the mock costs a few hundred microseconds, and a third of it was Flask's: the
request context, the URL adapter, the lazily parsed request object, the response object. An
API operation needs none of that: `ApiDispatcher` finds the operation with the same
regular expressions as the app's URL rules (`matching.OperationMatcher`), reads what the
pipeline needs straight from the WSGI environ (`WsgiRequestView`) and runs the very pipeline
Flask's views run (`pipeline.make_pipeline`), so the answer is byte for byte the same.

Everything else goes to Flask, unchanged: paths and methods no operation has (its 404 and 405
with `Allow`), HEAD and OPTIONS, bodies over the size limit (413) or sent chunked. Uploads
(multipart) stay here: werkzeug's own request object parses the form, as under Flask. The app
leaves the fast path out when CORS is configured, since its headers are added by a Flask hook.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.sansio.utils import get_host
from werkzeug.wrappers import Request

from mock_server.api.http_status import status_line
from mock_server.api.requests import (
    Answer,
    Incoming,
    Pipeline,
    WsgiRequestView,
    parse_args,
    simple_form,
)
from mock_server.openapi.matching import OperationMatcher
from mock_server.openapi.spec import Operation

WsgiApp = Callable[..., Iterable[bytes]]
JSON_CONTENT_TYPE = "application/json"


class ApiDispatcher:
    """WSGI layer: runs an API operation's pipeline directly, hands anything else to Flask."""

    def __init__(self, app: WsgiApp, operations: Iterable[Operation],
                 pipelines: Mapping[str, Pipeline], *, max_content_length: int,
                 on_error: Callable[[str, str, BaseException], Answer],
                 on_http_error: Callable[[HTTPException], Answer]) -> None:
        self.app = app
        operations = list(operations)
        self._matcher = OperationMatcher(operations)
        self._pipelines = dict(pipelines)
        self._multipart = {op.operation_id for op in operations
                           if "multipart/form-data" in op.body_schemas}
        self._max_content_length = max_content_length
        self._on_error = on_error
        self._on_http_error = on_http_error

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        method = environ.get("REQUEST_METHOD", "GET")
        raw_path = environ.get("PATH_INFO", "") or "/"
        try:
            path = raw_path.encode("latin-1").decode("utf-8", "replace")
            match = self._matcher.match(method, path)
            if match is None:
                return self.app(environ, start_response)
            if environ.get("HTTP_TRANSFER_ENCODING"):
                return self.app(environ, start_response)  # chunked: werkzeug reads it
            length = int(environ.get("CONTENT_LENGTH") or 0)
            if length > self._max_content_length or length < 0:
                return self.app(environ, start_response)  # its 413
            args = parse_args(environ.get("QUERY_STRING", ""))
        except (UnicodeError, ValueError):
            return self.app(environ, start_response)  # whatever werkzeug makes of it
        files = None
        fields: tuple[str, ...] = ()
        body = environ["wsgi.input"].read(length) if length else b""
        if match.operation.operation_id in self._multipart:
            form = simple_form(body, environ.get("CONTENT_TYPE", ""))
            if form is None:  # werkzeug's parser, on the same bytes
                environ["wsgi.input"] = io.BytesIO(body)
                parsed = Request(environ)
                form = parsed.files, tuple(parsed.form)
            files, fields = form
            body = b""  # the pipeline never reads a multipart body itself
        host = get_host(environ.get("wsgi.url_scheme", "http"), environ.get("HTTP_HOST"),
                        (environ.get("SERVER_NAME", ""), int(environ.get("SERVER_PORT") or 0)))
        incoming = Incoming(
            view=WsgiRequestView(environ, args, body),
            path_values=match.path_values,
            base_url=f"{environ.get('wsgi.url_scheme', 'http')}://{host}",
            path=path,
            query_string=environ.get("QUERY_STRING", ""),
            files=files,
            form_fields=fields,
        )
        try:
            answer = self._pipelines[match.operation.operation_id](incoming)
        except HTTPException as exc:  # e.g. a form over werkzeug's limits
            answer = self._on_http_error(exc)
        except Exception as exc:
            answer = self._on_error(method, path, exc)
        headers = [("Content-Type", JSON_CONTENT_TYPE),
                   ("Content-Length", str(len(answer.body))), *answer.headers.items()]
        start_response(status_line(answer.status), headers)
        return [answer.body]
