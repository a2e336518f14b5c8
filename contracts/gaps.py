"""What a run should have exercised and did not: the gaps that make a verdict INCOMPLETE.

A check that "passed" without reaching what it checks says nothing, so thin coverage is
named instead of hidden:

- a check skipped for something the run lacked (a second user's token, a time budget spent,
  no data to work on), as opposed to one the run's own choices leave out (`--read-only`, the
  selection of operations), which is `Outcome.deselected` and no gap;
- a shape phase that sent nothing to an operation it had work for (the budget ran out);
- an operation of the shape phases never called, or never answered its documented success
  status (every shape check "passes" on an operation that only ever answered 404);
- a link of the spec followed 0 times by a run that follows links (the stateful phase).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from .results import Gap, Outcome, RunReport, Status
from .shape_schema import SHAPE_PHASES

__all__ = ["find_gaps"]


def find_gaps(report: RunReport, *, phases: Iterable[str], shape_ran: bool,
              unreached: dict[tuple[str, str], str], read_only: bool) -> list[Gap]:
    """The gaps of a finished run (its outcomes and coverage), most specific first."""
    phases = tuple(phases)
    gaps = _check_gaps(report.outcomes)
    gaps += [Gap("phase", f"{phase} phase on {label}", why)
             for (label, phase), why in sorted(unreached.items(),
                                               key=lambda item: (item[0][1], item[0][0]))]
    if shape_ran and any(phase in SHAPE_PHASES for phase in phases):
        for op in report.coverage.operations:
            if not op.selected:
                continue
            if not op.requests:
                gaps.append(Gap("operation", op.label, "never called"))
            elif op.success_missed:
                seen = " ".join(str(code) for code in sorted(op.seen)) or "nothing"
                gaps.append(Gap("status", f"{op.label} {' '.join(op.success_missed)}",
                                f"documented success never answered (answered {seen})"))
    if "stateful" in phases and not read_only:
        gaps += [Gap("link", link.label, "followed 0 times")
                 for link in report.coverage.links if not link.followed]
    return gaps


def _check_gaps(outcomes: list[Outcome]) -> list[Gap]:
    """Skipped checks: one gap per behaviour check, and one per group of shape checks that
    were skipped on the same operations for the same reason (usually all of them)."""
    scopes: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for outcome in outcomes:
        if outcome.status == Status.SKIPPED and not outcome.deselected:
            scopes[(outcome.kind, outcome.check, outcome.reason or "skipped")].append(
                outcome.scope)
    gaps = []
    shape: dict[tuple[tuple[str, ...], str], list[str]] = defaultdict(list)
    for (kind, check, why), where in scopes.items():
        if kind == "behaviour":
            gaps.append(Gap("check", check, why))
        else:
            shape[(tuple(where), why)].append(check)
    for (where, why), checks in shape.items():
        named = checks[0] if len(checks) == 1 else f"{len(checks)} shape checks ({checks[0]}, ...)"
        gaps.append(Gap("check", f"{named} on {_listed(list(where))}", why))
    return gaps


def _listed(labels: list[str], limit: int = 3) -> str:
    if len(labels) <= limit:
        return ", ".join(labels)
    return ", ".join(labels[:limit]) + f" and {len(labels) - limit} more"
