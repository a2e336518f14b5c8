"""Putting back request-body bytes a middleware has already read from `wsgi.input`.

Two outer layers peek at the body (the journal records its start; the upload fix reads the
multipart boundary). What they read must be replayed to the app, and the rest must stop at
Content-Length: a development server's raw socket would otherwise block waiting for bytes
that never come.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from werkzeug.wsgi import LimitedStream


class _Prefixed(io.RawIOBase):
    """The bytes already read, then the rest of the stream."""

    def __init__(self, head: bytes, rest: Any) -> None:
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def read_up_to(stream: Any, wanted: int) -> bytes:
    """``wanted`` bytes, or fewer at the end of the stream (a socket's read may return less)."""
    parts = []
    while wanted > 0:
        data = stream.read(wanted)
        if not data:
            break
        parts.append(data)
        wanted -= len(data)
    return b"".join(parts)


def content_length(environ: dict[str, Any]) -> int | None:
    try:
        length = int(environ.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None
    return length if length >= 0 else None


def replay_input(environ: dict[str, Any], head: bytes) -> None:
    """Make `wsgi.input` yield `head` again, then the unread rest (up to Content-Length)."""
    stream = environ["wsgi.input"]
    length = content_length(environ)
    if length is not None:
        if length <= len(head):
            environ["wsgi.input"] = io.BytesIO(head[:length])
            return
        stream = LimitedStream(stream, length - len(head))
    environ["wsgi.input"] = io.BufferedReader(_Prefixed(head, stream))


def collect(result: Iterable[bytes]) -> bytes:
    """A WSGI app's whole answer, and its ``close()`` called, as PEP 3333 asks of a server.

    The mock's answers are small and already in memory (uploads are capped at 3 MiB), so the
    layers that need the whole body (the journal, the RSGI server) collect it at once.
    """
    try:
        return b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
