"""One run: credentials first, then shape checks, behaviour checks, coverage and the verdict.

The library entry point is `run(target, ...)`; the CLI and the pytest plugin only build its
arguments. Order matters: the target must accept our credentials before anything counts
(a refused key would otherwise "pass" every check with 401s); shape phases come next (they
fuzz, and may leave odd data behind), behaviour checks after, each in its own corner
(isolated points, its own events). Within a phase the work runs on `workers` threads that
take turns (`concurrency.py`), so a distant target's latency overlaps.

What the run could not exercise (a skipped check, a phase cut short by the budget, an
operation never answered its documented success, a link never followed) is collected as
gaps (`gaps.py`), which make the verdict INCOMPLETE rather than OK.
"""

from __future__ import annotations

import json
import random
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import requests

from .behaviour import REGISTRY, BehaviourCheck, CheckContext, SkipCheck, Violation
from .concurrency import run_in_turns
from .gaps import find_gaps
from .preflight import CredentialsRefused, TargetUnreachable, check_credentials
from .report import Progress
from .results import Coverage, Failure, LinkCoverage, OperationCoverage, Outcome, RunReport, Status
from .shape import ShapeOptions, ShapeRunner
from .shape_schema import SHAPE_PHASES
from .spec import LinkTracker, Selection, Spec
from .target import Target
from .tokens import TokenCommandError

__all__ = [
    "ALL_PHASES",
    "CredentialsRefused",
    "RunOptions",
    "TargetUnreachable",
    "run",
    "run_behaviour_check",
]

#: Shape phases, then `behaviour` (the named checks of the `behaviour` package).
ALL_PHASES: tuple[str, ...] = (*SHAPE_PHASES, "behaviour")
#: Share of `--time-budget` the shape phases may use when behaviour checks follow.
SHAPE_SHARE = 0.6
#: Threads a run sends from by default: enough to hide a staging host's 20-50 ms.
DEFAULT_WORKERS = 8


@dataclass
class RunOptions:
    """How much to do. The defaults cover every operation in every phase, and run in about
    15 s against the local mock (30 s at most) and within 90 s at 20 ms of added latency."""

    seed: int | None = None
    max_examples: int = 10
    time_budget: float | None = None
    workers: int = DEFAULT_WORKERS
    phases: tuple[str, ...] = ALL_PHASES
    #: Only these checks (schemathesis or behaviour names); empty: all.
    checks: tuple[str, ...] = ()
    exclude_checks: tuple[str, ...] = ()
    coverage_cases: int | None = None
    progress: Progress | None = None
    #: Shown in replay hints: how to point `contracts run` at this target.
    replay_prefix: str = "contracts run <target>"
    #: Against our mock with its admin API on, get the tokens that were not given for two
    #: fixture users (`mock_users.py`); `--no-mock-users` turns it off.
    mock_users: bool = True
    admin_key: str | None = None

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

    Raises `TargetUnreachable` when the target does not answer, `CredentialsRefused` when it
    refuses our API key or a token, and `TokenCommandError` when `--token-command` fails:
    each means nothing could be checked, which is not a pass.
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
    started = time.monotonic()
    report = RunReport(target=target.describe(), selection=selection.describe(), seed=seed,
                       started_at=datetime.now(UTC).isoformat(timespec="seconds"))
    report.notes += check_credentials(target, mock_users=options.mock_users,
                                      admin_key=options.admin_key)
    target.journal.listeners += [progress.on_request, observer]
    shape: ShapeRunner | None = None
    try:
        deadline = started + options.time_budget if options.time_budget else None
        wants_behaviour = "behaviour" in options.phases
        shape_phases = tuple(p for p in options.phases if p in SHAPE_PHASES)
        shape_names = _shape_names(options)
        if shape_phases and (shape_names is None or shape_names):
            shape_deadline = deadline
            if deadline is not None and wants_behaviour:
                shape_deadline = started + options.time_budget * SHAPE_SHARE  # type: ignore[operator]
            shape = ShapeRunner(spec, target, selection, ShapeOptions(
                seed=seed, max_examples=options.max_examples, phases=shape_phases,
                coverage_cases=options.coverage_cases, workers=options.workers,
                deadline=shape_deadline, checks=shape_names,
            ), progress=progress)
            report.outcomes += shape.run()
        if wants_behaviour:
            report.outcomes += _run_behaviour(_select_behaviour(options), target, spec,
                                              selection, seed, options, deadline, progress)
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
    report.gaps = find_gaps(report, phases=options.phases, shape_ran=shape is not None,
                            unreached=shape.unreached if shape is not None else {},
                            read_only=selection.read_only)
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
                       scope=check.name, rule=check.rule, cites=check.cites, reason=reason,
                       deselected=check.deselected_by(target, spec, selection) is not None)
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
        outcome.reason = _crash(exc)
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


def _crash(exc: BaseException) -> str:
    """What went wrong, and where in the kit: one line and the kit's innermost frame."""
    reason = "".join(traceback.format_exception_only(exc)).strip().splitlines()[-1]
    frames = [frame for frame in traceback.extract_tb(exc.__traceback__)
              if "/contracts/" in frame.filename]
    if frames:
        frame = frames[-1]
        reason += f" (at {frame.filename.rsplit('/contracts/', 1)[-1]}:{frame.lineno})"
    return reason


def _shape_names(options: RunOptions) -> frozenset[str] | None:
    """Schemathesis checks to run: None for all; an empty set when --check names only
    behaviour checks (the shape phases are then skipped)."""
    from .shape_schema import SHAPE_RULES

    excluded = set(options.exclude_checks)
    if not options.checks:
        return frozenset(set(SHAPE_RULES) - excluded) if excluded else None
    return frozenset(name for name in options.checks if name not in REGISTRY) - excluded


def _select_behaviour(options: RunOptions) -> list[BehaviourCheck]:
    return [check for check in REGISTRY
            if (not options.checks or check.name in options.checks)
            and check.name not in options.exclude_checks]


def _run_behaviour(checks: list[BehaviourCheck], target: Target, spec: Spec,
                   selection: Selection, seed: int, options: RunOptions, deadline: float | None,
                   progress: Progress) -> list[Outcome]:
    """The behaviour checks, side by side on the workers, each in its own corner.

    Each check keeps the order of its own requests; checks do not watch what others change
    (each writes at its own isolated point, on its own events, and identifies what it looks
    for by id or by a title of its own).
    """
    if not checks:
        return []
    progress.update(phase="behaviour", done=0, total=len(checks), force=True)
    done = 0
    failures = 0

    def one(check: BehaviourCheck, check_deadline: float | None) -> Outcome:
        nonlocal done, failures
        if check_deadline is not None and time.monotonic() >= check_deadline:
            outcome = Outcome(check=check.name, kind="behaviour", status=Status.SKIPPED,
                              scope=check.name, rule=check.rule, cites=check.cites,
                              reason="time budget exhausted")
        else:
            outcome = run_behaviour_check(check, target, spec=spec, selection=selection,
                                          seed=seed, max_examples=options.max_examples,
                                          deadline=check_deadline)
        done += 1
        failures += len(outcome.failures)
        progress.update(done=done, failures=failures)
        return outcome

    # The longest checks first, so they do not end the phase alone.
    ordered = sorted(checks, key=lambda check: not check.long_running)
    outcomes = run_in_turns([partial(one, check) for check in ordered],
                            workers=options.workers, deadline=deadline)
    by_name = {outcome.check: outcome for outcome in outcomes}
    return [by_name[check.name] for check in checks]


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
