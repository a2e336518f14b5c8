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
    return ["run", "--base-url", base, "--api-key", API_KEY, "--token", tokens["main"],
            "--other-token", tokens["other"], "--seed", "11", "--max-examples", "3", *extra]


def test_help_lists_the_documented_flags(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for flag in ("--base-url", "--api-key", "--token", "--token-command", "--other-token",
                 "--other-token-command", "--activities-url", "--tracking-url", "--api",
                 "--tag", "--method", "--path", "--read-only", "--seed", "--max-examples",
                 "--time-budget", "--workers", "--rate-limit", "--junit-xml", "--report-json",
                 "--progress"):
        assert flag in out


@pytest.mark.parametrize("argv", [
    ["run", "--api-key", "k"],  # no target
    ["run", "--base-url", "http://h", "--activities-url", "http://a", "--tracking-url", "http://t"],
    ["run", "--base-url", "h:1"],
    ["run", "--base-url", "http://h", "--api", "payments"],
    ["run", "--base-url", "http://h", "--check", "no_such_check"],
    ["run", "--base-url", "http://h", "--phases", "fuzzing,dancing"],
    ["run", "--base-url", "http://h", "--token", "a", "--token-command", "b"],
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
    assert main(["run", "--base-url", f"http://127.0.0.1:{port}", "--api-key", "k"]) == 2
    assert "cannot reach" in capsys.readouterr().err


def test_a_passing_run_exits_0_and_writes_both_reports(
        mock_target: Target, tokens: dict[str, str], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    junit, report = tmp_path / "junit.xml", tmp_path / "report.json"
    code = main(_args(mock_target, tokens, "--phases", "examples,behaviour", "--workers", "2",
                      "--check", "desired_limit_is_honoured", "--check", "not_a_server_error",
                      "--junit-xml", str(junit), "--report-json", str(report), "--no-progress"))
    out = capsys.readouterr().out
    assert code == 0, out
    assert "RESULT: OK" in out and "desired_limit_is_honoured" in out
    assert tokens["main"] not in out
    assert ET.parse(junit).getroot().tag == "testsuites"
    data = json.loads(report.read_text())
    assert data["ok"] is True and data["seed"] == 11
    assert {o["check"] for o in data["outcomes"]} == {"desired_limit_is_honoured",
                                                      "not_a_server_error"}


def test_a_failing_run_exits_1_and_prints_a_replay_command(
        mock_app: Any, make_target: Callable[..., Target], tokens: dict[str, str],
        capsys: pytest.CaptureFixture[str]) -> None:
    target = make_target(breakers.IgnoresDesiredLimit(mock_app))
    code = main(_args(target, tokens, "--phases", "behaviour", "--check",
                      "desired_limit_is_honoured", "--no-coverage"))
    out = capsys.readouterr().out
    assert code == 1
    assert "FAILED desired_limit_is_honoured" in out
    assert ('contracts run --base-url http://127.0.0.1:' in out
            and '--api-key "$CONTRACTS_API_KEY" --token "$CONTRACTS_TOKEN"' in out
            and "--seed 11 --phases behaviour --check desired_limit_is_honoured" in out)
    assert "Coverage" not in out


def test_checks_command_lists_rules_and_citations(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["checks"]) == 0
    out = capsys.readouterr().out
    assert "not_a_server_error" in out
    assert "cancel_gives_canceled_and_hides_from_public_list" in out
    assert "Sport Activities API > Events > Cancel a sport activity" in out


def test_parser_defaults_are_bounded() -> None:
    args = build_parser().parse_args(["run", "--base-url", "http://h"])
    assert args.max_examples == 10 and args.workers == 1 and args.progress is None
