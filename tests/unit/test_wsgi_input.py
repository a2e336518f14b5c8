"""Replayed request bodies stop at Content-Length, like the raw socket they wrap must."""

from __future__ import annotations

import io

from mock_server.api.wsgi_input import replay_input


class Socketish(io.RawIOBase):
    """A stream that, like a kept-alive socket, blocks (here: fails) when read past the body."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def readable(self) -> bool:
        return True

    def readinto(self, buffer):  # type: ignore[no-untyped-def]
        if not self._data:
            raise AssertionError("read past the end of the request body")
        n = min(len(buffer), len(self._data))
        buffer[:n] = self._data[:n]
        self._data = self._data[n:]
        return n


def test_head_then_rest_up_to_content_length() -> None:
    body = b"x" * 100_000
    stream = Socketish(body)
    head = stream.read(80)
    environ = {"wsgi.input": stream, "CONTENT_LENGTH": str(len(body))}
    replay_input(environ, head)
    assert environ["wsgi.input"].read() == body


def test_whole_body_already_read() -> None:
    environ = {"wsgi.input": Socketish(b""), "CONTENT_LENGTH": "3"}
    replay_input(environ, b"abc")
    assert environ["wsgi.input"].read() == b"abc"


def test_unknown_length_reads_to_the_end() -> None:
    environ = {"wsgi.input": io.BytesIO(b"rest"), "CONTENT_LENGTH": ""}
    replay_input(environ, b"head-")
    assert environ["wsgi.input"].read() == b"head-rest"
