"""The documented answers of each operation: its statuses, error bodies and named examples.

What a ``status`` fault and a ``Prefer`` override answer with, read from openapi.yaml once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mock_server.api.headers import JSON
from mock_server.api.shaping import error_body
from mock_server.openapi.spec import Operation, Spec


class SpecAnswers:
    """The documented answers of each operation: statuses, error bodies, named examples."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.error_statuses: frozenset[int] = frozenset(
            int(status) for op in spec.operations.values() for status in op.responses
            if status.isdigit() and int(status) >= 400
        )
        self._generic: dict[int, Any] = {}
        for op in spec.operations.values():
            for status in sorted(op.responses):
                if status.isdigit() and int(status) >= 400 and int(status) not in self._generic:
                    self._generic[int(status)] = self._error_example(op, int(status))

    @staticmethod
    def _media(operation: Operation,
               status: int) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
        response = operation.responses.get(str(status)) or {}
        return response, ((response.get("content") or {}).get(JSON) or {})

    def _error_example(self, operation: Operation, status: int) -> dict[str, Any]:
        response, media = self._media(operation, status)
        example = media.get("example")
        if isinstance(example, dict) and example.get("code") == status:
            return example
        named = media.get("examples") or {}
        for item in named.values():
            if isinstance(item, dict) and isinstance(item.get("value"), dict):
                return item["value"]
        return error_body(status, response.get("description") or f"Error {status}.")

    def error_for(self, operation: Operation | None, status: int) -> dict[str, Any]:
        """The spec's error body for ``status``: the operation's own, else the common one."""
        if operation is not None and str(status) in operation.responses:
            return self._error_example(operation, status)
        return self._generic.get(status) or error_body(status, f"Error {status}.")

    def documented(self, operation: Operation) -> list[int]:
        return sorted(int(s) for s in operation.responses if s.isdigit())

    def success_status(self, operation: Operation) -> int:
        return min(s for s in self.documented(operation) if s < 400)

    def examples(self, operation: Operation, status: int) -> dict[str, Any]:
        """Named examples of a response (``example`` alone is named ``default``)."""
        _, media = self._media(operation, status)
        named = {name: item.get("value") for name, item in (media.get("examples") or {}).items()
                 if isinstance(item, dict) and "value" in item}
        if not named and "example" in media:
            named["default"] = media["example"]
        return named
