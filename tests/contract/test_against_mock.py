"""The proof: a full run against the conformant mock finds nothing, and covers the API."""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from contracts import REGISTRY, RunOptions, Selection, Spec, Status, Target, Verdict, run
from contracts.report import render_console, write_json, write_junit_xml
from contracts.runner import run_behaviour_check


@pytest.mark.slow
def test_full_run_against_the_conformant_mock_finds_no_failure(
        mock_target: Target, tmp_path: Path) -> None:
    report = run(mock_target, options=RunOptions(seed=20240521, max_examples=5))

    assert report.verdict == Verdict.OK, render_console(report, secrets=mock_target.secrets())
    assert report.gaps == [] and report.exit_code == 0
    counts = report.counts()
    assert counts[Status.FAILED] == counts[Status.ERROR] == 0
    # Every behaviour check ran (both users are given, nothing is read-only).
    behaviour = {o.check: o for o in report.outcomes if o.kind == "behaviour"}
    assert set(behaviour) == set(REGISTRY.names())
    assert all(o.status == Status.PASSED for o in behaviour.values()), behaviour
    # The coverage view: every operation was called, and the spec's links were followed.
    summary = report.coverage.summary()
    assert summary["operations"][0] == summary["operations"][1] == 18
    links = len(Spec.load().links)  # every link of the spec, followed at least once
    assert summary["links"][0] == summary["links"][1] == links, render_console(report)
    # Every operation answered its documented success status (no thin coverage).
    assert all(not op.success_missed for op in report.coverage.operations)

    write_junit_xml(report, tmp_path / "junit.xml")
    write_json(report, tmp_path / "report.json")
    suites = ET.parse(tmp_path / "junit.xml").getroot()
    assert sum(int(s.get("failures", "0")) for s in suites) == 0
    assert json.loads((tmp_path / "report.json").read_text())["ok"] is True


def test_read_only_run_sends_only_safe_requests(mock_app: Any,
                                                make_target: Callable[..., Target]) -> None:
    target = make_target(mock_app, read_only=True)
    report = run(target, options=RunOptions(seed=3, max_examples=3))

    assert report.ok, render_console(report)
    methods = {method for method, _, _ in target.journal.snapshot()}
    assert methods <= {"GET", "HEAD", "OPTIONS"}, methods
    skipped = {o.check: o.reason for o in report.outcomes
               if o.kind == "behaviour" and o.status == Status.SKIPPED}
    assert "target is read-only" in skipped["created_event_reads_back_as_sent"]
    # Checks with a read-only variant still ran.
    passed = {o.check for o in report.outcomes if o.status == Status.PASSED}
    assert {"pages_agree_with_meta_and_links", "desired_limit_is_honoured",
            "listed_events_lie_within_distance_and_match_filters",
            "api_key_is_required_everywhere"} <= passed


def test_checks_needing_a_second_user_are_skipped_with_the_reason(
        mock_app: Any, make_target: Callable[..., Target]) -> None:
    """As against a real deployment: no second token, and no asking the mock for one."""
    target = make_target(mock_app, other=False)
    report = run(target, options=RunOptions(
        seed=3, max_examples=2, phases=("behaviour",), mock_users=False,
        checks=("other_users_event_cannot_be_changed", "pending_event_is_visible_only_to_its_owner",
                "full_event_refuses_subscription")))

    assert report.ok, render_console(report)
    # Skipped for something the run lacked: the verdict says so, with the reason.
    assert report.verdict == Verdict.INCOMPLETE and report.exit_code == 3
    assert {gap.what for gap in report.gaps} == {"other_users_event_cannot_be_changed",
                                                 "pending_event_is_visible_only_to_its_owner"}
    outcome = {o.check: o for o in report.outcomes}
    for name in ("other_users_event_cannot_be_changed",
                 "pending_event_is_visible_only_to_its_owner"):
        assert outcome[name].status == Status.SKIPPED
        assert "--other-token" in outcome[name].reason
    # This one works with a single user too (the owner subscribes themselves).
    assert outcome["full_event_refuses_subscription"].status == Status.PASSED
    assert "--other-token" in render_console(report)


def test_selection_by_api_keeps_the_other_api_out(mock_target: Target) -> None:
    report = run(mock_target, selection=Selection(apis=("tracking",)),
                 options=RunOptions(seed=3, max_examples=2, phases=("examples", "behaviour")))

    assert report.ok, render_console(report)
    assert {o.scope for o in report.outcomes if o.kind == "shape"} == {
        "POST /v2/upload", "GET /v2/activities", "GET /v2/activities/{token}",
        "PUT /v2/activities/{token}"}
    ran = {o.check for o in report.outcomes if o.kind == "behaviour" and o.status == Status.PASSED}
    assert "uploaded_file_comes_back_byte_for_byte" in ran
    assert "created_event_reads_back_as_sent" not in ran
    urls = [url for _, url, _ in mock_target.journal.snapshot()]
    # Only the credential check reaches the Sport Activities API (the key on the public list,
    # each token on auth/me).
    assert sorted(url.split("?")[0].removeprefix(mock_target.activities_url) for url in urls
                  if url.startswith(mock_target.activities_url + "/")) == [
        "/v1/auth/me", "/v1/auth/me", "/v1/events"]


@pytest.mark.slow
def test_time_budget_bounds_the_run_and_names_what_it_left_out(mock_target: Target) -> None:
    report = run(mock_target, options=RunOptions(seed=3, max_examples=50, time_budget=4))
    assert report.duration < 15
    assert report.stopped_early
    assert report.ok, render_console(report)
    # A budget that runs short is not a pass: the verdict is INCOMPLETE and says why.
    assert report.verdict == Verdict.INCOMPLETE, render_console(report)
    assert any("time budget" in gap.why for gap in report.gaps)
    assert "RESULT: INCOMPLETE (exit 3)" in render_console(report)



@pytest.mark.parametrize("name", ["pages_agree_with_meta_and_links",
                                  "every_list_filter_selects_exactly_the_matching_events",
                                  "upload_accepts_only_the_documented_extensions"])
def test_a_check_the_budget_stops_before_its_first_example_is_skipped(
        name: str, mock_target: Target) -> None:
    """The code after a property reads what it drew: with nothing drawn the check is skipped
    (and the run INCOMPLETE), never an error of the kit nor a pass."""
    outcome = run_behaviour_check(name, mock_target, deadline=time.monotonic() - 1)
    assert (outcome.status, outcome.reason) == (Status.SKIPPED, "time budget exhausted")

def test_fixture_users_come_from_the_mock_admin_api(
        mock_app: Any, make_target: Callable[..., Target]) -> None:
    """Against our mock, the common CI setup (a key, no token) still runs the two-user checks."""
    target = make_target(mock_app, token=None, other=False)
    report = run(target, options=RunOptions(
        seed=3, max_examples=2, phases=("behaviour",),
        checks=("other_users_event_cannot_be_changed",
                "pending_event_is_visible_only_to_its_owner")))

    assert report.verdict == Verdict.OK, render_console(report)
    assert target.has_user("main") and target.has_user("other")
    assert any("John D" in note for note in report.notes)
    assert any("from the mock's admin API" in note for note in report.notes)
    assert all(o.status == Status.PASSED for o in report.outcomes)
