"""The console report: failures, coverage tables and the summary, as plain text."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from ..results import Failure, Outcome, RunReport, Status
from .exchange import excerpt, render_curl

__all__ = ["render_console", "render_coverage", "render_failure", "render_summary"]

#: Response headers every server sends that say nothing about the failure.
_RESPONSE_NOISE = {"date", "server", "content-length", "connection", "keep-alive"}


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
        for line in excerpt(exchange.response_body).splitlines()[:20]:
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

