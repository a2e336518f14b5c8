"""Laravel-style length-aware pagination, as the documents' ``meta`` blocks show.

The real API is a Laravel application (``links``/``meta`` with ``current_page``, ``from``,
``last_page``, ``per_page``, ``to``, ``total``), so the mock follows Laravel's arithmetic:
``last_page`` is at least 1 even for an empty result, and a page past the end is an empty page
with ``from``/``to`` null rather than an error (DECISIONS.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from mock_server.domain.errors import FieldErrors

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a result set and the counts a client needs to walk the others."""

    items: list[T]
    total: int
    per_page: int
    current_page: int
    last_page: int
    from_: int | None
    to: int | None

    @property
    def has_next(self) -> bool:
        return self.current_page < self.last_page

    @property
    def has_prev(self) -> bool:
        return self.current_page > 1

    def meta(self) -> dict[str, Any]:
        """The counting part of the documents' ``meta`` object (the caller adds ``path``)."""
        return {
            "current_page": self.current_page,
            "from": self.from_,
            "last_page": self.last_page,
            "per_page": self.per_page,
            "to": self.to,
            "total": self.total,
        }


def paginate(items: Sequence[T], page: int, per_page: int) -> Page[T]:
    """Cut page ``page`` (1-based) of ``per_page`` items out of ``items``.

    Raises ``RuleViolation`` for a page below 1 or a page size below 1: the HTTP layer
    validates both first, this only keeps the domain safe on its own.
    """
    problems = FieldErrors()
    if isinstance(page, bool) or not isinstance(page, int) or page < 1:
        problems.add("page", "The page must be an integer of at least 1.")
    if isinstance(per_page, bool) or not isinstance(per_page, int) or per_page < 1:
        problems.add("per_page", "The page size must be an integer of at least 1.")
    problems.raise_if_any()

    total = len(items)
    last_page = max(1, -(-total // per_page))
    start = (page - 1) * per_page
    chunk = list(items[start : start + per_page]) if start < total else []
    first = start + 1 if chunk else None
    return Page(
        items=chunk,
        total=total,
        per_page=per_page,
        current_page=page,
        last_page=last_page,
        from_=first,
        to=start + len(chunk) if chunk else None,
    )


def counted_page(chunk: Sequence[T], total: int, page: int, per_page: int) -> Page[T]:
    """The page ``page`` whose items, ``chunk``, were cut out of ``total`` items elsewhere.

    Same arithmetic as ``paginate``, for a caller that can count and cut a page without
    holding every item (the public list at the million scale).
    """
    last_page = max(1, -(-total // per_page))
    start = (page - 1) * per_page
    items = list(chunk) if start < total else []
    return Page(
        items=items,
        total=total,
        per_page=per_page,
        current_page=page,
        last_page=last_page,
        from_=start + 1 if items else None,
        to=start + len(items) if items else None,
    )
