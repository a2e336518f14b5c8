"""The HTML report (`--report-html PATH`): one self-contained page to triage a run.

Everything is inline (styles, no script, no font, no image), so the file opens offline, from
a CI artifact or an e-mail, and shows the same words as the console: the verdict and what to
do, what was not checked, every failure (rule, citations, request as curl, response, replay
command), the checks, a coverage matrix of operations by documented status, and the links
followed. Credentials are masked everywhere on the page, not only in the curl commands.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from html import escape
from pathlib import Path

from ..results import Failure, OperationCoverage, RunReport, Status, Verdict
from .exchange import excerpt, render_curl
from .summary import (
    CHECK_COLUMNS,
    COLUMNS_LEGEND,
    check_rows,
    group_failures,
    headline,
    totals,
    what_to_do,
)

__all__ = ["render_html", "write_html"]

#: Escapes a value for the page, with credentials masked.
Show = Callable[[object], str]

_COLOURS = {Verdict.OK: "#1a7f37", Verdict.FAILED: "#cf222e", Verdict.INCOMPLETE: "#9a6700"}

_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1f2328;
background:#f6f8fa}
main{max-width:1200px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.verdict{color:#fff;padding:16px 20px;border-radius:8px;margin:16px 0}
.verdict strong{font-size:20px;display:block}
.meta{color:#57606a}
table{border-collapse:collapse;background:#fff;width:100%;margin:4px 0}
th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eaeef2}td.n{text-align:right}
.matrix td{text-align:center;min-width:36px}.matrix td.op{text-align:left;white-space:nowrap}
.seen{background:#dafbe1}.missed{background:#fff8c5;color:#9a6700}
.undoc{background:#ffebe9;color:#cf222e;font-weight:600}.na{background:#f6f8fa;color:#8c959f}
details{background:#fff;border:1px solid #d0d7de;border-left:4px solid #cf222e;
border-radius:6px;margin:10px 0;padding:8px 12px}
summary{cursor:pointer;font-weight:600}
pre{background:#f6f8fa;border:1px solid #d0d7de;padding:8px;overflow-x:auto;
white-space:pre-wrap;word-break:break-all;margin:4px 0}
dt{font-weight:600;margin-top:6px}dd{margin:0 0 0 0}
.legend span{display:inline-block;padding:0 6px;margin-right:8px;border:1px solid #d0d7de}
"""


def _mask(text: str, secrets: Mapping[str, str]) -> str:
    for value, name in sorted(secrets.items(), key=lambda item: -len(item[0])):
        if value:
            text = text.replace(value, "$" + name)
    return text


def render_html(report: RunReport, *, secrets: Mapping[str, str] | None = None,
                replay_prefix: str = "contracts run <target>") -> str:
    secrets = dict(secrets or {})

    def text(value: object) -> str:
        return escape(_mask(str(value), secrets))

    verdict = report.verdict
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Contract checks: {verdict.value}</title><style>{_STYLE}</style></head>",
        "<body><main>",
        "<h1>Contract checks</h1>",
        f"<div class='meta'>{text(report.target)}<br>selection: {text(report.selection)} · "
        f"seed {report.seed} · started {text(report.started_at)}"
        + (f"<br>command: <code>contracts {text(report.command)}</code>" if report.command
           else "") + "</div>",
        f"<div class='verdict' style='background:{_COLOURS[verdict]}'>"
        f"<strong>{text(headline(report))}</strong>"
        + "".join(f"<p>{text(advice)}</p>" for advice in what_to_do(report)) + "</div>",
        f"<p>{text(totals(report))}</p>",
    ]
    parts += [f"<p class='meta'>Note: {text(note)}</p>" for note in report.notes]
    if report.stopped_early:
        parts.append(f"<p class='meta'>Stopped early: {text(report.stopped_early)}</p>")
    groups = group_failures(report.failures)
    if groups:
        parts.append(f"<h2 id='failures'>Failures ({len(report.failures)})</h2>")
        for group in groups:
            for index, failure in enumerate((group.first, *group.others)):
                parts.append(_failure(failure, text, secrets, replay_prefix, open_=index == 0))
    if report.gaps:
        parts.append("<h2 id='not-checked'>Not checked</h2><table><tr><th>kind</th>"
                     "<th>what</th><th>why</th></tr>")
        parts += [f"<tr><td>{text(gap.kind)}</td><td>{text(gap.what)}</td>"
                  f"<td>{text(gap.why)}</td></tr>" for gap in report.gaps]
        parts.append("</table>")
    errors = [o for o in report.outcomes if o.status == Status.ERROR]
    if errors:
        parts.append("<h2 id='errors'>Could not finish</h2><table><tr><th>check</th>"
                     "<th>scope</th><th>why</th></tr>")
        parts += [f"<tr><td>{text(o.check)}</td><td>{text(o.scope)}</td>"
                  f"<td><pre>{text(o.reason)}</pre></td></tr>" for o in errors]
        parts.append("</table>")
    parts.append("<h2 id='checks'>Checks</h2><table><tr>"
                 + "".join(f"<th>{name}</th>" for name in CHECK_COLUMNS) + "</tr>")
    for row in check_rows(report.outcomes):
        cells = row.cells()
        parts.append("<tr>" + "".join(
            f"<td class='n'>{text(cell)}</td>" if 2 <= i <= 6 else f"<td>{text(cell)}</td>"
            for i, cell in enumerate(cells)) + "</tr>")
    parts.append(f"</table><p class='meta'>{text(COLUMNS_LEGEND)}</p>")
    parts.append(_matrix(report, text))
    if report.coverage.links:
        parts.append("<h2 id='links'>Links followed</h2><table><tr><th>link</th>"
                     "<th>followed</th></tr>")
        parts += [f"<tr><td>{text(link.label)}</td><td class='n "
                  f"{'seen' if link.followed else 'missed'}'>{link.followed}</td></tr>"
                  for link in report.coverage.links]
        parts.append("</table>")
    parts.append("</main></body></html>\n")
    return "".join(parts)


def _failure(failure: Failure, show: Show, secrets: Mapping[str, str], replay_prefix: str,
             *, open_: bool) -> str:
    title = failure.check + (f" on {failure.operation}" if failure.operation else "")
    first_line = (failure.message.strip().splitlines() or [""])[0]
    body = [f"<details{' open' if open_ else ''}><summary>FAILED {show(title)}: "
            f"{show(first_line)}</summary><dl>"]
    if failure.rule:
        body.append(f"<dt>Rule</dt><dd>{show(failure.rule)}</dd>")
    if failure.cites:
        body.append("<dt>Cites</dt><dd><ul>" + "".join(
            f"<li>{show(cite)}</li>" for cite in failure.cites) + "</ul></dd>")
    body.append(f"<dt>Why</dt><dd><pre>{show(failure.message.strip())}</pre></dd>")
    if failure.exchange is not None:
        exchange = failure.exchange
        body.append("<dt>Request</dt><dd><pre>"
                    f"{show(render_curl(exchange, secrets))}</pre></dd>")
        headers = "\n".join(f"{name}: {value}" for name, value in
                            exchange.response_headers.items())
        body.append(f"<dt>Response</dt><dd><pre>{exchange.status} "
                    f"{show(exchange.reason)}\n{show(headers)}\n\n"
                    f"{show(excerpt(exchange.response_body))}</pre></dd>")
    if failure.seed is not None:
        replay = f"{replay_prefix} --generation-seed {failure.seed}"
        if failure.replay:
            replay += f" {failure.replay}"
        body.append(f"<dt>Replay</dt><dd><pre>{show(replay)}</pre></dd>")
    body.append("</dl></details>")
    return "".join(body)


def _matrix(report: RunReport, show: Show) -> str:
    """Operations by status: seen (count), documented but not seen, answered undocumented."""
    operations = [op for op in report.coverage.operations if op.selected]
    codes = sorted({code for op in operations for code in op.documented}
                   | {str(code) for op in operations for code in op.undocumented},
                   key=lambda code: (len(code) != 3 or not code.isdigit(), code))
    rows = ["<h2 id='coverage'>Coverage: operations by status</h2>",
            "<p class='legend'><span class='seen'>n</span>documented, answered n times "
            "<span class='missed'>·</span>documented, never answered "
            "<span class='undoc'>n</span>answered n times, not documented "
            "<span class='na'>&nbsp;</span>not documented</p>",
            "<table class='matrix'><tr><th>operation</th><th>requests</th>"
            + "".join(f"<th>{show(code)}</th>" for code in codes) + "</tr>"]
    for op in operations:
        rows.append(f"<tr><td class='op'>{show(op.label)}</td>"
                    f"<td class='n'>{op.requests}</td>"
                    + "".join(_cell(op, code) for code in codes) + "</tr>")
    rows.append("</table>")
    summary = report.coverage.summary()
    rows.append("<p class='meta'>" + " · ".join(
        f"{name} {covered}/{total}" for name, (covered, total) in summary.items()) + "</p>")
    return "".join(rows)


def _cell(op: OperationCoverage, code: str) -> str:
    count = op.seen.get(int(code), 0) if code.isdigit() else 0
    if code in op.documented:
        return (f"<td class='seen'>{count}</td>" if code in op.documented_seen
                else "<td class='missed'>·</td>")
    if count:
        return f"<td class='undoc'>{count}</td>"
    return "<td class='na'></td>"


def write_html(report: RunReport, path: str | Path, *, secrets: Mapping[str, str] | None = None,
               replay_prefix: str = "contracts run <target>") -> None:
    Path(path).write_text(render_html(report, secrets=secrets, replay_prefix=replay_prefix),
                          encoding="utf-8")
