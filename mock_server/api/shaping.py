"""The documented response shapes: the error body and the paginated envelope.

Kept apart from the handlers so that every handler and every error path produces byte-for-byte
the same envelopes, and so the link format (relative to the API root, keeping the client's
query string) is written once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mock_server.domain.pagination import Page


def error_body(status: int, message: str, errors: Mapping[str, list[str]] | None = None) -> dict:
    body: dict[str, Any] = {"code": status, "message": message}
    if errors:
        body["errors"] = {key: list(value) for key, value in errors.items()}
    return body


def _without_page(query_string: str) -> str:
    """The client's query string as it sent it (order, encoding, `level[]`), minus `page`."""
    return "&".join(
        part for part in query_string.split("&") if part and part.split("=", 1)[0] != "page"
    )


def page_link(path: str, query_string: str, page: int) -> str:
    rest = _without_page(query_string)
    return f"{path}?{rest}&page={page}" if rest else f"{path}?page={page}"


def page_envelope(page: Page, items: Sequence[Any], path: str, query_string: str) -> dict:
    """`data`, `links` and `meta` exactly as the documents show them (Laravel's paginator)."""
    return {
        "data": list(items),
        "links": {
            "first": page_link(path, query_string, 1),
            "last": page_link(path, query_string, page.last_page),
            "prev": page_link(path, query_string, page.current_page - 1) if page.has_prev else None,
            "next": page_link(path, query_string, page.current_page + 1) if page.has_next else None,
        },
        "meta": {**page.meta(), "path": path},
    }
