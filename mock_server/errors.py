"""The one error of the mock: an HTTP status, a message, and messages per field.

Every refusal the mock makes on purpose, in any layer, is an ``ApiError``; the request
pipeline, the Flask adapter, the admin API and the validation proxy turn it into the spec's
one error body (``{"code", "message", "errors"}``) without knowing which layer raised it:

    ApiError                      (status, message, errors)
    ├── openapi.RequestInvalid    400 malformed JSON, 415 content type, 422 schema
    ├── api.AuthError             401 bad or missing credentials, 498 expired token
    ├── domain.DomainError        404 NotFound, 403 Forbidden, 422 RuleViolation,
    │                             413/422/507 UploadRejected
    ├── state.StateUnavailable    503 the state engine cannot be reached
    └── controls.AdminError       the admin API's refusals (401, 404, 409, 422)

It sits below every package and imports nothing, so the lowest layers can raise it too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class ApiError(Exception):
    """A refusal with the status the documents (or the spec's decisions) give it."""

    def __init__(self, status: int, message: str,
                 errors: Mapping[str, Sequence[str]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors: dict[str, list[str]] | None = (
            {name: list(messages) for name, messages in errors.items()} if errors else None)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.status}, {self.message!r}, errors={self.errors!r})"
