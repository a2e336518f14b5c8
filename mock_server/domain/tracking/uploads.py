"""Rules for ``POST /v2/upload``: which files the mock takes, and why one is refused.

The documents accept "gpx, tcx, json, xml, jpeg" and their own curl uploads ``myphoto.jpg``, so
``.jpg`` is accepted too (DECISIONS.md, Tracking). A photo must be under 3 MB; the mock reads that
as 3 MiB inclusive. Above the 300 KB recommended for a thumbnail the file is still taken, with a
warning, because the documents call that limit a recommendation.

Every check looks at the bytes, not only at the name: a client that uploads a PNG renamed to
``.jpg`` or a truncated GPX learns it here rather than from a broken map later. XML is parsed with
the expat parser under ElementTree, refusing any DOCTYPE so entity expansion (billion laughs,
external entities) can never happen. Nothing here touches a file system.
"""

from __future__ import annotations

import json
import xml.parsers.expat
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal, Protocol

from mock_server.domain.errors import DomainError, RuleViolation

__all__ = [
    "ACCEPTED_EXTENSIONS",
    "CONTENT_TYPES",
    "MAX_PHOTO_BYTES",
    "ReadableStream",
    "SAFE_SERVE_HEADERS",
    "THUMBNAIL_RECOMMENDED_BYTES",
    "UploadCheck",
    "UploadKind",
    "UploadRejected",
    "UPLOAD_PARTS",
    "check_parts",
    "check_upload",
    "read_limited",
]

ACCEPTED_EXTENSIONS: tuple[str, ...] = ("gpx", "tcx", "json", "xml", "jpeg", "jpg")

#: Largest accepted upload, inclusive: the documents' "less than 3Mo" read as 3 MiB.
MAX_PHOTO_BYTES = 3 * 1024 * 1024

#: Above this an upload is accepted with a warning: the documents recommend thumbnails < 300 Ko.
THUMBNAIL_RECOMMENDED_BYTES = 300 * 1024

#: The parts of an upload's multipart body: the documents send `-F 'file=@...'` and nothing else.
UPLOAD_PARTS: frozenset[str] = frozenset({"file"})

UploadKind = Literal["jpeg", "gpx", "tcx", "xml", "json"]

#: The Content-Type each kind is served back with from ``/uploads/{sha1}``.
CONTENT_TYPES: dict[str, str] = {
    "jpeg": "image/jpeg",
    "gpx": "application/gpx+xml",
    "tcx": "application/vnd.garmin.tcx+xml",
    "xml": "application/xml",
    "json": "application/json",
}

#: Headers to send with every served upload. Uploaded XML may be XHTML or SVG with scripts;
#: browsers render ``+xml`` types, so the served bytes must never run in the mock's origin.
SAFE_SERVE_HEADERS: dict[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}

_KIND_BY_EXTENSION: dict[str, UploadKind] = {
    "gpx": "gpx",
    "tcx": "tcx",
    "json": "json",
    "xml": "xml",
    "jpeg": "jpeg",
    "jpg": "jpeg",
}
_JPEG_MAGIC = b"\xff\xd8\xff"
# Root element each XML dialect must have, compared without its namespace.
_XML_ROOTS: dict[str, str] = {"gpx": "gpx", "tcx": "TrainingCenterDatabase"}
_ACCEPTED_TEXT = (
    f"Accepted: {', '.join(ACCEPTED_EXTENSIONS)} files, 1 to {MAX_PHOTO_BYTES} bytes (3 MiB)."
)
_READ_CHUNK_BYTES = 64 * 1024


class UploadRejected(DomainError):
    """An upload (or the storage of one) refused, with the HTTP status to answer.

    ``message`` names what is wrong and what would be accepted, so a client developer can fix
    the request without reading the documents again. A 422 also fills ``errors`` under the
    form field ``file``, the shape every validation error of the mock has.
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message, {"file": [message]} if status == 422 else None)
        self.status = status  # one class for 413, 422 and 507: the status is per instance


class ReadableStream(Protocol):
    """Anything with ``read(size)``: a WSGI input, ``io.BytesIO``, a werkzeug stream."""

    def read(self, size: int = ..., /) -> bytes: ...


@dataclass(frozen=True)
class UploadCheck:
    """What an accepted upload is and how to serve it back."""

    kind: UploadKind
    content_type: str
    size: int
    warnings: list[str] = field(default_factory=list)


def check_parts(names: Iterable[str]) -> None:
    """Refuse a multipart body with parts besides ``file``, naming each (422).

    The same strictness as for JSON bodies (DECISIONS.md: unknown fields are refused so that a
    typo surfaces during development): a part the mock would silently drop is a client bug.
    """
    unknown = [name for name in dict.fromkeys(names) if name not in UPLOAD_PARTS]
    if unknown:
        named = ", ".join(repr(name) if name else "without a name" for name in unknown)
        raise RuleViolation(
            f"Unknown multipart part {named}: an upload has only the part 'file'.",
            {name: [f"Unknown field {name!r}."] for name in unknown})


def check_upload(filename: str | None, data: bytes) -> UploadCheck:
    """Accept ``data`` uploaded as ``filename`` or raise ``UploadRejected`` saying why.

    Order of the checks: the name (422), emptiness (422), size (413), then the content (422), so
    the cheapest fault is reported first and a huge file is never parsed.
    """
    kind = _kind_from_filename(filename)
    size = len(data)
    if size == 0:
        raise UploadRejected(422, f"The file {_show(filename)} is empty. {_ACCEPTED_TEXT}")
    if size > MAX_PHOTO_BYTES:
        raise _too_large(MAX_PHOTO_BYTES, size)
    if kind == "jpeg":
        _check_jpeg(data)
    elif kind == "json":
        _check_json(data)
    else:
        _check_xml(kind, data)
    warnings: list[str] = []
    if size > THUMBNAIL_RECOMMENDED_BYTES:
        warnings.append(
            f"The file is {size} bytes: fine as a photo (up to {MAX_PHOTO_BYTES} bytes) but "
            f"above the {THUMBNAIL_RECOMMENDED_BYTES} bytes (300 KB) recommended for a "
            "thumbnail."
        )
    return UploadCheck(kind=kind, content_type=CONTENT_TYPES[kind], size=size, warnings=warnings)


def read_limited(stream: ReadableStream, limit: int, chunk_size: int = _READ_CHUNK_BYTES) -> bytes:
    """Read ``stream`` to its end, raising the 413 ``UploadRejected`` once ``limit`` is passed.

    Reads in chunks and never asks for more than one byte past the limit, so an endless or
    oversized body costs at most ``limit + 1`` bytes of memory and stops being read at once.
    """
    if limit < 0:
        raise ValueError("limit must be >= 0")
    if chunk_size < 1:
        raise ValueError("chunk_size must be >= 1")
    buffer = bytearray()
    while True:
        want = min(chunk_size, limit + 1 - len(buffer))
        chunk = stream.read(want)
        if not chunk:
            return bytes(buffer)
        buffer += chunk
        if len(buffer) > limit:
            raise _too_large(limit, None)


def _too_large(limit: int, size: int | None) -> UploadRejected:
    got = f"{size} bytes" if size is not None else f"more than {limit} bytes"
    return UploadRejected(
        413,
        f"The file is too large ({got}); the limit is {limit} bytes"
        f"{' (3 MiB)' if limit == MAX_PHOTO_BYTES else ''}. {_ACCEPTED_TEXT}",
    )


def _show(filename: str | None) -> str:
    """The file name quoted for a message, shortened so a hostile name cannot flood the log."""
    text = repr(filename)
    return text if len(text) <= 80 else text[:77] + "..."


def _kind_from_filename(filename: str | None) -> UploadKind:
    if not isinstance(filename, str) or not filename.strip():
        raise UploadRejected(422, f"The file has no name, so no extension. {_ACCEPTED_TEXT}")
    # Browsers on Windows may send a full path; only the last component carries the extension.
    basename = filename.strip().replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, extension = basename.rpartition(".")
    if not dot or not stem or not extension:
        raise UploadRejected(
            422, f"The file name {_show(filename)} has no extension. {_ACCEPTED_TEXT}"
        )
    kind = _KIND_BY_EXTENSION.get(extension.lower())
    if kind is None:
        raise UploadRejected(
            422,
            f"The extension {_show('.' + extension)} of {_show(filename)} is not accepted. "
            f"{_ACCEPTED_TEXT}",
        )
    return kind


def _check_jpeg(data: bytes) -> None:
    if not data.startswith(_JPEG_MAGIC):
        raise UploadRejected(
            422,
            "The file is named as a JPEG but its content is not JPEG "
            f"(it must start with the bytes FF D8 FF). {_ACCEPTED_TEXT}",
        )


def _check_json(data: bytes) -> None:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UploadRejected(
            422, f"The .json file is not UTF-8 text ({error.reason}). {_ACCEPTED_TEXT}"
        ) from None
    try:
        json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise UploadRejected(
            422, f"The .json file is nested too deeply to be read. {_ACCEPTED_TEXT}"
        ) from None
    except ValueError as error:
        raise UploadRejected(
            422, f"The .json file is not valid JSON ({error}). {_ACCEPTED_TEXT}"
        ) from None


def _reject_constant(name: str) -> float:
    """``NaN``/``Infinity`` are Python extensions, not JSON; other parsers would choke on them."""
    raise ValueError(f"{name} is not a JSON value")


class _ForbiddenDeclaration(Exception):
    pass


def _check_xml(kind: UploadKind, data: bytes) -> None:
    """Well-formedness and root element, with every DTD refused before it can declare entities.

    This drives expat, the parser under ``xml.etree.ElementTree``, directly: its handlers let us
    stop at the DOCTYPE (as defusedxml does) and read the root element without building a tree.
    """
    root: list[str] = []

    def on_doctype(*_args: object) -> None:
        raise _ForbiddenDeclaration("a DOCTYPE")

    def on_entity(*_args: object) -> None:
        raise _ForbiddenDeclaration("an ENTITY declaration")

    def on_external_entity(*_args: object) -> int:
        raise _ForbiddenDeclaration("an external entity reference")

    def on_element(name: str, _attributes: object) -> None:
        if not root:
            root.append(name.rsplit(" ", 1)[-1])  # "namespace local" -> "local"

    parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = on_doctype
    parser.EntityDeclHandler = on_entity
    parser.UnparsedEntityDeclHandler = on_entity
    parser.ExternalEntityRefHandler = on_external_entity
    parser.StartElementHandler = on_element
    label = f".{kind}"
    try:
        parser.Parse(data, True)
    except _ForbiddenDeclaration as error:
        raise UploadRejected(
            422,
            f"The {label} file contains {error}; DTDs and entities are refused for safety. "
            f"{_ACCEPTED_TEXT}",
        ) from None
    except xml.parsers.expat.ExpatError as error:
        raise UploadRejected(
            422, f"The {label} file is not well-formed XML ({error}). {_ACCEPTED_TEXT}"
        ) from None
    expected = _XML_ROOTS.get(kind)
    if expected is not None and root[:1] != [expected]:
        found = root[0] if root else "none"
        raise UploadRejected(
            422,
            f"The {label} file's root element is <{found}>, expected <{expected}>. "
            f"{_ACCEPTED_TEXT}",
        )
