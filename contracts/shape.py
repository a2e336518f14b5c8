"""Shape checks: schemathesis, with all its checks, on every selected operation.

Four phases, the same ones schemathesis' own CLI runs, driven here through its public Python
API so every request goes through the target's session (credentials, `--read-only`, rate
limit, token refresh, journal):

- `examples`: the documented examples of `openapi.yaml`;
- `coverage`: boundary values and one-fault-at-a-time invalid inputs (schemathesis' coverage
  cases), bounded per operation;
- `fuzzing`: hypothesis-generated valid and invalid inputs (`--max-examples` each);
- `stateful`: sequences that follow the spec's links (`schema.as_state_machine()`).

Each response is validated once per enabled check so a failure is attributed to the check
that found it. Failures are recorded, not raised, so one run reports all of them.

The work is cut into units, one per (phase, operation) and one for the stateful phase, run
on `--workers` threads that take turns (`concurrency.py`): phase by phase, so a time budget
that runs short still gives every operation its share of every phase, and what it could not
reach is recorded (`unreached`) for the run's verdict.

Why this module is a little over 400 lines: it is one class, `ShapeRunner`, whose phases
share one tally, one schema and one way of validating a case; what is not the runner (the
schema, the checks' rules, which coverage cases to keep) is in `shape_schema.py`.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import hypothesis
import requests
from hypothesis import strategies as st

from .concurrency import run_in_turns
from .generation import live_settings
from .report import Progress
from .results import Exchange, Failure, Outcome, Status
from .shape_schema import (
    SHAPE_CITES,
    SHAPE_PHASES,
    SHAPE_RULES,
    bounded_coverage_cases,
    build_schema,
    enabled_checks,
)
from .spec import Operation, Selection, Spec
from .target import ReadOnlyViolation, Target

__all__ = ["ShapeOptions", "ShapeRunner"]


class _OutOfTime(Exception):
    """Raised inside a hypothesis test to stop generating once the time budget is spent."""


def _past(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() >= deadline


@dataclass(frozen=True)
class ShapeOptions:
    seed: int
    max_examples: int = 10
    phases: tuple[str, ...] = SHAPE_PHASES
    #: Coverage cases per operation; schemathesis makes hundreds for a rich operation.
    coverage_cases: int | None = None
    workers: int = 1
    deadline: float | None = None
    #: Restrict to these schemathesis check names (None: all enabled checks).
    checks: frozenset[str] | None = None
    stateful_steps: int = 8

    @property
    def coverage_limit(self) -> int:
        return self.coverage_cases if self.coverage_cases is not None else 8 * self.max_examples


@dataclass
class _Tally:
    """Results per (operation label, check name), filled from several threads."""

    examples: dict[tuple[str, str], int] = field(default_factory=dict)
    failures: dict[tuple[str, str], dict[tuple[str, str | None, str], Failure]] = field(
        default_factory=dict)
    errors: dict[tuple[str, str], str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    #: Cases sent per (operation label, phase).
    cases: dict[tuple[str, str], int] = field(default_factory=dict)
    #: Why a (operation label, phase) sent nothing although the phase had work for it.
    unreached: dict[tuple[str, str], str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def sent(self, label: str, phase: str) -> None:
        with self.lock:
            self.cases[(label, phase)] = self.cases.get((label, phase), 0) + 1

    def passed(self, label: str, check: str) -> None:
        with self.lock:
            self.examples[(label, check)] = self.examples.get((label, check), 0) + 1

    def failed(self, label: str, check: str, failure: Failure) -> None:
        with self.lock:
            self.examples[(label, check)] = self.examples.get((label, check), 0) + 1
            self.failures.setdefault((label, check), {}).setdefault(failure.key(), failure)

    def errored(self, label: str, check: str, reason: str) -> None:
        with self.lock:
            self.errors.setdefault((label, check), reason)

    def count_failures(self) -> int:
        with self.lock:
            return sum(len(found) for found in self.failures.values())


class ShapeRunner:
    """Runs the shape phases over the selected operations and returns one outcome per
    (operation, check)."""

    def __init__(self, spec: Spec, target: Target, selection: Selection, options: ShapeOptions,
                 progress: Progress | None = None) -> None:
        self.spec = spec
        self.target = target
        self.selection = selection
        self.options = options
        self.progress = progress or Progress(enabled=False)
        self.operations = spec.select(selection)
        self._by_label = {op.label: op for op in self.operations}
        self.schema = build_schema(
            spec, target.urls, seed=options.seed, max_examples=options.max_examples).include(
            operation_id=[op.operation_id for op in self.operations] or ["<none>"])
        self.checks = enabled_checks(self.schema, options.checks)
        self.tally = _Tally()
        self._done = 0
        self._units = 0
        self._lock = threading.Lock()

    # -- public ---------------------------------------------------------------------------------

    def run(self) -> list[Outcome]:
        if not self.operations or not self.checks:
            return []
        started = time.monotonic()
        units = self.units()
        self._units = len(units)
        self.progress.update(phase="shape", done=0, total=len(units), force=True)
        run_in_turns(units, workers=self.options.workers, deadline=self.options.deadline)
        return self._outcomes(time.monotonic() - started)

    def units(self) -> list[Callable[[float | None], None]]:
        """The run's work: the stateful phase first (one long sequence of its own), then each
        unit phase over every operation, phase by phase."""
        units: list[Callable[[float | None], None]] = []
        if "stateful" in self.options.phases and not self.target.read_only:
            units.append(self._run_stateful)
        for phase in (p for p in self.options.phases if p != "stateful"):
            units += [partial(self._run_unit, phase, op) for op in self.operations]
        return units

    @property
    def unreached(self) -> dict[tuple[str, str], str]:
        """(operation label, phase) that sent nothing although the phase had work, and why."""
        return dict(self.tally.unreached)

    # -- phases ---------------------------------------------------------------------------------

    def _run_unit(self, phase: str, operation: Operation, deadline: float | None) -> None:
        api_operation = self.schema[operation.path][operation.method]
        try:
            if _past(deadline):
                self.tally.unreached[(operation.label, phase)] = "time budget exhausted"
                self.tally.skipped.setdefault(operation.label, "time budget exhausted")
                return
            if phase == "examples":
                self._run_examples(api_operation, deadline)
            elif phase == "coverage":
                self._run_coverage(api_operation, deadline)
            elif phase == "fuzzing":
                self._run_fuzzing(api_operation, deadline)
            has_work = phase != "examples" or self.schema.get_strategies_from_examples(
                api_operation)
            if has_work and not self.tally.cases.get((operation.label, phase)):
                self.tally.unreached.setdefault(
                    (operation.label, phase),
                    "time budget exhausted" if _past(deadline) else "no case could be generated")
        finally:
            with self._lock:
                self._done += 1
                done = self._done
            self.progress.update(done=done, failures=self.tally.count_failures())

    def _run_examples(self, api_operation: Any, deadline: float | None) -> None:
        strategies = self.schema.get_strategies_from_examples(api_operation)
        if strategies:
            self._run_strategy(api_operation, st.one_of(strategies), "examples", deadline,
                               max_examples=min(len(strategies) * 2, self.options.max_examples * 2))

    def _run_coverage(self, api_operation: Any, deadline: float | None) -> None:
        from schemathesis import GenerationMode

        config = self.schema.config.generation_for(operation=api_operation)
        cases = list(self.schema.iter_coverage_cases(
            api_operation,
            generation_modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
            generation_config=config,
        ))
        cases = bounded_coverage_cases(cases, self.options.coverage_limit,
                                       random.Random(f"{self.options.seed}:{api_operation.label}"))
        for case in cases:
            if _past(deadline):
                break
            self._send_and_validate(case, "coverage")

    def _run_fuzzing(self, api_operation: Any, deadline: float | None) -> None:
        from schemathesis import GenerationMode

        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            if _past(deadline):
                return
            self._run_strategy(api_operation, api_operation.as_strategy(generation_mode=mode),
                               "fuzzing", deadline, max_examples=self.options.max_examples)

    def _run_strategy(self, api_operation: Any, strategy: Any, phase: str,
                      deadline: float | None, *, max_examples: int) -> None:
        @live_settings(max_examples)
        @hypothesis.seed(self.options.seed)
        @hypothesis.given(case=strategy)
        def test(case: Any) -> None:
            if _past(deadline):
                raise _OutOfTime
            self._send_and_validate(case, phase)

        try:
            test()
        except (_OutOfTime, hypothesis.errors.Unsatisfiable):
            pass
        except Exception as exc:  # generation itself failed (e.g. an unsatisfiable schema)
            if _past(deadline):
                return  # hypothesis replayed the example `_OutOfTime` stopped: not an error
            for check in self._checks_for(api_operation.label):
                self.tally.errored(api_operation.label, check.__name__,
                                   f"{phase}: could not generate cases: {exc!r}"[:500])

    def _run_stateful(self, deadline: float | None) -> None:
        """Sequences following the spec's links, until the shape phases' own deadline (one
        sequence cannot use a share of it: it is one unit that runs beside all the others)."""
        from schemathesis.core.failures import FailureGroup

        del deadline
        try:
            base = self.schema.as_state_machine()
        except Exception as exc:  # no links among the selected operations
            self.tally.skipped.setdefault("stateful", f"no stateful sequences: {exc}"[:200])
            return
        runner = self

        class Machine(base):  # type: ignore[misc, valid-type]
            def get_call_kwargs(self, case: Any) -> dict[str, Any]:
                return {"session": runner.target.session,
                        "headers": runner._headers_for(case.operation.label)}

            def step(self, input: Any) -> Any:  # noqa: A002 - schemathesis' name
                if _past(runner.options.deadline):
                    raise _OutOfTime
                runner.tally.sent(input.case.operation.label, "stateful")
                return super().step(input)

            def validate_response(self, response: Any, case: Any,
                                  additional_checks: Any = None, **kwargs: Any) -> None:
                runner._validate(case, response, "stateful", kwargs, recorder=self.recorder)

        settings = hypothesis.settings(
            live_settings(max(2, self.options.max_examples)),
            stateful_step_count=self.options.stateful_steps,
        )
        try:
            Machine.run(settings=settings)
        except _OutOfTime:
            pass
        except FailureGroup:
            pass  # already recorded by validate_response
        except Exception as exc:
            # After the deadline, hypothesis replaying the sequence `_OutOfTime` cut short
            # calls it flaky: that is the budget's doing, not the target's or the kit's.
            if not _past(self.options.deadline):
                self.tally.errored("stateful", "stateful",
                                   f"stateful run stopped: {exc!r}"[:500])
        finally:
            with self._lock:
                self._done += 1
                done = self._done
            self.progress.update(done=done, failures=self.tally.count_failures())

    # -- one case -------------------------------------------------------------------------------

    def _headers_for(self, label: str) -> dict[str, str]:
        """The credentials an operation declares, and only those.

        Sending a token to the public list would make schemathesis' `ignored_auth` unable to
        tell whether the API key alone is enforced.
        """
        operation = self._by_label.get(label)
        needs_token = operation.needs_token if operation is not None else True
        return self.target.auth_headers(user="main" if needs_token else None)

    def _send_and_validate(self, case: Any, phase: str) -> None:
        headers = self._headers_for(case.operation.label)
        try:
            response = case.call(session=self.target.session, headers=headers)
        except ReadOnlyViolation:
            return
        except requests.RequestException as exc:
            for check in self._checks_for(case.operation.label):
                self.tally.errored(case.operation.label, check.__name__,
                                   f"request failed: {exc!r}"[:500])
            return
        self.tally.sent(case.operation.label, phase)
        self._validate(case, response, phase,
                       {"session": self.target.session, "headers": headers})

    def _validate(self, case: Any, response: Any, phase: str, transport_kwargs: dict[str, Any],
                  recorder: Any = None) -> None:
        from schemathesis.core.failures import FailureGroup

        label = case.operation.label
        headers = transport_kwargs.get("headers")
        for check in self._checks_for(label):
            name = check.__name__
            try:
                case.validate_response(response, checks=[check], headers=headers,
                                       transport_kwargs=transport_kwargs, recorder=recorder)
            except FailureGroup as group:
                for failure in group.exceptions:
                    self.tally.failed(label, name, self._failure(name, failure, case, response,
                                                                 phase))
            except (AssertionError, requests.RequestException) as exc:
                self.tally.failed(label, name, Failure(
                    check=name, rule=SHAPE_RULES.get(name, ""), message=str(exc) or repr(exc),
                    cites=SHAPE_CITES, operation=label,
                    exchange=Exchange.from_schemathesis(response), seed=self.options.seed,
                    replay=self._replay(case.operation, name, phase)))
            except Exception as exc:
                self.tally.errored(label, name, f"check crashed: {exc!r}"[:500])
            else:
                self.tally.passed(label, name)

    def _failure(self, name: str, failure: Any, case: Any, response: Any, phase: str) -> Failure:
        title = getattr(failure, "title", "") or type(failure).__name__
        message = getattr(failure, "message", "") or str(failure)
        origin = f"(answered {response.status_code}; found in the {phase} phase"
        if phase == "stateful":
            origin += ", in a sequence following the spec's links"
        origin += ")"
        return Failure(
            check=name,
            rule=SHAPE_RULES.get(name, ""),
            message=f"{title}: {message}\n{origin}".strip(),
            cites=SHAPE_CITES,
            operation=case.operation.label,
            exchange=Exchange.from_schemathesis(response),
            seed=self.options.seed,
            replay=self._replay(case.operation, name, phase),
        )

    def _replay(self, api_operation: Any, check: str, phase: str) -> str:
        path = "^" + re.sub(r"\\([{}])", r"\1", re.escape(api_operation.path)) + "$"
        return (f"--phases {phase} --method {api_operation.method.upper()} "
                f"--path '{path}' --check {check}")

    @property
    def _no_case(self) -> str:
        if [p for p in self.options.phases if p != "stateful"] == ["examples"]:
            return "no case: the examples phase sends the documented examples only"
        return "no case in the phases run"

    def _checks_for(self, label: str) -> list[Callable[..., Any]]:
        """The checks that apply to an operation (schemathesis.toml says which do not)."""
        return self.checks


    # -- results --------------------------------------------------------------------------------

    def _outcomes(self, duration: float) -> list[Outcome]:
        outcomes = []
        labels = [op.label for op in self.operations]
        per_scope = duration / max(1, len(labels) * len(self.checks))
        for label in labels:
            for check in self._checks_for(label):
                outcomes.append(self._outcome(label, check.__name__, per_scope))
        for (label, name), reason in self.tally.errors.items():
            if label not in labels:
                outcomes.append(Outcome(check=name, kind="shape", status=Status.ERROR,
                                        scope=label, reason=reason))
        return outcomes

    def _outcome(self, label: str, name: str, duration: float) -> Outcome:
        key = (label, name)
        failures = list(self.tally.failures.get(key, {}).values())
        examples = self.tally.examples.get(key, 0)
        if failures:
            status, reason = Status.FAILED, ""
        elif key in self.tally.errors:
            status, reason = Status.ERROR, self.tally.errors[key]
        elif examples:
            status, reason = Status.PASSED, ""
        else:
            status = Status.SKIPPED
            reason = self.tally.skipped.get(label, self._no_case)
        return Outcome(check=name, kind="shape", status=status, scope=label,
                       rule=SHAPE_RULES.get(name, ""), cites=SHAPE_CITES, failures=failures,
                       reason=reason, duration=duration, examples=examples)

