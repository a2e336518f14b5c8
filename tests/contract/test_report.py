"""Report rendering: curl commands that run, the summary table, JUnit XML, JSON, progress."""

from __future__ import annotations

import io
import json
import shlex
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

from contracts import Exchange, Failure, Gap, Outcome, RunReport, Status, Verdict
from contracts.report import (
    Progress,
    render_console,
    render_curl,
    render_failure,
    render_summary,
    to_json,
    write_html,
    write_json,
    write_junit_xml,
)
from contracts.results import Coverage, LinkCoverage, OperationCoverage


def _exchange(**overrides: object) -> Exchange:
    values: dict[str, object] = dict(
        method="POST", url="http://127.0.0.1:8000/activities/v1/events?x=a b",
        request_headers={"User-Agent": "python-requests/2", "Accept": "*/*",
                         "X-Api-Key": "k3y", "Authorization": "Bearer s3cret",
                         "Content-Type": "application/json", "Content-Length": "12"},
        request_body=b'{"title": "it\'s"}', status=500, reason="INTERNAL SERVER ERROR",
        response_headers={"Content-Type": "application/json"},
        response_body=b'{"code": 500, "message": "boom"}', elapsed=0.01)
    values.update(overrides)
    return Exchange(**values)  # type: ignore[arg-type]


SECRETS = {"k3y": "CONTRACTS_API_KEY", "s3cret": "CONTRACTS_TOKEN"}


def test_curl_names_credentials_by_variable_and_drops_noise() -> None:
    curl = render_curl(_exchange(), SECRETS)
    assert "k3y" not in curl and "s3cret" not in curl
    assert '"X-Api-Key: ${CONTRACTS_API_KEY}"' in curl
    assert '"Authorization: Bearer ${CONTRACTS_TOKEN}"' in curl
    assert "User-Agent" not in curl and "Content-Length" not in curl and "*/*" not in curl


def test_curl_is_a_valid_shell_command_carrying_the_exact_body() -> None:
    curl = render_curl(_exchange(), SECRETS)
    words = shlex.split(curl)
    assert words[:4] == ["curl", "-X", "POST", "http://127.0.0.1:8000/activities/v1/events?x=a b"]
    assert words[words.index("--data-raw") + 1] == '{"title": "it\'s"}'


def test_curl_keeps_binary_bodies_byte_for_byte() -> None:
    body = b"--b\r\nContent-Disposition: form-data\r\n\r\n\xff\xd8\xff'\\\x00--b--\r\n"
    curl = render_curl(_exchange(request_body=body), SECRETS)
    # Let bash read the argument as curl would (a file) and hand the bytes back.
    argument = curl.split("--data-binary @", 1)[1]
    decoded = subprocess.run(["bash", "-c", f"cat {argument}"], capture_output=True,
                             check=True).stdout
    assert decoded == body
    big = render_curl(_exchange(request_body=b"x" * 20000))
    assert "@request-body.bin" in big and "20000 bytes" in big


def _report() -> RunReport:
    failure = Failure(
        check="cancel_gives_canceled_and_hides_from_public_list",
        rule="A cancelled event leaves the public list.",
        message="the CANCELED event 7 is still in the public list\nsecond line",
        cites=("Sport Activities API > Events > Cancel a sport activity",),
        operation="GET /v1/events", exchange=_exchange(method="GET", request_body=None,
                                                       status=200, reason="OK"),
        seed=42,
        replay="--phases behaviour --check cancel_gives_canceled_and_hides_from_public_list")
    outcomes = [
        Outcome(check="not_a_server_error", kind="shape", status=Status.PASSED,
                scope="GET /v1/events", examples=10),
        Outcome(check="not_a_server_error", kind="shape", status=Status.PASSED,
                scope="POST /v1/events", examples=10),
        Outcome(check=failure.check, kind="behaviour", status=Status.FAILED,
                scope=failure.check, rule=failure.rule, cites=failure.cites,
                failures=[failure]),
        Outcome(check="other_users_event_cannot_be_changed", kind="behaviour",
                status=Status.SKIPPED, scope="other_users_event_cannot_be_changed",
                reason="needs a second user's token (--other-token ...)"),
    ]
    coverage = Coverage(
        operations=[OperationCoverage("listEvents", "GET /v1/events", ("200", "401", "422"),
                                      seen={200: 5, 401: 1, 405: 1}),
                    OperationCoverage("createEvent", "POST /v1/events", ("201", "422"),
                                      seen={201: 2})],
        links=[LinkCoverage("createEvent -[201 GetEvent]-> getEvent", "createEvent", "GetEvent",
                            "getEvent", followed=3)])
    return RunReport(target="http://mock", selection="all operations", seed=42,
                     started_at="2026-01-01T00:00:00+00:00", duration=1.5,
                     outcomes=outcomes, coverage=coverage, requests=10)


def test_summary_counts_operations_checks_passed_and_failed() -> None:
    report = _report()
    text = render_summary(report)
    assert ("operations 2 · checks 3 · scopes passed 2 · failed 1 · errors 0 · skipped 1 · "
            "10 requests in 1.5s (7 requests/s)") in text
    assert "RESULT: FAILED (exit 1): 1 check(s) failed (1 distinct failures)" in text
    assert report.exit_code == 1
    assert "needs a second user's token" in text
    assert "scopes: where a check ran" in text  # the columns are explained


def test_table_and_footer_count_failed_and_errors_alike() -> None:
    report = _report()
    report.outcomes.append(Outcome(check="not_a_server_error", kind="shape", status=Status.ERROR,
                                   scope="GET /v1/auth/me", reason="ConnectionError: reset"))
    text = render_summary(report)
    row = next(line.split() for line in text.splitlines()
               if line.startswith("not_a_server_error"))
    assert row[2:7] == ["3", "2", "0", "1", "0"]  # scopes passed failed errors skipped
    assert "failed 1 · errors 1 · skipped 1" in text


def test_console_opens_with_the_verdict_and_what_to_do() -> None:
    lines = render_console(_report()).splitlines()
    assert lines[0] == "RESULT: FAILED (exit 1): 1 check(s) failed (1 distinct failures)"
    assert "Replay command" in lines[1] + lines[2]
    assert lines[-1] == lines[0]  # and ends with it, as CI logs show the end


def test_an_incomplete_run_names_what_was_not_checked() -> None:
    report = _report()
    report.outcomes = [o for o in report.outcomes if o.status != Status.FAILED]
    report.gaps = [Gap("check", "other_users_event_cannot_be_changed",
                       "needs a second user's token"),
                   Gap("status", "PATCH /v1/events/{id}/subscribers/{user} 200",
                       "documented success never answered (answered 404)")]
    text = render_console(report)
    assert report.verdict == Verdict.INCOMPLETE and report.exit_code == 3
    assert text.startswith("RESULT: INCOMPLETE (exit 3): nothing failed, but 2 thing(s) were "
                           "not checked")
    assert ("  - status PATCH /v1/events/{id}/subscribers/{user} 200: documented success never "
            "answered (answered 404)") in text


def test_near_identical_failures_are_shown_once() -> None:
    report = _report()
    template = report.outcomes[2].failures[0]
    report.outcomes[2].failures = [
        Failure(check="response_schema_conformance", rule="r", message=f'"{n}" is not an '
                "integer", operation=f"GET /v1/op{n}", exchange=template.exchange, seed=42)
        for n in range(12)]
    text = render_console(report)
    assert text.count("FAILED response_schema_conformance") == 1
    assert "11 more failure(s) of this check" in text and "GET /v1/op11" in text


def test_failure_shows_rule_citation_request_response_and_seed() -> None:
    text = render_failure(_report().failures[0], secrets=SECRETS,
                          replay_prefix="contracts run --url http://mock")
    assert "Rule:     A cancelled event leaves the public list." in text
    assert "Cites:    Sport Activities API > Events > Cancel a sport activity" in text
    assert "curl -X GET" in text and "${CONTRACTS_TOKEN}" in text
    assert "Response: 200 OK" in text and '"code": 500' in text
    assert ("Replay:   contracts run --url http://mock --generation-seed 42 --phases behaviour "
            "--check cancel_gives_canceled_and_hides_from_public_list") in text


def test_coverage_view_lists_responses_seen_missed_and_undocumented() -> None:
    text = render_console(_report())
    assert "Coverage operations 2/2 · responses 3/5 · links 1/1" in text
    line = next(line for line in text.splitlines() if line.startswith("GET /v1/events "))
    assert line.split()[3:] == ["200", "401", "422", "405"]


def test_junit_xml_has_one_case_per_check_and_scope(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    write_junit_xml(_report(), path, secrets=SECRETS)
    root = ET.parse(path).getroot()
    suites = {suite.get("name"): suite for suite in root}
    assert set(suites) == {"contracts.shape", "contracts.behaviour"}
    behaviour = suites["contracts.behaviour"]
    assert (behaviour.get("tests"), behaviour.get("failures"), behaviour.get("skipped")) == (
        "2", "1", "1")
    failure = behaviour.find("testcase/failure")
    assert failure is not None
    assert failure.get("message") == "the CANCELED event 7 is still in the public list"
    assert "curl -X GET" in (failure.text or "") and "s3cret" not in path.read_text()


def test_json_report_is_complete_and_secret_free(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    write_json(_report(), path, secrets=SECRETS)
    data = json.loads(path.read_text())
    assert data["ok"] is False and data["seed"] == 42
    assert data["summary"]["failed"] == 1 and data["summary"]["operations"] == 2
    (failure,) = data["failures"]
    assert failure["cites"] == ["Sport Activities API > Events > Cancel a sport activity"]
    assert failure["response"]["status"] == 200 and failure["curl"].startswith("curl -X GET")
    assert data["coverage"]["summary"]["links"] == {"covered": 1, "total": 1}
    assert "s3cret" not in path.read_text()
    assert to_json(_report())["outcomes"][3]["reason"].startswith("needs a second user")


def test_progress_line_only_when_enabled() -> None:
    quiet, loud = io.StringIO(), io.StringIO()
    Progress(quiet, enabled=False).update(phase="shape", done=1, total=3, force=True)
    progress = Progress(loud, enabled=True)
    progress.update(phase="shape", done=1, total=3, force=True)
    progress.on_request(None, None, 7)
    progress.update(failures=1, force=True)
    progress.finish()
    assert quiet.getvalue() == ""
    assert "[contracts] shape 1/3 · 7 requests · 1 failed" in loud.getvalue()
    assert loud.getvalue().endswith("\r")
    # Not a terminal and not asked: silent.
    assert Progress(io.StringIO()).enabled is False


def test_html_report_is_one_self_contained_page_with_secrets_masked(tmp_path: Path) -> None:
    report = _report()
    report.outcomes[2].failures[0].message += "\nthe token s3cret was refused"
    path = tmp_path / "report.html"
    write_html(report, path, secrets=SECRETS, replay_prefix="contracts run --url http://m")
    page = path.read_text()
    assert page.startswith("<!doctype html>") and page.rstrip().endswith("</html>")
    # Nothing loaded from anywhere: no script, stylesheet, image, font or frame.
    for reference in ("<script", "<link", "src=", "@import", "url(", "<iframe"):
        assert reference not in page, reference
    assert "s3cret" not in page and "k3y" not in page
    assert "$CONTRACTS_TOKEN" in page
    assert "RESULT: FAILED (exit 1)" in page
    assert "Sport Activities API &gt; Events &gt; Cancel a sport activity" in page
    assert "contracts run --url http://m --generation-seed 42 --phases behaviour" in page
    # The matrix: 200 seen 5 times, 422 documented but never answered, 405 undocumented.
    row = page[page.index("<td class='op'>GET /v1/events</td>"):].split("</tr>")[0]
    assert "<td class='seen'>5</td>" in row and "<td class='undoc'>1</td>" in row
    assert "<td class='missed'>·</td>" in row
    assert "createEvent -[201 GetEvent]-&gt; getEvent" in page
