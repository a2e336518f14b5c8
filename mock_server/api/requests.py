"""The request adapter: what the pipeline reads of a request, built once from the WSGI environ.

The fast path, the Flask view and the validation proxy all hold a WSGI environ, and all read it
here, by werkzeug's own rules: the body through ``get_input_stream`` and its size limit (as
``request.get_data``), the query as ``request.args`` decodes it, the host as ``request.host``,
the multipart form with werkzeug's limits (``api.multipart``). So the two API paths cannot
drift apart, and the proxy judges a request exactly as the mock would read it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import werkzeug.urls  # noqa: F401  (registers the "werkzeug.url_quote" error handler)
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.sansio.utils import get_host
from werkzeug.wsgi import get_content_length, get_input_stream

from mock_server.api.multipart import FormLimits, read_form
from mock_server.api.wsgi_input import content_length, read_up_to
from mock_server.errors import ApiError
from mock_server.openapi.matching import OperationMatch, request_path
from mock_server.openapi.validation import RequestView

MULTIPART = "multipart/form-data"


@dataclass(frozen=True)
class Incoming:
    """What the pipeline needs of a request, however it arrived."""

    view: RequestView
    path_values: Mapping[str, str]
    base_url: str  # scheme://host[:port]
    path: str  # the full request path, mount included
    query_string: str
    files: Any = None  # werkzeug MultiDict of FileStorage, for a multipart operation
    form_fields: tuple[str, ...] = ()  # the names of its other parts (text fields)


@dataclass(frozen=True)
class Answer:
    """A JSON answer: status, body bytes and extra headers."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


Pipeline = Callable[[Incoming], Answer]
#: Answers an API request whose operation is known: the one entry of both API paths.
Responder = Callable[[dict[str, Any], OperationMatch], Answer]


@dataclass(frozen=True)
class BodyLimits:
    """How much of a request the mock reads: the body, and a multipart form's parts."""

    max_content_length: int | None = None
    form: FormLimits = FormLimits()


#: Uploads are the only big bodies; their own limit is what a client needs to know.
BODY_TOO_LARGE = "Request body too large: the limit for an upload is 3145728 bytes (3 MB)."


class BodyTooLarge(ApiError):
    """413: a body over the mock's limit, refused before it is read."""

    def __init__(self) -> None:
        super().__init__(413, BODY_TOO_LARGE)


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


def parse_args(query_string: str) -> dict[str, list[str]]:
    """The query parameters as werkzeug's `request.args` has them (names in first-seen order).

    Bytes that are not UTF-8 stay percent-encoded (werkzeug 2.3's rule for escapes), raw ones
    included, so a bad query is a validation error like any other, never a crash.
    """
    args: dict[str, list[str]] = {}
    if query_string:
        text = query_string.encode("latin-1", "replace").decode("utf-8", "werkzeug.url_quote")
        for name, value in parse_qsl(text, keep_blank_values=True,
                                     errors="werkzeug.url_quote"):
            args.setdefault(name, []).append(value)
    return args


def read_body(environ: dict[str, Any], max_length: int | None) -> bytes:
    """The request body, as ``request.get_data`` reads it: up to Content-Length (or to the end
    of a stream the server terminates, chunked ones included), refused past ``max_length``.

    One difference: werkzeug cuts a terminated stream without Content-Length at the limit
    without a word (the form then looks truncated); here it is the 413 it is.
    """
    if environ.get("CONTENT_LENGTH") in (None, "", "0") and not environ.get(
            "HTTP_TRANSFER_ENCODING"):
        return b""  # no body (RFC 9112 6.3), without building werkzeug's stream for nothing
    length = content_length(environ)
    if length is not None and not environ.get("HTTP_TRANSFER_ENCODING"):
        # What werkzeug's LimitedStream would give, read straight (a third of its cost).
        if max_length is not None and length > max_length:
            raise BodyTooLarge()
        return read_up_to(environ["wsgi.input"], length)
    try:
        stream = get_input_stream(environ, max_content_length=max_length)
    except RequestEntityTooLarge:
        raise BodyTooLarge() from None
    if (max_length is None or "wsgi.input_terminated" not in environ
            or get_content_length(environ) is not None):
        return stream.read()
    body = read_up_to(environ["wsgi.input"], max_length + 1)
    if len(body) > max_length:
        raise BodyTooLarge()
    return body


def base_url(environ: Mapping[str, Any]) -> str:
    """``scheme://host[:port]`` as the client addressed the mock (werkzeug's ``request.host``)."""
    scheme = environ.get("wsgi.url_scheme", "http")
    host = get_host(scheme, environ.get("HTTP_HOST"),
                    (environ.get("SERVER_NAME", ""), int(environ.get("SERVER_PORT") or 0)))
    return f"{scheme}://{host}"


def read_incoming(environ: dict[str, Any], match: OperationMatch, limits: BodyLimits) -> Incoming:
    """The pipeline's view of an API request; an ``ApiError`` (413) for a body or form over the
    limits. A multipart form is parsed here, its files handed on, its bytes never validated."""
    query_string = environ.get("QUERY_STRING", "")
    body = read_body(environ, limits.max_content_length)
    files = None
    fields: tuple[str, ...] = ()
    if MULTIPART in match.operation.body_schemas:
        form = read_form(body, environ.get("CONTENT_TYPE", ""), limits.form)
        files, fields = form.files, form.fields
        body = b""
    return Incoming(
        view=WsgiRequestView(environ, parse_args(query_string), body),
        path_values=match.path_values,
        base_url=base_url(environ),
        path=request_path(environ),
        query_string=query_string,
        files=files,
        form_fields=fields,
    )
