"""Multipart bodies built byte by byte, for the tests of the form limits (both request paths
and a real server): what a test client would refuse to build, or build differently."""

from __future__ import annotations

BOUNDARY = "x-mock-test-boundary"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200


def field(name: str, value: bytes) -> bytes:
    return (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value + b"\r\n")


def file_part(data: bytes = JPEG, filename: str = "myphoto.jpg") -> bytes:
    return (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{filename}"\r\nContent-Type: image/jpeg\r\n\r\n'.encode()
            + data + b"\r\n")


def form(*parts: bytes, preamble: bool = False) -> bytes:
    """A form of ``parts``; with ``preamble``, text before the first delimiter, which RFC 2046
    allows and the mock's quick parser leaves to werkzeug's."""
    head = b"a preamble that parsers must skip\r\n" if preamble else b""
    return head + b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def many_fields(count: int) -> list[bytes]:
    return [field(f"f{index}", b"v") for index in range(count)]
