"""Each broken variant of the mock is caught by the check one would expect, which says why.

A run is narrowed to the checks and operations concerned so each case takes a second or two;
the full default run against the conformant mock is in `test_against_mock.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from contracts import RunOptions, Selection, Status, Target, run
from contracts.report import render_console

from . import breakers


@dataclass(frozen=True)
class Case:
    breaker: Callable[[Any, dict[str, str]], Any]
    check: str
    #: Words the failure message must contain: the report says *why*.
    reason: str
    phases: tuple[str, ...] = ("behaviour",)
    selection: Selection = Selection()


CASES = {
    "ignores X-Desired-Limit": Case(
        lambda app, t: breakers.IgnoresDesiredLimit(app),
        "desired_limit_is_honoured", "answered meta.per_page 25"),
    "lists cancelled events": Case(
        lambda app, t: breakers.ListsCanceledEvents(app),
        "cancel_gives_canceled_and_hides_from_public_list", "is still in the public list"),
    "skips the API key check": Case(
        lambda app, t: breakers.SkipsApiKeyCheck(app),
        "api_key_is_required_everywhere", "without an API key answered 200, expected 401"),
    "skips the API key check (schemathesis)": Case(
        lambda app, t: breakers.SkipsApiKeyCheck(app),
        "ignored_auth", "API accepts requests without authentication",
        phases=("examples",), selection=Selection(path_patterns=("^/v1/events$",),
                                                  methods=("GET",))),
    "skips the token check": Case(
        lambda app, t: breakers.SkipsTokenCheck(app, t["main"]),
        "token_is_required_everywhere_but_public_list",
        "without a bearer token answered 201, expected 401"),
    "oversubscribes": Case(
        lambda app, t: breakers.Oversubscribes(app),
        "full_event_refuses_subscription", "answered 201, expected 422"),
    "wrong type in one field": Case(
        lambda app, t: breakers.WrongTypeSportId(app),
        "response_schema_conformance", "sport_id",
        phases=("examples",), selection=Selection(path_patterns=(r"^/v1/events/\{id\}$",),
                                                  methods=("GET",))),
    "wrong type in one field (read back)": Case(
        lambda app, t: breakers.WrongTypeSportId(app),
        "created_event_reads_back_as_sent", "sport_id: expected"),
    "500 on an edge input": Case(
        lambda app, t: breakers.FailsOnMaximumDistance(app),
        "not_a_server_error", "answered 500",
        phases=("coverage",), selection=Selection(path_patterns=("^/v1/events$",),
                                                  methods=("GET",))),
    "lets anyone change an event": Case(
        lambda app, t: breakers.LetsAnyoneChangeEvents(app, t["main"], t["other"]),
        "other_users_event_cannot_be_changed", "another user modifying the event answered 200"),
    "patch touches other fields": Case(
        lambda app, t: breakers.PatchTouchesOtherFields(app),
        "patch_changes_only_given_fields", "owner_message"),
    "appends photos instead of replacing them": Case(
        lambda app, t: breakers.AppendsImages(app),
        "activity_photos_and_thumbnail_are_replaced_as_sent", "images: expected"),
    "corrupts uploaded files": Case(
        lambda app, t: breakers.CorruptsUploads(app),
        "uploaded_file_comes_back_byte_for_byte", "differ from the"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_breaker_is_caught_by_the_expected_check(
        name: str, mock_app: Any, tokens: dict[str, str],
        make_target: Callable[..., Target]) -> None:
    case = CASES[name]
    target = make_target(case.breaker(mock_app, tokens))
    report = run(target, selection=case.selection, options=RunOptions(
        seed=5, max_examples=5, phases=case.phases, checks=(case.check,)))

    assert not report.ok, render_console(report)
    failed = [o for o in report.outcomes if o.status == Status.FAILED]
    assert {o.check for o in failed} == {case.check}, render_console(report)
    failure = report.failures[0]
    assert case.reason in failure.message, render_console(report)
    # The report can be acted on: the rule, where it is written, the request, the seed.
    assert failure.rule and failure.cites
    assert failure.exchange is not None and failure.seed == 5
    text = render_console(report, secrets=target.secrets())
    assert "curl -X" in text and "--seed 5" in text
    assert tokens["main"] not in text  # credentials are named by variable, never printed


def test_conformant_mock_passes_the_same_narrow_runs(mock_target: Target) -> None:
    """The narrow runs above fail because of the breakers, not because they are narrow."""
    checks = tuple(sorted({case.check for case in CASES.values()
                           if case.phases == ("behaviour",)}))
    report = run(mock_target, options=RunOptions(seed=5, max_examples=5, phases=("behaviour",),
                                                  checks=checks))
    assert report.ok, render_console(report)
    assert {o.check for o in report.outcomes if o.status == Status.PASSED} == set(checks)
