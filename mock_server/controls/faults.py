"""Forced errors, latency and dropped connections, and the `Prefer` override, in front of the app.

A closed set of fault kinds, as wiremock keeps its `Fault` enum:

* ``status``: answer a status documented in openapi.yaml (400, 401, 403, 404, 413, 415, 422,
  498, 500, 507) with the spec's error body for it (the operation's own example when it has
  one), without running the request;
* ``latency``: wait ``latency_ms`` (fixed, or uniform in ``[min, max]``), then go on;
* ``drop``: close the connection without sending a byte (the client sees "connection reset" /
  "remote end closed connection without response").

A rule matches on method, path glob (``*`` crosses ``/``), optionally the operationId and a
request header, and fires with a ``probability`` for at most ``count`` requests (exhausted rules
stay listed, with ``remaining: 0``, until removed). Every firing latency rule adds its delay; the
first firing ``status`` or ``drop`` rule decides the answer.

`Prefer` (RFC 7240), as Prism users know it, asks for a documented answer per request:
``code=N`` (the spec's error body for an error status, the spec's example for a success status),
``example=NAME`` (that named example of the success response), ``dynamic=true`` (the mock's
stateful answer, which is already what it does) and ``dynamic=false`` (the success response's
static example). Like Prism's static mode, these answers skip authentication, validation and
state: they are for testing how a client handles an answer, not for changing data. A code the
operation does not document, or an unknown example, answers 400 naming what exists.

This layer sits just inside the journal (which records the outcome) and outside everything
else. Admin requests and CORS preflights (`OPTIONS`) are never touched. With no rule and no
`Prefer` header a request costs one tuple check.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import orjson

from mock_server.api.headers import JSON
from mock_server.api.http_status import status_line
from mock_server.api.shaping import error_body
from mock_server.controls.fault_rules import (
    ConnectionDropped,
    FaultInvalid,
    FaultRule,
    FaultRules,
)
from mock_server.controls.journal import (
    ADMIN_PREFIX,
    ENV_DEFERRED_LATENCY,
    ENV_ERROR,
    ENV_FAULT,
)
from mock_server.controls.spec_answers import SpecAnswers
from mock_server.openapi.matching import OperationMatcher, operation_of
from mock_server.openapi.spec import Operation

__all__ = ["ConnectionDropped", "FaultInvalid", "FaultMiddleware", "FaultRule", "FaultRules",
           "SpecAnswers", "parse_prefer"]


_PREFER_ITEM = re.compile(r'\s*([A-Za-z_-]+)\s*=\s*("([^"]*)"|[^,;\s]*)')


def parse_prefer(value: str) -> dict[str, str]:
    """The `Prefer` preferences this mock acts on (``code``, ``example``, ``dynamic``)."""
    found: dict[str, str] = {}
    for part in re.split(r"[,;]", value):
        item = _PREFER_ITEM.match(part)
        if item:
            name = item.group(1).lower()
            if name in ("code", "example", "dynamic"):
                found[name] = item.group(3) if item.group(3) is not None else item.group(2)
    return found


class FaultMiddleware:
    """WSGI layer applying fault rules and `Prefer` overrides before the app runs."""

    def __init__(self, app: Callable[..., Iterable[bytes]], rules: FaultRules, *,
                 matcher: OperationMatcher | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.app = app
        self.rules = rules
        self.answers = rules.answers
        self.matcher = matcher
        self.sleep = sleep

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        prefer = environ.get("HTTP_PREFER")
        if not self.rules.active and not prefer:
            return self.app(environ, start_response)
        path = environ.get("PATH_INFO", "") or "/"
        method = environ.get("REQUEST_METHOD", "GET")
        if path.startswith(ADMIN_PREFIX) or method == "OPTIONS":
            return self.app(environ, start_response)
        match = operation_of(environ, self.matcher) if self.matcher is not None else None
        operation = None if match is None else match.operation
        if self.rules.active:
            delay, rule, fired = self.rules.pick(
                method, path, environ, None if operation is None else operation.operation_id)
            if fired:
                environ[ENV_FAULT] = "; ".join(fired)
            if delay and ENV_DEFERRED_LATENCY in environ:
                environ[ENV_DEFERRED_LATENCY] += delay / 1000
            elif delay:
                self.sleep(delay / 1000)
            if rule is not None and rule.kind == "drop":
                environ[ENV_ERROR] = f"connection dropped ({rule.describe()})"
                raise ConnectionDropped(environ[ENV_ERROR])
            if rule is not None and rule.kind == "status" and rule.status is not None:
                return self._answer(environ, start_response, rule.status,
                                    self.answers.error_for(operation, rule.status),
                                    [("X-Mock-Fault", rule.id)])
        if prefer and operation is not None:
            preferences = parse_prefer(prefer)
            if preferences:
                return self._preferred(environ, start_response, operation, preferences)
        return self.app(environ, start_response)

    def _preferred(self, environ: dict[str, Any], start_response: Callable[..., Any],
                   operation: Operation, preferences: dict[str, str]) -> Any:
        applied = ", ".join(f"{k}={v}" for k, v in preferences.items())
        code_text = preferences.get("code")
        example = preferences.get("example")
        dynamic = preferences.get("dynamic", "").lower()
        if code_text is None and example is None and dynamic != "false":
            # dynamic=true: the stateful answer, which is the mock's normal one.
            return self.app(environ, _with_headers(start_response,
                                                   [("Preference-Applied", applied)]))
        documented = self.answers.documented(operation)
        if code_text is not None:
            if not code_text.isdigit() or int(code_text) not in documented:
                return self._refuse(environ, start_response, operation,
                                    f"Prefer: code={code_text} is not documented for "
                                    f"{operation.operation_id}; documented: "
                                    f"{', '.join(map(str, documented))}.")
            status = int(code_text)
        else:
            status = self.answers.success_status(operation)
        extra = [("Preference-Applied", applied)]
        environ[ENV_FAULT] = _join(environ.get(ENV_FAULT), f"Prefer: {applied}")
        if status >= 400 and example is None:
            return self._answer(environ, start_response, status,
                                self.answers.error_for(operation, status), extra)
        named = self.answers.examples(operation, status)
        if example is None:
            if not named:
                return self._refuse(environ, start_response, operation,
                                    f"{operation.operation_id} documents no example for "
                                    f"{status}; use Prefer: dynamic=true for the mock's "
                                    "stateful answer.")
            return self._answer(environ, start_response, status, next(iter(named.values())),
                                extra)
        if example not in named:
            names = ", ".join(named) or "none"
            return self._refuse(environ, start_response, operation,
                                f"Prefer: example={example} is not an example of "
                                f"{operation.operation_id} {status}; examples: {names}.")
        return self._answer(environ, start_response, status, named[example], extra)

    def _refuse(self, environ: dict[str, Any], start_response: Callable[..., Any],
                operation: Operation, message: str) -> Any:
        environ[ENV_FAULT] = _join(environ.get(ENV_FAULT), "Prefer: refused")
        return self._answer(environ, start_response, 400, error_body(400, message), [])

    def _answer(self, environ: Mapping[str, Any], start_response: Callable[..., Any],
                status: int, body: Any, extra: list[tuple[str, str]]) -> list[bytes]:
        data = orjson.dumps(body)
        headers = [("Content-Type", JSON), ("Content-Length", str(len(data))), *extra]
        start_response(status_line(status), headers)
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [data]


def _join(first: str | None, second: str) -> str:
    return second if not first else f"{first}; {second}"


def _with_headers(start_response: Callable[..., Any],
                  extra: list[tuple[str, str]]) -> Callable[..., Any]:
    def wrapped(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        return start_response(status, [*headers, *extra], exc_info)
    return wrapped

