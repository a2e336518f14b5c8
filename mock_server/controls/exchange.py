"""One exchange of the journal: what a client sent and what it got back, masked.

An ``Exchange`` is filled in by the journal's WSGI layer while the request runs, then encoded
once (``encode``) into the record the state keeps (``state.journal``): secrets masked,
headers named, bodies cut to the journal's limit. ``decode`` gives it back for the admin API.
"""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime
from typing import Any, NamedTuple
from urllib.parse import parse_qs

import orjson

from mock_server.api.headers import header
from mock_server.openapi.matching import NearMiss, OperationMatcher
from mock_server.state.journal import JournalRecord

MASK = "****"
#: Request headers whose values never appear in the journal or the access log.
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "x-api-key", "x-admin-key",
                            "cookie"})
SECRET_RESPONSE_HEADERS = frozenset({"set-cookie"})
_TEXTUAL = re.compile(r"json|text/|xml|x-www-form-urlencoded|javascript|yaml", re.IGNORECASE)


def is_secret_header(lowered: str) -> bool:
    """Whether a header (its lower-case name) is masked in the journal and the logs."""
    return lowered in SECRET_HEADERS or lowered in SECRET_RESPONSE_HEADERS


def mask_header(name: str, value: str) -> str:
    """``Bearer ****`` for a bearer token, ``****`` for any other secret header."""
    lowered = name.lower()
    if not is_secret_header(lowered):
        return value
    scheme, _, rest = value.partition(" ")
    if lowered in ("authorization", "proxy-authorization") and rest:
        return f"{scheme} {MASK}"
    return MASK


class Exchange:
    """One request and its response. Mutable until the response body has been sent."""

    __slots__ = (
        "id", "request_id", "started", "method", "path", "query_string", "request_headers",
        "request_body", "request_size", "operation_id", "path_values", "unmatched", "status",
        "response_headers", "response_body", "response_size", "duration_ms", "fault", "error",
        "violations", "complete", "header_pairs", "_near_miss",
    )

    def __init__(self) -> None:
        self.id = 0
        self.request_id = ""
        self.started = 0.0
        self.method = ""
        self.path = ""
        self.query_string = ""
        self.request_headers: dict[str, Any] = {}  # the request's environ (see _request_headers)
        self.request_body = b""
        self.request_size = 0
        self.operation_id: str | None = None
        self.path_values: dict[str, str] | None = None
        self.unmatched = False
        self.status: int | None = None
        self.response_headers: list[tuple[str, str]] = []
        self.response_body = b""
        self.response_size = 0
        self.duration_ms = 0.0
        self.fault: str | None = None
        self.error: str | None = None
        self.violations: list[dict[str, Any]] = []
        self.complete = False
        #: The request's headers, named and masked; set when decoded from the journal.
        self.header_pairs: list[tuple[str, str]] | None = None
        self._near_miss: NearMiss | None = None

    @property
    def faulted(self) -> bool:
        return self.fault is not None

    @property
    def violating(self) -> bool:
        return bool(self.violations)

    def request_header_pairs(self) -> list[tuple[str, str]]:
        """(name, masked value) of each request header, in the order the client sent them."""
        if self.header_pairs is not None:
            return self.header_pairs
        pairs = []
        for key, value in self.request_headers.items():
            known = _HEADERS.get(key)
            if known is None:
                known = _header_of(key)
                if len(_HEADERS) < _HEADERS_KEPT:
                    _HEADERS[key] = known
            if known is not _NOT_A_HEADER and isinstance(value, str) and (
                    value or not known.body_header):
                pairs.append((known.name, mask_header(known.name, value) if known.secret
                              else value))
        return pairs

    def near_miss(self, matcher: OperationMatcher | None) -> NearMiss | None:
        if self._near_miss is None and self.unmatched and matcher is not None:
            self._near_miss = matcher.nearest(self.method, self.path)
        return self._near_miss

    def to_json(self, matcher: OperationMatcher | None = None) -> dict[str, Any]:
        request_type = header(self.request_header_pairs(), "content-type")
        response_type = header(self.response_headers, "content-type")
        body: dict[str, Any] = {
            "id": self.id,
            "request_id": self.request_id,
            "time": datetime.fromtimestamp(self.started, UTC).isoformat(timespec="milliseconds")
                    .replace("+00:00", "Z"),
            "operationId": self.operation_id,
            "request": {
                "method": self.method,
                "path": self.path,
                "query_string": self.query_string,
                "query": parse_qs(self.query_string, keep_blank_values=True),
                "headers": dict(self.request_header_pairs()),
                **_body_fields(self.request_body, self.request_size, request_type),
            },
            "response": None if self.status is None else {
                "status": self.status,
                "headers": {name: mask_header(name, value)
                            for name, value in self.response_headers},
                **_body_fields(self.response_body, self.response_size, response_type),
            },
            "duration_ms": round(self.duration_ms, 3),
            "fault": self.fault,
            "error": self.error,
            "complete": self.complete,
        }
        if self.violations:
            body["violations"] = list(self.violations)
        if self.unmatched:
            miss = self.near_miss(matcher)
            body["nearest"] = None if miss is None else miss.to_json()
        return body



def _body_fields(data: bytes, size: int, content_type: str | None) -> dict[str, Any]:
    fields: dict[str, Any] = {"body_size": size, "body_truncated": size > len(data)}
    if not data:
        fields["body"] = None if size == 0 else ""
    elif content_type is None or _TEXTUAL.search(content_type):
        fields["body"] = data.decode("utf-8", errors="replace")
    else:
        fields["body"] = None
        fields["body_base64"] = base64.b64encode(data).decode("ascii")
    return fields




def encode(exchange: Exchange, body_limit: int) -> JournalRecord:
    """The record the state keeps of a finished exchange (secrets masked now, for good)."""
    doc = {
        "request_id": exchange.request_id,
        "query_string": exchange.query_string,
        "request_headers": exchange.request_header_pairs(),
        "request_size": exchange.request_size,
        "path_values": dict(exchange.path_values) if exchange.path_values else None,
        "response_headers": [(name, mask_header(name, value))
                             for name, value in exchange.response_headers],
        "response_size": exchange.response_size,
        "duration_ms": exchange.duration_ms,
        "fault": exchange.fault,
        "error": exchange.error,
        "violations": exchange.violations,
        "complete": exchange.complete,
    }
    return JournalRecord(
        id=0, started=exchange.started, method=exchange.method, path=exchange.path,
        status=exchange.status, operation_id=exchange.operation_id,
        unmatched=exchange.unmatched, faulted=exchange.faulted, violating=exchange.violating,
        doc=orjson.dumps(doc), request_body=exchange.request_body[:body_limit],
        response_body=exchange.response_body[:body_limit])


def decode(record: JournalRecord) -> Exchange:
    doc = orjson.loads(record.doc)
    exchange = Exchange()
    exchange.id = record.id
    exchange.started = record.started
    exchange.method = record.method
    exchange.path = record.path
    exchange.status = record.status
    exchange.operation_id = record.operation_id
    exchange.unmatched = record.unmatched
    exchange.request_body = record.request_body
    exchange.response_body = record.response_body
    exchange.request_id = doc["request_id"]
    exchange.query_string = doc["query_string"]
    exchange.header_pairs = [(name, value) for name, value in doc["request_headers"]]
    exchange.request_size = doc["request_size"]
    exchange.path_values = doc["path_values"]
    exchange.response_headers = [(name, value) for name, value in doc["response_headers"]]
    exchange.response_size = doc["response_size"]
    exchange.duration_ms = doc["duration_ms"]
    exchange.fault = doc["fault"]
    exchange.error = doc["error"]
    exchange.violations = doc["violations"]
    exchange.complete = doc["complete"]
    return exchange


class _Header(NamedTuple):
    """What an environ key says of a request header: its name, whether its value is masked,
    whether it is one of the two CGI body headers (left out when empty)."""

    name: str
    secret: bool
    body_header: bool


_NOT_A_HEADER = _Header("", False, False)
#: environ key -> header, worked out once per key: the journal names every request's headers,
#: and the same two dozen keys come back each time. Bounded, since clients choose the keys.
_HEADERS: dict[str, _Header] = {}
_HEADERS_KEPT = 4096


def _header_of(key: str) -> _Header:
    body_header = key in ("CONTENT_TYPE", "CONTENT_LENGTH")
    if not (key.startswith("HTTP_") or body_header):
        return _NOT_A_HEADER
    name = (key[5:] if key[:5] == "HTTP_" else key).replace("_", "-").title()
    return _Header(name, is_secret_header(name.lower()), body_header)


def access_line(exchange: Exchange) -> str:
    """The access log line of an exchange: one JSON object, secrets never included."""
    line: dict[str, Any] = {
        "time": datetime.fromtimestamp(exchange.started, UTC).isoformat(timespec="milliseconds")
                .replace("+00:00", "Z"),
        "request_id": exchange.request_id,
        "method": exchange.method,
        "path": exchange.path,
        "query": exchange.query_string or None,
        "status": exchange.status,
        "duration_ms": round(exchange.duration_ms, 3),
        "bytes": exchange.response_size,
        "operationId": exchange.operation_id,
    }
    if exchange.fault:
        line["fault"] = exchange.fault
    if exchange.error:
        line["error"] = exchange.error
    if exchange.violations:
        line["violations"] = len(exchange.violations)
    return orjson.dumps(line).decode()
