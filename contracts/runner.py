"""One run: shape checks, then behaviour checks, then the coverage view, as a `RunReport`.

The library entry point is `run(target, ...)`; the CLI and the pytest plugin only build its
arguments. Order matters: shape phases first (they fuzz, and may leave odd data behind),
behaviour checks after, each working in its own corner (isolated points, its own events).
"""

from __future__ import annotations

import json
import random
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests

from .behaviour import REGISTRY, BehaviourCheck, CheckContext, SkipCheck, Violation
from .report import Progress
from .results import (
    Coverage,
    Failure,
    LinkCoverage,
    OperationCoverage,
    Outcome,
    RunReport,
    Status,
)
from .shape import ShapeOptions, ShapeRunner
from .shape_schema import SHAPE_PHASES
from .spec import LinkTracker, Selection, Spec
from .target import Target
from .tokens import TokenCommandError

__all__ = ["ALL_PHASES", "RunOptions", "TargetUnreachable", "run", "run_behaviour_check"]

#: Shape phases, then `behaviour` (the named checks of the `behaviour` package).
ALL_PHASES: tuple[str, ...] = (*SHAPE_PHASES, "behaviour")
#: Share of `--time-budget` the shape phases may use when behaviour checks follow.
SHAPE_SHARE = 0.6


class TargetUnreachable(RuntimeError):
    """The target did not answer at all (wrong URL, server down); nothing was checked."""


@dataclass
class RunOptions:
    """How much to do. Defaults keep a full run against the local mock well under 2 minutes."""

    seed: int | None = None
    max_examples: int = 10
    time_budget: float | None = None
    workers: int = 1
    phases: tuple[str, ...] = ALL_PHASES
    #: Only these checks (schemathesis or behaviour names); empty: all.
    checks: tuple[str, ...] = ()
    exclude_checks: tuple[str, ...] = ()
    coverage_cases: int | None = None
    progress: Progress | None = None
    #: Shown in replay hints: how to point `contracts run` at this target.
    replay_prefix: str = "contracts run <target>"

    def __post_init__(self) -> None:
        unknown = [phase for phase in self.phases if phase not in ALL_PHASES]
        if unknown:
            raise ValueError(f"unknown phase(s) {unknown}; expected some of {ALL_PHASES}")
        if self.max_examples < 1:
            raise ValueError("max_examples must be at least 1")
        if self.workers < 1:
            raise ValueError("workers must be at least 1")


def run(target: Target, *, spec: Spec | None = None, selection: Selection | None = None,
        options: RunOptions | None = None) -> RunReport:
    """Check `target` against the contract and answer what was found.

    Raises `TargetUnreachable` when the target does not answer, and `TokenCommandError`
    when `--token-command` fails: both mean nothing could be checked, which is not a pass.
    """
    spec = spec or Spec.load()
    selection = selection or Selection(read_only=target.read_only)
    if target.read_only and not selection.read_only:
        selection = Selection(apis=selection.apis, tags=selection.tags,
                              methods=selection.methods, path_patterns=selection.path_patterns,
                              read_only=True)
    options = options or RunOptions()
    seed = options.seed if options.seed is not None else random.SystemRandom().randrange(1, 2**31)
    progress = options.progress or Progress(enabled=False)
    links = LinkTracker(spec)
    observer = _link_observer(spec, target, links)
    target.journal.listeners += [progress.on_request, observer]
    started = time.monotonic()
    report = RunReport(target=target.describe(), selection=selection.describe(), seed=seed,
                       started_at=datetime.now(UTC).isoformat(timespec="seconds"))
    try:
        _preflight(target)
        deadline = started + options.time_budget if options.time_budget else None
        wants_behaviour = "behaviour" in options.phases
        shape_phases = tuple(p for p in options.phases if p in SHAPE_PHASES)
        if shape_phases:
            shape_deadline = deadline
            if deadline is not None and wants_behaviour:
                shape_deadline = started + options.time_budget * SHAPE_SHARE  # type: ignore[operator]
            shape_names = _shape_names(options)
            if shape_names is None or shape_names:
                shape = ShapeRunner(spec, target, selection, ShapeOptions(
                    seed=seed, max_examples=options.max_examples, phases=shape_phases,
                    coverage_cases=options.coverage_cases, workers=options.workers,
                    deadline=shape_deadline, checks=shape_names,
                ), progress=progress)
                report.outcomes += shape.run()
        if wants_behaviour:
            checks = _select_behaviour(options)
            report.outcomes += _run_behaviour(checks, target, spec, selection, seed, options,
                                              deadline, progress, report)
        if deadline is not None and time.monotonic() >= deadline:
            report.stopped_early = f"time budget of {options.time_budget:g}s spent"
        report.coverage = _coverage(spec, selection, target, links.followed)
    finally:
        progress.finish()
        for listener in (progress.on_request, observer):
            if listener in target.journal.listeners:
                target.journal.listeners.remove(listener)
    report.requests = len(target.journal)
    report.duration = time.monotonic() - started
    return report


def run_behaviour_check(check: BehaviourCheck | str, target: Target, *, spec: Spec | None = None,
                        selection: Selection | None = None, seed: int = 0,
                        max_examples: int = 10, deadline: float | None = None) -> Outcome:
    """Run one behaviour check and answer its outcome (what the pytest plugin calls)."""
    if isinstance(check, str):
        check = REGISTRY[check]
    spec = spec or Spec.load()
    selection = selection or Selection(read_only=target.read_only)
    reason = check.skip_reason(target, spec, selection)
    if reason is not None:
        return Outcome(check=check.name, kind="behaviour", status=Status.SKIPPED,
                       scope=check.name, rule=check.rule, cites=check.cites, reason=reason)
    ctx = CheckContext(target=target, spec=spec, check=check, seed=seed,
                       max_examples=max_examples, deadline=deadline, selection=selection)
    started = time.monotonic()
    outcome = Outcome(check=check.name, kind="behaviour", status=Status.PASSED, scope=check.name,
                      rule=check.rule, cites=check.cites)
    try:
        check.func(ctx)
    except SkipCheck as skip:
        outcome.status, outcome.reason = Status.SKIPPED, skip.reason
    except Violation as violation:
        outcome.status = Status.FAILED
        outcome.failures.append(Failure(
            check=check.name, rule=check.rule, message=violation.message, cites=check.cites,
            operation=violation.operation, exchange=violation.exchange, seed=seed,
            replay=f"--phases behaviour --check {check.name}",
        ))
    except (requests.RequestException, TokenCommandError) as exc:
        outcome.status, outcome.reason = Status.ERROR, f"{type(exc).__name__}: {exc}"
    except Exception as exc:  # a bug in a check must be visible, not a silent pass
        outcome.status = Status.ERROR
        outcome.reason = "".join(traceback.format_exception_only(exc)).strip()
        outcome.reason += "\n" + "".join(traceback.format_tb(exc.__traceback__)[-3:])
    finally:
        try:
            ctx.cleanup()
        except Exception:  # noqa: S110 - cleanup is best effort
            pass
    if outcome.status == Status.PASSED and deadline is not None and ctx.examples == 0:
        outcome.status, outcome.reason = Status.SKIPPED, "time budget exhausted"
    outcome.duration = time.monotonic() - started
    outcome.examples = ctx.examples
    return outcome


def _preflight(target: Target) -> None:
    try:
        if target.token is not None:
            target.token.current()
        if target.other_token is not None:
            target.other_token.current()
        target.request("GET", "activities", "/v1/events",
                       params={"latitude": 50.62925, "longitude": 3.057256}, user=None)
    except requests.ConnectionError as exc:
        raise TargetUnreachable(f"cannot reach {target.activities_url}: {exc}") from exc


def _shape_names(options: RunOptions) -> frozenset[str] | None:
    """Schemathesis checks to run: None for all; an empty set when --check names only
    behaviour checks (the shape phases are then skipped)."""
    from .shape_schema import SHAPE_RULES

    excluded = set(options.exclude_checks)
    if not options.checks:
        return frozenset(set(SHAPE_RULES) - excluded) if excluded else None
    return frozenset(name for name in options.checks if name not in REGISTRY) - excluded


def _select_behaviour(options: RunOptions) -> list[BehaviourCheck]:
    chosen = []
    for check in REGISTRY:
        if options.checks and check.name not in options.checks:
            continue
        if check.name in options.exclude_checks:
            continue
        chosen.append(check)
    return chosen


def _run_behaviour(checks: list[BehaviourCheck], target: Target, spec: Spec,
                   selection: Selection, seed: int, options: RunOptions, deadline: float | None,
                   progress: Progress, report: RunReport) -> list[Outcome]:
    if not checks:
        return []
    progress.update(phase="behaviour", done=0, total=len(checks), force=True)
    done = 0
    failures = sum(len(o.failures) for o in report.outcomes)
    outcomes: list[Outcome] = []

    def one(check: BehaviourCheck) -> Outcome:
        if deadline is not None and time.monotonic() >= deadline:
            return Outcome(check=check.name, kind="behaviour", status=Status.SKIPPED,
                           scope=check.name, rule=check.rule, cites=check.cites,
                           reason="time budget exhausted")
        return run_behaviour_check(check, target, spec=spec, selection=selection, seed=seed,
                                   max_examples=options.max_examples, deadline=deadline)

    # One check at a time: each drives hypothesis, which is not thread-safe, and several
    # watch lists that a concurrent check could change under them.
    for check in checks:
        outcome = one(check)
        outcomes.append(outcome)
        done += 1
        failures += len(outcome.failures)
        progress.update(done=done, failures=failures)
    return outcomes


def _link_observer(spec: Spec, target: Target,
                   links: LinkTracker) -> Callable[[Any, Any, int], None]:
    """A journal listener feeding every exchange of the run to the link tracker."""
    sources = {link.source for link in spec.links}
    targets = {link.target for link in spec.links}

    def observe(request: Any, response: Any, count: int) -> None:
        located = target.split(request.url or "")
        if located is None:
            return
        operation = spec.match(request.method or "GET", *located)
        if operation is None or operation.operation_id not in sources | targets:
            return
        request_body = response_body = None
        if operation.operation_id in sources:
            request_body = _json_or_none(request.body)
            response_body = _json_or_none(response.content)
        links.observe(operation, located[1], response.status_code, request_body, response_body)

    return observe


def _json_or_none(body: Any) -> Any:
    if not body or not isinstance(body, (bytes, str)) or len(body) > 1_000_000:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def _coverage(spec: Spec, selection: Selection, target: Target,
              links_followed: dict[tuple[str, str, str], int]) -> Coverage:
    selected = {op.operation_id for op in spec.select(selection)}
    operations = {
        op.operation_id: OperationCoverage(operation_id=op.operation_id, label=op.label,
                                           documented=op.statuses,
                                           selected=op.operation_id in selected)
        for op in spec.operations
    }
    other = 0
    for method, url, status in target.journal.snapshot():
        located = target.split(url)
        operation = spec.match(method, *located) if located is not None else None
        if operation is None:
            other += 1
            continue
        seen = operations[operation.operation_id].seen
        seen[status] = seen.get(status, 0) + 1
    links = [
        LinkCoverage(label=link.label, source=link.source, name=link.name, target=link.target,
                     followed=links_followed.get((link.source, link.name, link.target), 0))
        for link in spec.links
        if link.source in selected and link.target in selected
    ]
    return Coverage(operations=list(operations.values()), links=links, other_requests=other)
