"""Each broken variant of the mock is caught by the checks one would expect, and only by them.

Every case runs all behaviour checks, plus the shape phase that finds its bug, over the whole
API: the expected checks must fail and say why, and every other check must pass on the same
broken deployment, so a case shows both that the kit notices and that it blames the right
rule. The full default run against the conformant mock is in `test_against_mock.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from contracts import RunOptions, RunReport, Status, Target, run
from contracts.report import render_console

from . import breakers


@dataclass(frozen=True)
class Case:
    breaker: Callable[[Any, dict[str, str]], Any]
    #: The check whose failure message must say why (`reason`).
    check: str
    reason: str
    #: Other checks that must fail too: the bug breaks their rule as well.
    also: tuple[str, ...] = ()
    #: Checks whose rule the bug breaks too, but which see it only for some inputs (a value
    #: read back, a filter drawn), so they may or may not fail with a given seed.
    may_also: tuple[str, ...] = ()
    #: Shape phases to run besides `behaviour` (the one that finds the bug, if any).
    phases: tuple[str, ...] = ()

    @property
    def caught_by(self) -> set[str]:
        return {self.check, *self.also}

    def explains(self, failed: set[str]) -> bool:
        """Whether exactly the expected checks failed (and perhaps some of `may_also`)."""
        return self.caught_by <= failed <= self.caught_by | set(self.may_also)


#: Checks that compare `sport_id` with what was sent or asked only when their drawn input
#: has it (a patch of `sport_id`, a `sport` filter).
SPORT_ID_READERS = ("patch_changes_only_given_fields",
                    "listed_events_lie_within_distance_and_match_filters")

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
        also=("api_key_is_required_everywhere",), phases=("examples",)),
    "skips the token check": Case(
        lambda app, t: breakers.SkipsTokenCheck(app, t["main"], t["other"]),
        "token_is_required_everywhere_but_public_list",
        "without a bearer token answered 201, expected 401"),
    "oversubscribes": Case(
        lambda app, t: breakers.Oversubscribes(app),
        "full_event_refuses_subscription", "answered 201, expected 422"),
    "wrong type in one field": Case(
        lambda app, t: breakers.WrongTypeSportId(app),
        "response_schema_conformance", "sport_id", also=("created_event_reads_back_as_sent",),
        may_also=SPORT_ID_READERS, phases=("examples",)),
    "wrong type in one field (read back)": Case(
        lambda app, t: breakers.WrongTypeSportId(app),
        "created_event_reads_back_as_sent", "sport_id: expected", may_also=SPORT_ID_READERS),
    # desired_limit_is_honoured lists at the maximum distance too, and rightly fails on the 500.
    "500 on an edge input": Case(
        lambda app, t: breakers.FailsOnMaximumDistance(app),
        "not_a_server_error", "answered 500", also=("desired_limit_is_honoured",),
        phases=("coverage",)),
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
    report = run(target, options=RunOptions(seed=5, max_examples=5,
                                            phases=(*case.phases, "behaviour")))
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
    assert "curl -X" in text and "--seed 5" in text
    assert tokens["main"] not in text  # credentials are named by variable, never printed


def test_conformant_mock_passes_the_same_runs(mock_target: Target) -> None:
    """The runs above fail because of the breakers: the same run on the real mock passes."""
    phases = tuple(sorted({phase for case in CASES.values() for phase in case.phases}))
    report = run(mock_target, options=RunOptions(seed=5, max_examples=5,
                                                 phases=(*phases, "behaviour")))
    assert report.ok, render_console(report)
    assert all(o.status == Status.PASSED for o in report.outcomes if o.kind == "behaviour")
