"""How the docs' examples are read, run and compared (no server), and the pages' own links."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from console_examples import (
    BadExample,
    at_port,
    console_blocks,
    output_matches,
    run_session,
)
from markdown_it import MarkdownIt

from tests.conftest import ROOT

PAGE = """\
Intro.

```sh
./scripts/serve
```

```console
$ TOKEN=$(mock-server token)
token for John D (FED, 28cce8e0-2d57-4e54-8888-2fc69690aeeb)
$ curl -s http://127.0.0.1:8000/v1/auth/me \\
    -H "Authorization: Bearer $TOKEN"
{"id":"28cce8e0-2d57-4e54-8888-2fc69690aeeb",...}

$ curl -s -d '{"title": "a",
     "slots": 2}' http://localhost:8000/v1/events
...
$ true
```
"""


def test_commands_continue_on_a_backslash_or_an_open_quote_and_sh_is_not_run() -> None:
    (block,) = console_blocks(PAGE)
    assert block.line == 7
    commands = [example.command for example in block.examples]
    assert commands == [
        "TOKEN=$(mock-server token)",
        'curl -s http://127.0.0.1:8000/v1/auth/me \\\n    -H "Authorization: Bearer $TOKEN"',
        "curl -s -d '{\"title\": \"a\",\n     \"slots\": 2}' http://localhost:8000/v1/events",
        "true",
    ]
    assert [example.line for example in block.examples] == [8, 10, 14, 17]
    assert block.examples[0].expected == (
        "token for John D (FED, 28cce8e0-2d57-4e54-8888-2fc69690aeeb)")
    assert block.examples[3].expected == ""
    assert block.server_args() is None


def test_a_block_with_output_before_any_command_is_refused() -> None:
    with pytest.raises(BadExample, match="line 2: output before any"):
        console_blocks("```console\n{\"code\": 401}\n```\n")


@pytest.mark.parametrize(("command", "args"), [
    ("./scripts/serve", []),
    ("mock-server serve --state-file mock-state.sqlite", ["--state-file", "mock-state.sqlite"]),
    ("mock-server serve --help", None),
    ("mock-server token", None),
])
def test_a_server_block_is_one_serve_command_and_its_flags(command: str,
                                                           args: list[str] | None) -> None:
    (block,) = console_blocks(f"```console\n$ {command}\nmock-server: ready\n```\n")
    assert block.server_args() == args


def test_ellipsis_matches_anything_and_the_rest_must_be_exact() -> None:
    assert output_matches('{"url":"http://x/uploads/..."}', '{"url":"http://x/uploads/0bc2"}\n')
    assert output_matches("a\n...\nz", "a\nb\nc\nz")
    assert output_matches("...\nready", "ready") and output_matches("...\nready", "pip\nready")
    assert output_matches("a\n...\nz", "a\nz") and output_matches("a\n...", "a")
    assert output_matches("...", "anything at all\nover lines")
    assert output_matches("same  \n\n", "\nsame")  # trailing spaces and edge blank lines
    assert not output_matches("a\n...\nz", "a\nb\ny")
    assert not output_matches("", "something printed")  # shown silent must be silent
    assert not output_matches("200", "")


def test_the_documented_address_becomes_the_servers() -> None:
    text = "curl http://127.0.0.1:8000/x http://localhost:8000/y; mock-server serve --port 8000"
    assert at_port(text, 4321) == ("curl http://127.0.0.1:4321/x http://localhost:4321/y; "
                                   "mock-server serve --port 4321")
    assert at_port("--port 80001 and 127.0.0.1:8001", 4321) == "--port 80001 and 127.0.0.1:8001"


def test_one_session_keeps_variables_the_directory_and_exit_statuses(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    session = run_session(["X=41", "cd sub", "echo $((X + 1)) $(basename $PWD)", "false",
                           "echo $?", "echo to-stderr >&2", "printf 'no newline'"],
                          cwd=tmp_path, env=dict(os.environ), timeout=30)
    assert session.finished
    assert [out.strip() if out else out for out in session.outputs] == [
        "", "", "42 sub", "", "1", "to-stderr", "no newline"]


def test_a_session_past_its_timeout_says_where_it_stopped(tmp_path: Path) -> None:
    session = run_session(["echo before", "sleep 30", "echo never"], cwd=tmp_path,
                          env=dict(os.environ), timeout=1)
    assert not session.finished
    assert session.outputs == ["before\n", "", None]


PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _links(page: Path) -> list[str]:
    hrefs = []
    for token in MarkdownIt("commonmark").parse(page.read_text(encoding="utf-8")):
        for child in token.children or ():
            if child.type == "link_open":
                hrefs.append(str(child.attrs["href"]))
    return hrefs


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_page_parses_and_its_links_to_the_repository_resolve(page: Path) -> None:
    console_blocks(page.read_text(encoding="utf-8"))  # raises on a block it cannot read
    for href in _links(page):
        parts = urlsplit(href)
        if parts.scheme or not parts.path:  # a web address, or an anchor on the page
            continue
        assert (page.parent / parts.path).exists(), f"{page.name}: {href} does not exist"


def test_the_readme_links_every_docs_page() -> None:
    linked = {Path(href).name for href in _links(ROOT / "README.md")}
    assert {page.name for page in (ROOT / "docs").glob("*.md")} <= linked
