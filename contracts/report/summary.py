"""What every rendering says first: the verdict, what to do about it, the counts, the groups.

Shared by the console, JSON and HTML reports so they agree word for word, and so the failed
and error counts of the check table agree with the footer's.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from ..results import Failure, Outcome, RunReport, Status, Verdict

__all__ = [
    "CHECK_COLUMNS",
    "COLUMNS_LEGEND",
    "CheckRow",
    "FailureGroup",
    "check_rows",
    "group_failures",
    "headline",
    "totals",
    "what_to_do",
]

CHECK_COLUMNS = ("check", "kind", "scopes", "passed", "failed", "errors", "skipped", "note")
COLUMNS_LEGEND = (
    "scopes: where a check ran, an operation for a shape check (schemathesis), the check's "
    "own scenario for a behaviour check; passed, failed, errors and skipped count scopes "
    "(errors: the check could not finish; note: why a scope was skipped)."
)


@dataclass(frozen=True)
class CheckRow:
    check: str
    kind: str
    scopes: int
    passed: int
    failed: int
    errors: int
    skipped: int
    note: str

    def cells(self) -> list[str]:
        return [self.check, self.kind, str(self.scopes), str(self.passed), str(self.failed),
                str(self.errors), str(self.skipped), self.note]


def check_rows(outcomes: list[Outcome]) -> list[CheckRow]:
    grouped: dict[tuple[str, str], list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        grouped[(outcome.kind, outcome.check)].append(outcome)
    rows = []
    for (kind, check), items in grouped.items():
        count = {status: sum(1 for o in items if o.status == status) for status in Status}
        note = next((o.reason for o in items if o.status == Status.SKIPPED and o.reason), "")
        rows.append(CheckRow(check, kind, len({o.scope for o in items}), count[Status.PASSED],
                             count[Status.FAILED], count[Status.ERROR], count[Status.SKIPPED],
                             note))
    return rows


def totals(report: RunReport) -> str:
    """The footer: the same counts as the table's columns, summed."""
    counts = report.counts()
    return (f"operations {report.operations} · checks {report.checks} · scopes passed "
            f"{counts[Status.PASSED]} · failed {counts[Status.FAILED]} · errors "
            f"{counts[Status.ERROR]} · skipped {counts[Status.SKIPPED]} · {report.requests} "
            f"requests in {report.duration:.1f}s ({report.requests_per_second:.0f} requests/s)")


def headline(report: RunReport) -> str:
    """`RESULT: ...`, the first and the last line of the console report."""
    verdict = report.verdict
    counts = report.counts()
    if verdict == Verdict.FAILED:
        failed = {o.check for o in report.outcomes if o.status == Status.FAILED}
        broke = {o.check for o in report.outcomes if o.status == Status.ERROR}
        parts = []
        if failed:
            parts.append(f"{len(failed)} check(s) failed ({len(report.failures)} distinct "
                         "failures)")
        if broke:
            parts.append(f"{len(broke)} check(s) could not finish "
                         f"({counts[Status.ERROR]} errors)")
        text = " and ".join(parts)
    elif verdict == Verdict.INCOMPLETE:
        text = f"nothing failed, but {len(report.gaps)} thing(s) were not checked"
    else:
        text = (f"every selected check ran and passed ({report.checks} checks, "
                f"{report.operations} operations)")
    return f"RESULT: {verdict.value} (exit {report.exit_code}): {text}"


def what_to_do(report: RunReport) -> list[str]:
    verdict = report.verdict
    if verdict == Verdict.OK:
        return []
    advice = []
    if report.failures:
        advice.append("Each FAILED block names the rule broken, where the documents state "
                      "it, the request as a curl command and the answer; its Replay command "
                      "runs that check again with the same seed. Fix the deployment, or tell "
                      "the kit's maintainers if the rule itself is wrong.")
    if any(o.status == Status.ERROR for o in report.outcomes):
        advice.append("ERROR lines are checks that could not finish (the target stopped "
                      "answering, or a bug in the check): they prove nothing either way.")
    if report.gaps:
        advice.append("What was not checked is listed below with the reason: give what is "
                      "missing (a second user's token: --other-token), raise --time-budget or "
                      "--max-examples, or narrow the run (--check, --path) to what you mean "
                      "to check.")
    return advice


@dataclass
class FailureGroup:
    """Failures of one check that say the same thing (on several operations, or values)."""

    first: Failure
    others: list[Failure] = field(default_factory=list)

    @property
    def operations(self) -> list[str]:
        seen: list[str] = []
        for failure in (self.first, *self.others):
            if failure.operation and failure.operation not in seen:
                seen.append(failure.operation)
        return seen


_VARYING = re.compile(r"'[^']*'|\"[^\"]*\"|\d+")


def _gist(failure: Failure) -> tuple[str, str]:
    first_line = (failure.message.strip().splitlines() or [""])[0]
    return failure.check, _VARYING.sub("_", first_line)


def group_failures(failures: list[Failure]) -> list[FailureGroup]:
    """Near-identical failures (same check, same message but for values) shown once."""
    groups: dict[tuple[str, str], FailureGroup] = {}
    for failure in failures:
        key = _gist(failure)
        if key in groups:
            groups[key].others.append(failure)
        else:
            groups[key] = FailureGroup(failure)
    return list(groups.values())
