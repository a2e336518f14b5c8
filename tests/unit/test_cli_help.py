"""The CLIs read as one product: every option explained with its default, options accepted
before or after an action."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import pytest

from mock_server.cli import build_parser


def parsers(parser: argparse.ArgumentParser, name: str = "mock-server",
            ) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                yield from parsers(sub, f"{name} {sub_name}")


def options() -> list[tuple[str, argparse.Action]]:
    found = []
    for name, parser in parsers(build_parser()):
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
                continue
            found.append((f"{name} {'/'.join(action.option_strings) or action.dest}", action))
    return found


@pytest.mark.parametrize(("where", "action"), options(), ids=lambda v: v if isinstance(v, str)
                         else "")
def test_every_option_says_what_it_does_and_its_default(where: str,
                                                        action: argparse.Action) -> None:
    assert action.help and action.help.strip(), f"{where} has no help"
    default = action.default
    if default in (None, False, True, [], ()) or default is argparse.SUPPRESS:
        return
    if isinstance(action, argparse._StoreConstAction):
        return
    assert "default" in action.help, f"{where}: the help does not give the default {default!r}"


@pytest.mark.parametrize("argv", [
    ["admin", "--url", "http://mock:9", "--admin-key", "k", "reset"],
    ["admin", "reset", "--url", "http://mock:9", "--admin-key", "k"],
    ["admin", "--url", "http://mock:9", "faults", "--admin-key", "k", "list"],
])
def test_admin_options_are_accepted_before_or_after_the_action(argv: list[str]) -> None:
    args = build_parser().parse_args(argv)
    assert (args.url, args.admin_key) == ("http://mock:9", "k")


def test_admin_defaults_when_not_given() -> None:
    args = build_parser().parse_args(["admin", "reset"])
    assert args.url.startswith("http://") and args.admin_key


def test_the_same_name_means_the_same_in_every_command() -> None:
    parser = build_parser()
    token = parser.parse_args(["token", "--ttl-seconds", "60"])
    minted = parser.parse_args(["admin", "token", "--ttl-seconds", "60"])
    assert token.ttl == minted.ttl == 60  # as the admin API's ttl_seconds
    assert parser.parse_args(["token", "--ttl", "5"]).ttl == 5  # the old spelling still works
    postman = parser.parse_args(["postman", "--ttl-seconds", "60", "--url", "http://h:1"])
    assert postman.ttl == 60 and postman.base_url == "http://h:1"  # as `admin --url`
    old = parser.parse_args(["postman", "--ttl", "60", "--base-url", "http://h:1"])
    assert (old.ttl, old.base_url) == (postman.ttl, postman.base_url)
    proxy = parser.parse_args(["proxy", "--upstream", "https://x", "--report-json", "r.json"])
    assert proxy.report == "r.json"  # as `contracts run --report-json`
