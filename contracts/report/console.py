"""The console report, as plain text: the verdict and what to do first, then the details.

Order: `RESULT: ...` and advice; what was not checked (gaps); each failure (near-identical
ones once, naming the other operations); errors; the coverage tables; the check table with
its legend; the totals; `RESULT: ...` again, as the last line a CI log shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from textwrap import wrap

from ..results import Failure, RunReport, Status
from .exchange import excerpt, render_curl
from .summary import (
    CHECK_COLUMNS,
    COLUMNS_LEGEND,
    FailureGroup,
    check_rows,
    group_failures,
    headline,
    totals,
    what_to_do,
)

__all__ = [
    "render_console",
    "render_coverage",
    "render_failure",
    "render_summary",
    "render_verdict",
]

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
        replay = f"{replay_prefix} --generation-seed {failure.seed}"
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


def render_summary(report: RunReport) -> str:
    lines = [
        f"Contract checks against {report.target}",
        f"selection: {report.selection} · seed {report.seed} · {report.requests} requests · "
        f"{report.duration:.1f}s · {report.requests_per_second:.0f} requests/s",
        "",
    ]
    rows = [row.cells() for row in check_rows(report.outcomes)]
    lines += _table(rows, list(CHECK_COLUMNS), right={2, 3, 4, 5, 6})
    lines += ["", *wrap(COLUMNS_LEGEND, 100), "", totals(report)]
    if report.stopped_early:
        lines.append(f"stopped early: {report.stopped_early}")
    lines.append(headline(report))
    return "\n".join(lines)


def render_verdict(report: RunReport) -> str:
    """The opening block: the verdict, what to do, what was not checked, the run's notes."""
    lines = [headline(report)]
    for advice in what_to_do(report):
        lines += wrap(advice, 100, initial_indent="  ", subsequent_indent="  ")
    if report.gaps:
        lines.append("Not checked:")
        lines += [f"  - {gap.kind} {gap.what}: {gap.why}" for gap in report.gaps]
    lines += [f"Note: {note}" for note in report.notes]
    return "\n".join(lines)


def _render_group(group: FailureGroup, *, secrets: Mapping[str, str] | None,
                  replay_prefix: str) -> str:
    text = render_failure(group.first, secrets=secrets, replay_prefix=replay_prefix)
    if group.others:
        elsewhere = [op for op in group.operations if op != group.first.operation]
        where = f" (also on {', '.join(elsewhere)})" if elsewhere else ""
        text += (f"\n  And:      {len(group.others)} more failure(s) of this check saying the "
                 f"same with other values{where}; every one is in --report-json/--report-html")
    return text


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
    blocks = [render_verdict(report)]
    groups = group_failures(report.failures)
    if groups:
        blocks.append("\n\n".join(
            _render_group(group, secrets=secrets, replay_prefix=replay_prefix)
            for group in groups))
    for outcome in (o for o in report.outcomes if o.status == Status.ERROR):
        blocks.append(f"ERROR {outcome.check} on {outcome.scope}: {outcome.reason}")
    if coverage:
        blocks.append(render_coverage(report))
    blocks.append(render_summary(report))
    return "\n\n".join(blocks) + "\n"
