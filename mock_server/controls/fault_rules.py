"""The fault rules: a closed set of kinds, matched per request, one set for the whole fleet.

See ``controls.faults`` for what each kind does; this module holds the rules themselves, their
validation, and their replication through the state (``state.replica``).
"""

from __future__ import annotations

import fnmatch
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mock_server.controls.spec_answers import SpecAnswers
from mock_server.state.engine import Engine
from mock_server.state.replica import Change, Replica

FAULT_KINDS = ("status", "latency", "drop")
MAX_LATENCY_MS = 120_000


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
