"""A multipart form already in memory, parsed with werkzeug's limits whichever parser reads it.

An upload is at most a few MiB and already read (``requests.read_body``). A plain body (what
curl, browsers and HTTP libraries send) is split here without werkzeug's streaming parser,
which was two thirds of an upload's time; anything unusual (a preamble, folded headers, a part
without a name, padding after a delimiter...) goes to werkzeug's parser on the same bytes.
Both apply the same limits, werkzeug's defaults as Flask sets them: at most 1,000 parts, at
most 500,000 bytes in a part that is not a file. Past either, the answer is the spec's 413,
never werkzeug's plain-text page.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from werkzeug.datastructures import FileStorage, Headers, MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import FormDataParser
from werkzeug.http import parse_options_header

from mock_server.errors import ApiError


@dataclass(frozen=True)
class FormLimits:
    """werkzeug's (and Flask's) defaults: ``MAX_FORM_PARTS`` and ``MAX_FORM_MEMORY_SIZE``."""

    max_parts: int = 1000
    max_field_bytes: int = 500_000


class FormTooLarge(ApiError):
    """413: a multipart form over the limits (too many parts, or a text field too big)."""

    def __init__(self, limits: FormLimits) -> None:
        super().__init__(413, f"Multipart form too large: at most {limits.max_parts} parts, "
                              f"and at most {limits.max_field_bytes} bytes in a part that is "
                              "not a file.")


@dataclass(frozen=True)
class Form:
    """The parts of a multipart body: its files, and the names of its other (text) parts, which
    an operation that takes only files refuses by name."""

    files: MultiDict[str, FileStorage]
    fields: tuple[str, ...] = ()


def read_form(body: bytes, content_type: str, limits: FormLimits) -> Form:
    """The parts of a multipart body as werkzeug's ``request.files`` and ``request.form`` have
    them (no part for a body that is not multipart); ``FormTooLarge`` past the limits."""
    form = simple_form(body, content_type, limits)
    if form is not None:
        return form
    mimetype, options = parse_options_header(content_type)
    parser = FormDataParser(max_form_memory_size=limits.max_field_bytes,
                            max_form_parts=limits.max_parts)
    try:
        _, fields, files = parser.parse(io.BytesIO(body), mimetype, len(body), options)
    except RequestEntityTooLarge:
        raise FormTooLarge(limits) from None
    # werkzeug keys a part whose Content-Disposition has no name by None; the mock names it ""
    # so the refusal that lists unknown parts stays a JSON object with string keys.
    if None in files or None in fields:
        files = MultiDict([(name or "", part) for name, part in files.items(multi=True)])
    return Form(files, tuple(name or "" for name in fields))


def simple_form(body: bytes, content_type: str, limits: FormLimits) -> Form | None:
    """The parts of a plain multipart body; ``None`` when the body is anything but plain
    (werkzeug's parser then reads it), ``FormTooLarge`` past the limits."""
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
    if body.count(b"\r\n--" + boundary) != len(parts):
        return None  # a delimiter with padding, or the boundary inside a part: werkzeug's
    if len(parts) > limits.max_parts:
        raise FormTooLarge(limits)
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
            if len(data) > limits.max_field_bytes:  # werkzeug keeps text fields in memory
                raise FormTooLarge(limits)
            fields.append(name)
            continue
        files.add(name, FileStorage(io.BytesIO(data), filename=filename, name=name,
                                    content_type=headers.get("content-type"),
                                    headers=headers))
    return Form(files, tuple(fields))
