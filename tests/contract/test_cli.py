"""`contracts run`: arguments, exit status, reports written where asked."""

from __future__ import annotations

import json
import socket
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from contracts import Target
from contracts.cli import build_parser, main

from . import breakers
from .conftest import API_KEY


def _args(target: Target, tokens: dict[str, str], *extra: str) -> list[str]:
    base = target.activities_url.removesuffix("/activities")
    return ["run", "--url", base, "--api-key", API_KEY, "--token", tokens["main"],
            "--other-token", tokens["other"], "--generation-seed", "11", "--max-examples", "3",
            *extra]


def test_help_lists_the_documented_flags(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for flag in ("--url", "--api-key", "--token", "--token-command", "--other-token",
                 "--other-token-command", "--activities-url", "--tracking-url", "--api",
                 "--tag", "--method", "--path", "--read-only", "--generation-seed",
                 "--max-examples", "--time-budget", "--concurrency", "--rate-limit",
                 "--junit-xml", "--report-json", "--report-html", "--progress",
                 "--no-mock-users", "--admin-key"):
        assert flag in out
    # The exit statuses are documented where a user looks first.
    for line in ("0  OK", "1  FAILED", "2  not run", "3  INCOMPLETE"):
        assert line in out


def test_the_old_spellings_still_mean_the_same() -> None:
    """Scripts written before the flags took the names `mock-server` uses keep working."""
    parser = build_parser()
    new = parser.parse_args(["run", "--url", "http://h", "--generation-seed", "3",
                             "--concurrency", "2"])
    old = parser.parse_args(["run", "--base-url", "http://h", "--seed", "3", "--workers", "2"])
    assert (new.base_url, new.seed, new.workers) == ("http://h", 3, 2)
    assert (old.base_url, old.seed, old.workers) == (new.base_url, new.seed, new.workers)


@pytest.mark.parametrize("argv", [
    ["run", "--api-key", "k"],  # no target
    ["run", "--url", "http://h", "--activities-url", "http://a", "--tracking-url", "http://t"],
    ["run", "--url", "h:1"],
    ["run", "--url", "http://h", "--api", "payments"],
    ["run", "--url", "http://h", "--check", "no_such_check"],
    ["run", "--url", "http://h", "--phases", "fuzzing,dancing"],
    ["run", "--url", "http://h", "--token", "a", "--token-command", "b"],
])
def test_bad_arguments_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert capsys.readouterr().err


def test_an_unreachable_target_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert main(["run", "--url", f"http://127.0.0.1:{port}", "--api-key", "k"]) == 2
    assert "cannot reach" in capsys.readouterr().err


def test_a_passing_run_exits_0_and_writes_every_report(
        mock_target: Target, tokens: dict[str, str], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    junit, report, page = tmp_path / "junit.xml", tmp_path / "report.json", tmp_path / "r.html"
    code = main(_args(mock_target, tokens, "--phases", "behaviour", "--concurrency", "2",
                      "--check", "desired_limit_is_honoured",
                      "--check", "pages_agree_with_meta_and_links",
                      "--junit-xml", str(junit), "--report-json", str(report),
                      "--report-html", str(page), "--no-progress"))
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.startswith("RESULT: OK (exit 0)") and "desired_limit_is_honoured" in out
    assert tokens["main"] not in out
    assert ET.parse(junit).getroot().tag == "testsuites"
    data = json.loads(report.read_text())
    assert data["ok"] is True and data["seed"] == 11 and data["verdict"] == "OK"
    assert {o["check"] for o in data["outcomes"]} == {"desired_limit_is_honoured",
                                                      "pages_agree_with_meta_and_links"}
    assert "RESULT: OK (exit 0)" in page.read_text() and tokens["main"] not in page.read_text()


def test_a_run_that_leaves_things_unchecked_exits_3_and_says_what(
        mock_target: Target, tokens: dict[str, str],
        capsys: pytest.CaptureFixture[str]) -> None:
    code = main(_args(mock_target, tokens, "--phases", "examples", "--check",
                      "not_a_server_error", "--no-progress"))
    out = capsys.readouterr().out
    assert code == 3, out
    assert out.startswith("RESULT: INCOMPLETE (exit 3): nothing failed, but")
    assert "Not checked:" in out and "documented success never answered" in out
    assert out.rstrip().endswith(out.splitlines()[0])


@pytest.mark.parametrize(("flag", "value", "says"), [
    ("--api-key", "wrong-key", "the target refuses our API key"),
    ("--token", "wrong.token.value", "the target refuses our token"),
    ("--other-token", "wrong.token.value", "the target refuses our second token"),
])
def test_refused_credentials_stop_the_run_with_exit_2(
        mock_target: Target, tokens: dict[str, str], flag: str, value: str, says: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A rotated key or token must not pass CI: nothing is checked, and the run says why."""
    argv = _args(mock_target, tokens, "--phases", "examples", "--no-progress")
    argv[argv.index(flag) + 1] = value
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 2
    assert says in captured.err and "RESULT: NOT RUN (exit 2)" in captured.err
    assert "Traceback" not in captured.err + captured.out and "FAILED" not in captured.out
    # It stopped before the checks: the credential requests only.
    assert len(mock_target.journal) <= 3


def test_a_failing_run_exits_1_and_prints_a_replay_command(
        mock_app: Any, make_target: Callable[..., Target], tokens: dict[str, str],
        capsys: pytest.CaptureFixture[str]) -> None:
    target = make_target(breakers.IgnoresDesiredLimit(mock_app))
    code = main(_args(target, tokens, "--phases", "behaviour", "--check",
                      "desired_limit_is_honoured", "--no-coverage"))
    out = capsys.readouterr().out
    assert code == 1
    assert "FAILED desired_limit_is_honoured" in out
    assert ('contracts run --url http://127.0.0.1:' in out
            and '--api-key "$CONTRACTS_API_KEY" --token "$CONTRACTS_TOKEN"' in out
            and "--generation-seed 11 --phases behaviour --check desired_limit_is_honoured"
            in out)
    assert "Coverage" not in out


def test_checks_command_lists_rules_and_citations(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["checks"]) == 0
    out = capsys.readouterr().out
    assert "not_a_server_error" in out
    assert "cancel_gives_canceled_and_hides_from_public_list" in out
    assert "Sport Activities API > Events > Cancel a sport activity" in out


def test_parser_defaults_are_bounded() -> None:
    args = build_parser().parse_args(["run", "--url", "http://h"])
    assert args.max_examples == 10 and args.workers == 8 and args.progress is None
    assert args.mock_users is True
    assert build_parser().parse_args(["run", "--url", "http://h",
                                      "--no-mock-users"]).mock_users is False
