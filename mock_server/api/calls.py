"""What a handler receives and returns: plain values, so handlers stay thin and testable."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mock_server.domain.activities.models import User
from mock_server.openapi.spec import Operation


@dataclass(frozen=True)
class Call:
    """One validated API call: typed parameters, the parsed body and the authenticated caller."""

    operation: Operation
    path: Mapping[str, Any]
    query: Mapping[str, Any]
    headers: Mapping[str, Any]
    body: Any
    caller: User | None
    now: datetime
    base_url: str  # scheme://host[:port] the client used, for absolute URLs we hand out
    api_path: str  # the request path relative to the API root (/v1/events), for links
    query_string: str  # as the client sent it, for pagination links
    files: Any = None  # multipart files (werkzeug MultiDict of FileStorage) for uploads
    form_fields: tuple[str, ...] = ()  # the other parts of a multipart body, by name

    @property
    def user(self) -> User:
        """The caller of an operation that requires a token (the pipeline guarantees one)."""
        if self.caller is None:
            raise RuntimeError(f"{self.operation.operation_id} ran without an authenticated user")
        return self.caller


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)
