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

import fnmatch
import random
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from mock_server.api.http_status import status_line
from mock_server.api.shaping import error_body
from mock_server.controls.journal import (
    ADMIN_PREFIX,
    ENV_DEFERRED_LATENCY,
    ENV_ERROR,
    ENV_FAULT,
)
from mock_server.openapi.matching import OperationMatcher, operation_of
from mock_server.openapi.spec import Operation, Spec
from mock_server.state.engine import Engine
from mock_server.state.replica import Change, Replica

FAULT_KINDS = ("status", "latency", "drop")
MAX_LATENCY_MS = 120_000
JSON = "application/json"


class ConnectionDropped(Exception):
    """Raised to drop a connection: the server (``mock_server.rsgi``) then shuts the
    connection's socket down without writing anything.

    Under Flask's test client there is no socket; the exception reaches the test instead.
    """


class FaultInvalid(ValueError):
    """A fault rule that cannot be applied; ``errors`` names each bad field (422)."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {', '.join(v)}" for k, v in errors.items()))
        self.errors = errors


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


@dataclass
class FaultRule:
    """One rule of the closed set; see the module docstring for the semantics."""

    id: str
    kind: str
    method: str = "*"
    path: str = "*"
    operation_id: str | None = None
    header: tuple[str, str | None] | None = None
    status: int | None = None
    latency_ms: tuple[float, float] | None = None
    probability: float = 1.0
    count: int | None = None
    hits: int = 0
    _path: re.Pattern[str] = field(default=re.compile(".*"), repr=False)
    _header_key: str | None = field(default=None, repr=False)

    def matches(self, method: str, path: str, environ: Mapping[str, Any],
                operation_id: str | None) -> bool:
        if self.method != "*" and method != self.method:
            return False
        if self.operation_id is not None and operation_id != self.operation_id:
            return False
        if not self._path.match(path):
            return False
        if self._header_key is not None:
            present = environ.get(self._header_key)
            if present is None:
                return False
            wanted = self.header[1] if self.header else None
            if wanted is not None and present != wanted:
                return False
        return True

    @property
    def remaining(self) -> int | None:
        return None if self.count is None else max(self.count - self.hits, 0)

    def describe(self) -> str:
        if self.kind == "status":
            return f"rule {self.id}: status {self.status}"
        if self.kind == "latency" and self.latency_ms is not None:
            low, high = self.latency_ms
            shown = f"{low:g}" if low == high else f"{low:g}-{high:g}"
            return f"rule {self.id}: latency {shown} ms"
        return f"rule {self.id}: drop"

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "method": self.method,
            "path": self.path,
            "operationId": self.operation_id,
            "header": None if self.header is None else {"name": self.header[0],
                                                        "value": self.header[1]},
            "probability": self.probability,
            "count": self.count,
            "remaining": self.remaining,
            "hits": self.hits,
        }
        if self.kind == "status":
            body["status"] = self.status
        if self.kind == "latency" and self.latency_ms is not None:
            low, high = self.latency_ms
            body["latency_ms"] = low if low == high else [low, high]
        return body


def _spec(rule: FaultRule) -> dict[str, Any]:
    """What ``FaultRules._parse`` reads back into the same rule (the log keeps this)."""
    return {key: value for key, value in rule.to_json().items()
            if key not in ("id", "remaining", "hits") and value is not None}


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class FaultRules:
    """The active rules, in the order they were added: one set for the whole fleet.

    Adding, removing and clearing are changes in the replicated state (``state.replica``),
    so every worker and replica applies the same rules with the same ids; a rule's hits are
    counted by the engine, atomically, so a rule with ``count: N`` fires N times fleet-wide.
    """

    def __init__(self, answers: SpecAnswers, replica: Replica, engine: Engine, *,
                 rng: random.Random | None = None) -> None:
        self.answers = answers
        self._replica = replica
        self._engine = engine
        self._rules: tuple[FaultRule, ...] = ()
        self._next_id = 1
        self._random = (rng or random.Random()).random
        replica.register({
            "fault_add": self._apply_add,
            "fault_remove": lambda body: self._apply_remove(body["id"]),
            "faults_clear": lambda body: self._apply_remove(None),
        })

    @property
    def active(self) -> tuple[FaultRule, ...]:
        """The rules, read on every request (a tuple replaced whole, so no lock)."""
        return self._rules

    def listed(self) -> tuple[FaultRule, ...]:
        """The rules with their fleet-wide hit counts, for the admin API."""
        rules = self._rules
        hits = self._engine.counter_values([rule.id for rule in rules])
        for rule in rules:
            rule.hits = hits.get(rule.id, rule.hits)
        return rules

    def add(self, spec: Any) -> FaultRule:
        """Validate a rule given as JSON data and add it; ``FaultInvalid`` lists every problem."""
        rule = self._parse(spec)
        with self._replica.writing():
            rule.id = f"f{self._next_id}"
            self._replica.commit([Change("fault_add", {"id": rule.id, "spec": _spec(rule)})])
        return self.get(rule.id) or rule

    def get(self, rule_id: str) -> FaultRule | None:
        return next((r for r in self.listed() if r.id == rule_id), None)

    def remove(self, rule_id: str) -> bool:
        with self._replica.writing():
            if not any(r.id == rule_id for r in self._rules):
                return False
            self._replica.commit([Change("fault_remove", {"id": rule_id})])
        return True

    def clear(self) -> int:
        with self._replica.writing():
            count = len(self._rules)
            if count:
                self._replica.commit([Change("faults_clear", {})])
        return count

    def _apply_add(self, body: Mapping[str, Any]) -> None:
        rule = self._parse(body["spec"])
        rule.id = body["id"]
        self._rules = (*self._rules, rule)
        self._next_id = max(self._next_id, int(rule.id[1:]) + 1)

    def _apply_remove(self, rule_id: str | None) -> None:
        self._rules = () if rule_id is None else tuple(
            r for r in self._rules if r.id != rule_id)

    def pick(self, method: str, path: str, environ: Mapping[str, Any],
             operation_id: str | None) -> tuple[float, FaultRule | None, list[str]]:
        """Fire the matching rules: (total delay in ms, the deciding rule, what fired)."""
        delay = 0.0
        decisive: FaultRule | None = None
        fired: list[str] = []
        for rule in self._rules:
            if rule.kind != "latency" and decisive is not None:
                continue
            if not rule.matches(method, path, environ, operation_id):
                continue
            if rule.probability < 1.0 and self._random() >= rule.probability:
                continue
            if not self._engine.counter_take(rule.id, rule.count):
                continue  # a counted rule spent, fleet-wide
            rule.hits += 1  # this process's view; ``listed`` reads the fleet's
            fired.append(rule.describe())
            if rule.kind == "latency" and rule.latency_ms is not None:
                low, high = rule.latency_ms
                delay += low if low == high else low + (high - low) * self._random()
            else:
                decisive = rule
        return delay, decisive, fired

    def _parse(self, spec: Any) -> FaultRule:
        errors: dict[str, list[str]] = {}

        def bad(name: str, message: str) -> None:
            errors.setdefault(name, []).append(message)

        if not isinstance(spec, Mapping):
            raise FaultInvalid({"body": ["a fault rule is a JSON object"]})
        known = {"kind", "method", "path", "operationId", "header", "status", "latency_ms",
                 "probability", "count"}
        for name in spec:
            if name not in known:
                bad(name, f"unknown field (known: {', '.join(sorted(known))})")
        kind = spec.get("kind")
        if kind not in FAULT_KINDS:
            bad("kind", f"one of {', '.join(FAULT_KINDS)}")
        method = spec.get("method", "*")
        if not isinstance(method, str) or not re.fullmatch(r"\*|[A-Za-z]+", method):
            bad("method", "an HTTP method or *")
            method = "*"
        path = spec.get("path", "*")
        if not isinstance(path, str) or not path or len(path) > 500:
            bad("path", "a path or glob pattern such as /activities/v1/events/*")
            path = "*"
        operation_id = spec.get("operationId")
        if operation_id is not None and operation_id not in self.answers.spec.operations:
            bad("operationId", f"no operation {operation_id!r} in openapi.yaml")
        header: tuple[str, str | None] | None = None
        raw_header = spec.get("header")
        if raw_header is not None:
            name = raw_header.get("name") if isinstance(raw_header, Mapping) else None
            value = raw_header.get("value") if isinstance(raw_header, Mapping) else None
            if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9-]+", name) or (
                    value is not None and not isinstance(value, str)):
                bad("header", '{"name": "X-Test-Case", "value": "optional exact value"}')
            else:
                header = (name, value)
        status = spec.get("status")
        if kind == "status":
            if isinstance(status, bool) or not isinstance(status, int) or (
                    status not in self.answers.error_statuses):
                documented = ", ".join(str(s) for s in sorted(self.answers.error_statuses))
                bad("status", f"an error status documented in openapi.yaml: {documented}")
        elif status is not None:
            bad("status", "only for kind status")
        latency = spec.get("latency_ms")
        bounds: tuple[float, float] | None = None
        if kind == "latency":
            if isinstance(latency, int | float) and not isinstance(latency, bool):
                bounds = (float(latency), float(latency))
            elif (isinstance(latency, list) and len(latency) == 2
                  and all(_number(v) for v in latency)):
                bounds = (float(latency[0]), float(latency[1]))
            if bounds is None or not 0 <= bounds[0] <= bounds[1] <= MAX_LATENCY_MS:
                bad("latency_ms", f"milliseconds (0..{MAX_LATENCY_MS}), or [min, max]")
        elif latency is not None:
            bad("latency_ms", "only for kind latency")
        probability = spec.get("probability", 1.0)
        if not _number(probability) or not 0 < probability <= 1:
            bad("probability", "a number in (0, 1]")
        count = spec.get("count")
        if count is not None and (isinstance(count, bool) or not isinstance(count, int)
                                  or count < 1):
            bad("count", "a positive integer, or null for no limit")
        if errors:
            raise FaultInvalid(errors)
        return FaultRule(
            id="", kind=str(kind), method=method.upper(), path=path,
            operation_id=operation_id, header=header, status=status, latency_ms=bounds,
            probability=float(probability), count=count,
            _path=re.compile(fnmatch.translate(path)),
            _header_key=None if header is None else
            "HTTP_" + header[0].upper().replace("-", "_"),
        )


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

