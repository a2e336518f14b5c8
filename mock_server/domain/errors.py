"""Errors raised by the domain layer.

Every error carries the HTTP status the documents assign to it (``mock_server.errors.ApiError``),
so the HTTP layer turns any ``DomainError`` into the one error body of DECISIONS.md without a
mapping table of its own:

    DomainError            (status, message, errors)
    ├── NotFound           404  the event/subscription does not exist *for this caller*
    ├── Forbidden          403  it exists, but the caller may not do this
    └── RuleViolation      422  a business or validation rule; ``errors`` names the fields
"""

from __future__ import annotations

from mock_server.errors import ApiError


class DomainError(ApiError):
    """Base of every error the domain raises on purpose (never a bug); each subclass names
    its status once, so raising one needs only the message."""

    status: int = 500
    default_message: str = "Internal Server Error"

    def __init__(
        self, message: str | None = None, errors: dict[str, list[str]] | None = None
    ) -> None:
        super().__init__(type(self).status, message or self.default_message, errors)


class NotFound(DomainError):
    """The resource does not exist, or exists but must not be revealed to the caller."""

    status = 404
    default_message = "Not Found."


class Forbidden(DomainError):
    """The caller is known but not allowed to perform the action."""

    status = 403
    default_message = "This action is unauthorized."


class RuleViolation(DomainError):
    """A validation or business rule failed; ``errors`` maps field names to messages."""

    status = 422
    default_message = "The given data was invalid."


class FieldErrors:
    """Collects per-field messages so a caller gets every problem at once, not one per retry."""

    def __init__(self) -> None:
        self._errors: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self._errors.setdefault(field, []).append(message)

    def __contains__(self, field: str) -> bool:
        return field in self._errors

    def __bool__(self) -> bool:
        return bool(self._errors)

    def raise_if_any(self, message: str = RuleViolation.default_message) -> None:
        """Raise one ``RuleViolation`` listing every collected field error."""
        if self._errors:
            raise RuleViolation(message, dict(self._errors))
