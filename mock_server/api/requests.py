"""What the request pipeline reads of a request, however it arrived (WSGI or Flask).

The fast path, the Flask view and the validation proxy all see a request as a WSGI environ;
``WsgiRequestView`` reads what validation needs straight from it (the way werkzeug reads it),
``parse_args`` decodes the query string as werkzeug's ``request.args`` does, and
``simple_form`` parses a plain in-memory multipart body without werkzeug's streaming parser.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from werkzeug.datastructures import FileStorage, Headers, MultiDict
from werkzeug.http import parse_options_header


@dataclass(frozen=True)
class Incoming:
    """What the pipeline needs of a request, however it arrived."""

    view: Any  # validation.RequestView
    path_values: Mapping[str, str]
    base_url: str  # scheme://host[:port]
    path: str  # the full request path, mount included
    query_string: str
    files: Any = None
    form_fields: tuple[str, ...] = ()  # names of a multipart body's parts that are not files


@dataclass(frozen=True)
class Answer:
    """A JSON answer: status, body bytes and extra headers."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


Pipeline = Callable[[Incoming], Answer]


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


def simple_form(body: bytes, content_type: str
                ) -> tuple[MultiDict[str, FileStorage], tuple[str, ...]] | None:
    """The file parts of a plain multipart body held in memory, as werkzeug's ``files`` has
    them, and the names of the other parts (werkzeug's ``form``); ``None`` when the body is
    anything but plain (a preamble, folded headers, a part without a name, no closing
    delimiter...), and werkzeug's own parser then reads it.

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
    fields: list[str] = []
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
        if filename is None:
            fields.append(name)
        else:
            files.add(name, FileStorage(io.BytesIO(data), filename=filename, name=name,
                                        content_type=headers.get("content-type"),
                                        headers=headers))
    return files, tuple(fields)


def parse_args(query_string: str) -> dict[str, list[str]]:
    """The query parameters as werkzeug's `request.args` has them (names in first-seen order)."""
    args: dict[str, list[str]] = {}
    if query_string:
        text = query_string.encode("latin-1").decode()
        for name, value in parse_qsl(text, keep_blank_values=True,
                                     errors="werkzeug.url_quote"):
            args.setdefault(name, []).append(value)
    return args
