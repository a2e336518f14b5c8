"""Rendering a `RunReport`: console summary, failure details, coverage, JUnit XML, JSON, curl.

A failure is only useful if someone can act on it, so each one is rendered with the check, the
documented rule and where the documents state it, the request as a curl command that runs
as-is (credentials are named by environment variable, never printed), the response, and the
seed that replays it.
"""

from __future__ import annotations

import json
import shlex
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from .results import Failure, Outcome, RunReport, Status
from .target import Exchange

__all__ = [
    "Progress",
    "render_curl",
    "render_failure",
    "render_coverage",
    "render_summary",
    "to_json",
    "write_json",
    "write_junit_xml",
]

#: Headers `requests` adds on its own; a reader does not need them to replay a call.
_NOISE_HEADERS = {"user-agent", "accept-encoding", "connection", "content-length", "host",
                  "x-schemathesis-testcaseid"}
#: Response headers every server sends that say nothing about the failure.
_RESPONSE_NOISE = {"date", "server", "content-length", "connection", "keep-alive"}
_INLINE_BODY_LIMIT = 8 * 1024
_EXCERPT_LIMIT = 1200


def render_curl(exchange: Exchange, secrets: Mapping[str, str] | None = None) -> str:
    """A curl command that sends `exchange`'s request again.

    `secrets` maps credential values to environment variable names: they are rendered as
    `$CONTRACTS_TOKEN` so a report can be shared, and still runs once the variable is set.
    """
    secrets = dict(secrets or {})
    parts = ["curl", "-X", exchange.method, shlex.quote(exchange.url)]
    for name, value in exchange.request_headers.items():
        if name.lower() in _NOISE_HEADERS:
            continue
        if name.lower() == "accept" and value == "*/*":
            continue
        parts += ["-H", _quote_with_secrets(f"{name}: {value}", secrets)]
    body = exchange.request_body
    if body and len(body) > _INLINE_BODY_LIMIT:
        parts += ["--data-binary", "@request-body.bin",
                  f"  # {len(body)} bytes not inlined: save the body as request-body.bin"]
    elif body:
        text = _printable_text(body)
        if text is not None:
            parts += ["--data-raw", _quote_with_secrets(text, secrets)]
        else:
            parts += ["--data-binary", _printf_body(body)]
    return " ".join(parts)


def _printable_text(body: bytes) -> str | None:
    """The body as text when a shell can carry it in plain quotes, else None."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if all(c.isprintable() or c in "\n\t" for c in text):
        return text
    return None


def _quote_with_secrets(text: str, secrets: Mapping[str, str]) -> str:
    present = {value: name for value, name in secrets.items() if value and value in text}
    if not present:
        return shlex.quote(text)
    # Double quotes so the shell expands `${VAR}`; escape everything else they would expand.
    escaped = text
    for char in ("\\", '"', "$", "`"):
        escaped = escaped.replace(char, "\\" + char)
    for value, name in present.items():
        safe_value = value
        for char in ("\\", '"', "$", "`"):
            safe_value = safe_value.replace(char, "\\" + char)
        escaped = escaped.replace(safe_value, "${" + name + "}")
    return f'"{escaped}"'


def _printf_body(data: bytes) -> str:
    """`@<(printf '...')`: a binary body (a multipart upload) as one runnable bash argument.

    printf writes every byte back, NUL included, which a quoted shell string cannot hold.
    """
    out = []
    for byte in data:
        char = chr(byte)
        if char == "%":
            out.append("%%")
        elif char == "\\":
            out.append("\\\\")
        elif 32 <= byte < 127 and char != "'":
            out.append(char)
        else:
            out.append(f"\\x{byte:02x}")
    return "@<(printf -- '" + "".join(out) + "')"


def _excerpt(body: bytes, limit: int = _EXCERPT_LIMIT) -> str:
    if not body:
        return "<empty body>"
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return f"<{len(body)} bytes of binary data>"
    if len(text) > limit:
        return text[:limit] + f"... <{len(text) - limit} more characters>"
    return text


def render_failure(failure: Failure, *, secrets: Mapping[str, str] | None = None,
                   replay_prefix: str = "contracts run <target>") -> str:
    lines = [f"FAILED {failure.check}" + (f" on {failure.operation}" if failure.operation else "")]
    if failure.rule:
        lines.append(f"  Rule:     {failure.rule}")
    if failure.cites:
        lines.append(f"  Cites:    {'; '.join(failure.cites)}")
    message = failure.message.strip().splitlines() or [""]
    lines.append(f"  Why:      {message[0]}")
    lines += [f"            {line}" for line in message[1:] if line.strip()][:30]
    if failure.exchange is not None:
        exchange = failure.exchange
        lines.append("  Request:")
        lines.append("    " + render_curl(exchange, secrets))
        lines.append(f"  Response: {exchange.status} {exchange.reason}".rstrip())
        for name, value in exchange.response_headers.items():
            if name.lower() not in _RESPONSE_NOISE:
                lines.append(f"    {name}: {value}")
        for line in _excerpt(exchange.response_body).splitlines()[:20]:
            lines.append(f"    {line}")
    if failure.seed is not None:
        replay = f"{replay_prefix} --seed {failure.seed}"
        if failure.replay:
            replay += f" {failure.replay}"
        lines.append(f"  Replay:   {replay}")
    return "\n".join(lines)


def _table(rows: list[list[str]], header: list[str], right: set[int]) -> list[str]:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]

    def fmt(row: list[str]) -> str:
        cells = [
            str(cell).rjust(widths[i]) if i in right else str(cell).ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        return "  ".join(cells).rstrip()

    return [fmt(header), "  ".join("-" * w for w in widths), *[fmt(row) for row in rows]]


def _check_rows(outcomes: list[Outcome]) -> list[list[str]]:
    grouped: dict[tuple[str, str], list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        grouped[(outcome.kind, outcome.check)].append(outcome)
    rows = []
    for (kind, check), items in grouped.items():
        count = {status: sum(1 for o in items if o.status == status) for status in Status}
        scopes = len({o.scope for o in items})
        reason = next((o.reason for o in items if o.status == Status.SKIPPED and o.reason), "")
        rows.append([check, kind, str(scopes), str(count[Status.PASSED]),
                     str(count[Status.FAILED] + count[Status.ERROR]), str(count[Status.SKIPPED]),
                     reason])
    return rows


def render_summary(report: RunReport) -> str:
    counts = report.counts()
    lines = [
        f"Contract checks against {report.target}",
        f"selection: {report.selection} · seed {report.seed} · {report.requests} requests · "
        f"{report.duration:.1f}s",
        "",
    ]
    rows = _check_rows(report.outcomes)
    lines += _table(rows, ["check", "kind", "scopes", "passed", "failed", "skipped", "note"],
                    right={2, 3, 4, 5})
    lines.append("")
    lines.append(
        f"operations {report.operations} · checks {report.checks} · "
        f"passed {counts[Status.PASSED]} · failed {counts[Status.FAILED]} · "
        f"errors {counts[Status.ERROR]} · skipped {counts[Status.SKIPPED]}"
    )
    if report.stopped_early:
        lines.append(f"stopped early: {report.stopped_early}")
    lines.append("RESULT: " + ("OK" if report.ok else f"FAILED ({len(report.failures)} distinct "
                                                     "failures)"))
    return "\n".join(lines)


def render_coverage(report: RunReport) -> str:
    coverage = report.coverage
    summary = coverage.summary()
    lines = ["Coverage " + " · ".join(
        f"{name} {covered}/{total}" for name, (covered, total) in summary.items())]
    rows = []
    for op in coverage.operations:
        if not op.selected:
            continue
        rows.append([
            op.label, str(op.requests),
            " ".join(op.documented_seen) or "-",
            " ".join(op.documented_missed) or "-",
            " ".join(str(code) for code in op.undocumented) or "-",
        ])
    lines += _table(rows, ["operation", "requests", "responses seen", "not seen",
                           "undocumented"], right={1})
    if coverage.links:
        lines.append("")
        rows = [[link.label, str(link.followed)] for link in coverage.links]
        lines += _table(rows, ["link", "followed"], right={1})
    return "\n".join(lines)


def render_console(report: RunReport, *, secrets: Mapping[str, str] | None = None,
                   replay_prefix: str = "contracts run <target>", coverage: bool = True) -> str:
    blocks = []
    failures = report.failures
    if failures:
        blocks.append("\n\n".join(
            render_failure(f, secrets=secrets, replay_prefix=replay_prefix) for f in failures))
    errors = [o for o in report.outcomes if o.status == Status.ERROR]
    for outcome in errors:
        blocks.append(f"ERROR {outcome.check} on {outcome.scope}: {outcome.reason}")
    if coverage:
        blocks.append(render_coverage(report))
    blocks.append(render_summary(report))
    return "\n\n".join(blocks) + "\n"


def _exchange_json(exchange: Exchange | None, secrets: Mapping[str, str]) -> Any:
    if exchange is None:
        return None
    return {
        "curl": render_curl(exchange, secrets),
        "request": {"method": exchange.method, "url": exchange.url},
        "response": {
            "status": exchange.status,
            "reason": exchange.reason,
            "headers": exchange.response_headers,
            "body_excerpt": _excerpt(exchange.response_body),
        },
    }


def to_json(report: RunReport, *, secrets: Mapping[str, str] | None = None) -> dict[str, Any]:
    secrets = dict(secrets or {})
    counts = report.counts()
    return {
        "target": report.target,
        "selection": report.selection,
        "seed": report.seed,
        "started_at": report.started_at,
        "duration_seconds": round(report.duration, 3),
        "requests": report.requests,
        "ok": report.ok,
        "stopped_early": report.stopped_early or None,
        "summary": {
            "operations": report.operations,
            "checks": report.checks,
            **{status.value: counts[status] for status in Status},
        },
        "outcomes": [
            {
                "check": o.check, "kind": o.kind, "scope": o.scope, "status": o.status.value,
                "rule": o.rule, "cites": list(o.cites), "reason": o.reason or None,
                "duration_seconds": round(o.duration, 3), "examples": o.examples,
                "failures": len(o.failures),
            }
            for o in report.outcomes
        ],
        "failures": [
            {
                "check": f.check, "operation": f.operation, "rule": f.rule,
                "cites": list(f.cites), "message": f.message, "seed": f.seed,
                "replay": f.replay or None, **(_exchange_json(f.exchange, secrets) or {}),
            }
            for f in report.failures
        ],
        "coverage": {
            "summary": {k: {"covered": c, "total": t}
                        for k, (c, t) in report.coverage.summary().items()},
            "operations": [
                {
                    "operation_id": op.operation_id, "operation": op.label,
                    "selected": op.selected, "requests": op.requests,
                    "statuses_seen": {str(k): v for k, v in sorted(op.seen.items())},
                    "documented_seen": op.documented_seen,
                    "documented_not_seen": op.documented_missed,
                    "undocumented_seen": op.undocumented,
                }
                for op in report.coverage.operations
            ],
            "links": [
                {"link": link.label, "source": link.source, "name": link.name,
                 "target": link.target, "followed": link.followed}
                for link in report.coverage.links
            ],
            "other_requests": report.coverage.other_requests,
        },
    }


def write_json(report: RunReport, path: str | Path, *,
               secrets: Mapping[str, str] | None = None) -> None:
    Path(path).write_text(json.dumps(to_json(report, secrets=secrets), indent=2) + "\n",
                          encoding="utf-8")


def write_junit_xml(report: RunReport, path: str | Path, *,
                    secrets: Mapping[str, str] | None = None,
                    replay_prefix: str = "contracts run <target>") -> None:
    """One `<testsuite>` per kind of check, one `<testcase>` per check and scope."""
    suites = ET.Element("testsuites", name="contracts", time=f"{report.duration:.3f}")
    by_kind: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in report.outcomes:
        by_kind[outcome.kind].append(outcome)
    for kind, outcomes in by_kind.items():
        counts = {status: sum(1 for o in outcomes if o.status == status) for status in Status}
        suite = ET.SubElement(
            suites, "testsuite", name=f"contracts.{kind}", tests=str(len(outcomes)),
            failures=str(counts[Status.FAILED]), errors=str(counts[Status.ERROR]),
            skipped=str(counts[Status.SKIPPED]),
            time=f"{sum(o.duration for o in outcomes):.3f}",
        )
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="seed", value=str(report.seed))
        ET.SubElement(props, "property", name="target", value=report.target)
        for outcome in outcomes:
            case = ET.SubElement(suite, "testcase", classname=f"contracts.{kind}.{outcome.check}",
                                 name=outcome.scope, time=f"{outcome.duration:.3f}")
            if outcome.status == Status.FAILED:
                first = outcome.failures[0] if outcome.failures else None
                element = ET.SubElement(
                    case, "failure",
                    message=(first.message.strip().splitlines() or [""])[0] if first else "",
                    type=outcome.check,
                )
                element.text = "\n\n".join(
                    render_failure(f, secrets=secrets, replay_prefix=replay_prefix)
                    for f in outcome.failures
                )
            elif outcome.status == Status.ERROR:
                ET.SubElement(case, "error", message=outcome.reason[:500]).text = outcome.reason
            elif outcome.status == Status.SKIPPED:
                ET.SubElement(case, "skipped", message=outcome.reason)
    ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)


class Progress:
    """A live one-line status on stderr while a run goes on (only on a TTY, or when asked).

    Updates are throttled so a fast local target is not slowed down by terminal writes.
    """

    def __init__(self, stream: TextIO | None = None, *, enabled: bool | None = None,
                 interval: float = 0.1) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.interval = interval
        self.started = time.monotonic()
        self._last = 0.0
        self._lock = threading.Lock()
        self.phase = "starting"
        self.done = 0
        self.total = 0
        self.requests = 0
        self.failures = 0
        self._width = 0

    def update(self, *, phase: str | None = None, done: int | None = None,
               total: int | None = None, failures: int | None = None,
               requests: int | None = None, force: bool = False) -> None:
        with self._lock:
            if phase is not None:
                self.phase = phase
            if done is not None:
                self.done = done
            if total is not None:
                self.total = total
            if failures is not None:
                self.failures = failures
            if requests is not None:
                self.requests = requests
            self._render(force)

    def on_request(self, request: Any, response: Any, count: int) -> None:
        """Journal listener: keep the request count of the line current."""
        self.update(requests=count)

    def _render(self, force: bool) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        line = (f"[contracts] {self.phase} {self.done}/{self.total} · "
                f"{self.requests} requests · {self.failures} failed · {now - self.started:.1f}s")
        padding = max(self._width - len(line), 0)
        self._width = len(line)
        self.stream.write("\r" + line + " " * padding)
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
