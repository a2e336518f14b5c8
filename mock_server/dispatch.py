"""The fast path: API operations answered straight from WSGI, without Flask's machinery.

A request to the mock costs a few hundred microseconds, and a third of it was Flask's: the
request context, the URL adapter, the lazily parsed request object, the response object. An
API operation needs none of that: `ApiDispatcher` finds the operation with the same
regular expressions as the app's URL rules (`matching.OperationMatcher`), reads what the
pipeline needs straight from the WSGI environ (`WsgiRequestView`) and runs the very pipeline
Flask's views run (`app._make_pipeline`), so the answer is byte for byte the same.

Everything else goes to Flask, unchanged: paths and methods no operation has (its 404 and 405
with `Allow`), HEAD and OPTIONS, bodies over the size limit (413) or sent chunked. Uploads
(multipart) stay here: werkzeug's own request object parses the form, as under Flask. The app
leaves the fast path out when CORS is configured, since its headers are added by a Flask hook.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from werkzeug.datastructures import FileStorage, Headers, MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES, parse_options_header
from werkzeug.sansio.utils import get_host
from werkzeug.wrappers import Request

from mock_server.matching import OperationMatcher
from mock_server.spec import Operation

WsgiApp = Callable[..., Iterable[bytes]]
JSON_CONTENT_TYPE = "application/json"
_STATUS_LINES: dict[int, str] = {}


@dataclass(frozen=True)
class Incoming:
    """What the pipeline needs of a request, however it arrived."""

    view: Any  # validation.RequestView
    path_values: Mapping[str, str]
    base_url: str  # scheme://host[:port]
    path: str  # the full request path, mount included
    query_string: str
    files: Any = None


@dataclass(frozen=True)
class Answer:
    """A JSON answer: status, body bytes and extra headers."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


Pipeline = Callable[[Incoming], Answer]


def _status_line(status: int) -> str:
    """werkzeug's status line ("201 CREATED"), so both paths send the same one."""
    line = _STATUS_LINES.get(status)
    if line is None:
        phrase = HTTP_STATUS_CODES.get(status, "UNKNOWN").upper()
        line = _STATUS_LINES[status] = f"{status} {phrase}"
    return line


class WsgiRequestView:
    """`validation.RequestView` over a WSGI environ, read the way werkzeug reads it."""

    __slots__ = ("_environ", "_args", "_body")

    def __init__(self, environ: Mapping[str, Any], args: dict[str, list[str]],
                 body: bytes) -> None:
        self._environ = environ
        self._args = args
        self._body = body

    def query_names(self) -> list[str]:
        return list(self._args)

    def query_values(self, name: str) -> list[str]:
        return self._args.get(name, [])

    def header_value(self, name: str) -> str | None:
        key = name.upper().replace("-", "_")
        if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            key = "HTTP_" + key
        value = self._environ.get(key)
        return None if value is None else str(value)

    @property
    def content_type(self) -> str | None:
        value = self._environ.get("CONTENT_TYPE")
        return str(value) if value else None

    def body_bytes(self) -> bytes:
        return self._body


#: werkzeug's default cap on multipart parts (beyond it, its parser answers 413).
_MAX_FORM_PARTS = 1000


def simple_files(body: bytes, content_type: str) -> MultiDict[str, FileStorage] | None:
    """The file parts of a plain multipart body held in memory, as werkzeug's ``files`` has
    them; ``None`` when the body is anything but plain (a preamble, folded headers, a part
    without a name, no closing delimiter...), and werkzeug's own parser then reads it.

    Why: werkzeug's streaming parser, built for bodies of any size, was two thirds of an
    upload's time; an upload here is at most 3 MiB and already read.
    """
    _, options = parse_options_header(content_type)
    boundary = options.get("boundary", "").encode("latin-1", "replace")
    if not boundary:
        return None
    opening = b"--" + boundary + b"\r\n"
    closing = b"\r\n--" + boundary + b"--"
    end = body.rfind(closing)
    if not body.startswith(opening) or end < 0 or body[end + len(closing):].strip(b"\r\n"):
        return None
    parts = body[len(opening):end].split(b"\r\n--" + boundary + b"\r\n")
    if len(parts) > _MAX_FORM_PARTS or body.count(b"\r\n--" + boundary) != len(parts):
        return None  # a delimiter with padding, or the boundary inside a part: werkzeug's
    files: MultiDict[str, FileStorage] = MultiDict()
    for part in parts:
        head, found, data = part.partition(b"\r\n\r\n")
        if not found or b"\r\n " in head or b"\r\n\t" in head:
            return None
        try:
            headers = Headers([
                (name.strip(" \t"), value.strip(" \t"))
                for name, _, value in (line.strip(b" \t").decode().partition(":")
                                       for line in head.split(b"\r\n") if line.strip(b" \t"))
            ])
        except UnicodeDecodeError:
            return None
        if "content-disposition" not in headers:
            return None
        _, extra = parse_options_header(headers["content-disposition"])
        name = extra.get("name")
        filename = extra.get("filename")
        if name is None:
            return None
        if filename is not None:
            files.add(name, FileStorage(io.BytesIO(data), filename=filename, name=name,
                                        content_type=headers.get("content-type"),
                                        headers=headers))
    return files


def parse_args(query_string: str) -> dict[str, list[str]]:
    """The query parameters as werkzeug's `request.args` has them (names in first-seen order)."""
    args: dict[str, list[str]] = {}
    if query_string:
        text = query_string.encode("latin-1").decode()
        for name, value in parse_qsl(text, keep_blank_values=True,
                                     errors="werkzeug.url_quote"):
            args.setdefault(name, []).append(value)
    return args


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
        body = environ["wsgi.input"].read(length) if length else b""
        if match.operation.operation_id in self._multipart:
            files = simple_files(body, environ.get("CONTENT_TYPE", ""))
            if files is None:  # werkzeug's parser, on the same bytes
                environ["wsgi.input"] = io.BytesIO(body)
                files = Request(environ).files
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
        )
        try:
            answer = self._pipelines[match.operation.operation_id](incoming)
        except HTTPException as exc:  # e.g. a form over werkzeug's limits
            answer = self._on_http_error(exc)
        except Exception as exc:
            answer = self._on_error(method, path, exc)
        headers = [("Content-Type", JSON_CONTENT_TYPE),
                   ("Content-Length", str(len(answer.body))), *answer.headers.items()]
        start_response(_status_line(answer.status), headers)
        return [answer.body]
