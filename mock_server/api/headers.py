"""Header vocabulary every layer that answers HTTP shares: the JSON media type, a lookup."""

from __future__ import annotations

from collections.abc import Iterable

#: The media type of every API answer and error body.
JSON = "application/json"


def header(headers: Iterable[tuple[str, str]], wanted: str) -> str | None:
    """The first value of header ``wanted`` (lower case) in WSGI-style ``(name, value)`` pairs."""
    for name, value in headers:
        if name.lower() == wanted:
            return value
    return None
