"""Each broken variant of the mock is caught by the checks one would expect, and only by them.

Every case runs all behaviour checks, plus the shape phase that finds its bug, over the whole
API: the expected checks must fail and say why, and every other check must pass on the same
broken deployment, so a case shows both that the kit notices and that it blames the right
rule. The full default run against the conformant mock is in `test_against_mock.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from contracts import RunOptions, RunReport, Status, Target, run
from contracts.report import render_console

from .breaker_cases import CASES, MACHINE


def _failed(report: RunReport) -> set[str]:
    return {o.check for o in report.outcomes if o.status == Status.FAILED}


def _broken(report: RunReport) -> list[str]:
    return [f"{o.check} on {o.scope}: {o.reason}" for o in report.outcomes
            if o.status == Status.ERROR]


@pytest.mark.parametrize("name", list(CASES))
def test_breaker_is_caught_by_the_expected_checks_and_the_others_pass(
        name: str, mock_app: Any, tokens: dict[str, str],
        make_target: Callable[..., Target]) -> None:
    case = CASES[name]
    target = make_target(case.breaker(mock_app, tokens))
    workers = {"workers": case.workers} if case.workers else {}
    report = run(target, options=RunOptions(seed=5, max_examples=5,
                                            phases=(*case.phases, "behaviour"), **workers))
    text = render_console(report, secrets=target.secrets())

    failed = _failed(report)
    assert case.explains(failed), text
    assert not _broken(report), text
    # Every other behaviour check ran to the end and passed on the broken variant.
    behaviour = {o.check: o.status for o in report.outcomes if o.kind == "behaviour"}
    assert {check for check, status in behaviour.items()
            if status != Status.PASSED} == failed & set(behaviour), text
    failure = next(f for f in report.failures if f.check == case.check)
    assert case.reason in failure.message, text
    # The report can be acted on: the rule, where it is written, the request, the seed.
    assert failure.rule and failure.cites
    assert failure.exchange is not None and failure.seed == 5
    assert "curl -X" in text and "--generation-seed 5" in text
    assert tokens["main"] not in text  # credentials are named by variable, never printed
    if case.check == MACHINE:  # the machine reports the sequence, it does not crash
        assert "Sequence that broke it" in failure.message, text


def test_conformant_mock_passes_the_same_runs(mock_target: Target) -> None:
    """The runs above fail because of the breakers: the same run on the real mock passes."""
    phases = tuple(sorted({phase for case in CASES.values() for phase in case.phases}))
    report = run(mock_target, options=RunOptions(seed=5, max_examples=5,
                                                 phases=(*phases, "behaviour")))
    assert report.ok, render_console(report)
    assert all(o.status == Status.PASSED for o in report.outcomes if o.kind == "behaviour")


def test_the_state_machine_reports_an_unexpected_answer_instead_of_crashing(
        mock_app: Any, make_target: Callable[..., Target]) -> None:
    """A create answered 201 without its event used to leave every rule without a true
    precondition, and hypothesis stopped with InvalidDefinition; now it is a finding."""

    def no_event(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"] == "/activities/v1/events":
            start_response("201 CREATED", [("Content-Type", "application/json")])
            return [b'{"data": {}}']
        return mock_app(environ, start_response)

    target = make_target(no_event)
    report = run(target, options=RunOptions(seed=5, max_examples=3, phases=("behaviour",),
                                            checks=(MACHINE,)))
    (outcome,) = report.outcomes
    assert outcome.status == Status.FAILED, render_console(report)
    message = outcome.failures[0].message
    assert "answered 201 without `data.id`" in message
    assert "Sequence that broke it (seed 5):" in message and "InvalidDefinition" not in message
