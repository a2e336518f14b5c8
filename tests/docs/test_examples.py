"""Every ```console block of README.md and docs/*.md runs as written and prints what it shows.

Each page runs in a fresh copy of the checkout, in one bash session, against a real
`mock-server serve` started for it on a free port (the conventions: console_examples.py and
docs/maintainers.md). README.md runs with a PATH that lacks the virtualenv, as a new user's
shell has it after `./scripts/serve`: its own `source .venv/bin/activate` must be what makes
`mock-server` a command. The docs/ pages run with `.venv/bin` on PATH, as after that step.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
from console_examples import (
    ConsoleBlock,
    Example,
    at_port,
    console_blocks,
    output_matches,
    run_session,
)

from tests.conftest import ROOT, free_port, start_server, stop_server

pytestmark = pytest.mark.integration

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
#: What a clone holds that a checkout may hold besides: never copied into the fresh copy.
NOT_IN_A_CLONE = shutil.ignore_patterns(
    ".git", ".venv", "node_modules", "__pycache__", "*.egg-info", ".*_cache", ".hypothesis",
    "test-artifacts", "reports", "postman", "build", "generated", ".install.lock")
SESSION_TIMEOUT = 120.0
VENV_BIN = Path(sys.executable).parent


def _pages_with_examples() -> list[Path]:
    return [page for page in PAGES if console_blocks(page.read_text(encoding="utf-8"))]


def fresh_checkout(target: Path) -> Path:
    """The repository as a clone has it, plus the venv and the tools' npm packages the
    install steps make, linked rather than rebuilt; nothing a page writes reaches ROOT."""
    checkout = target / "checkout"
    shutil.copytree(ROOT, checkout, ignore=NOT_IN_A_CLONE, symlinks=True)
    (checkout / ".venv").symlink_to(VENV_BIN.parent, target_is_directory=True)
    (checkout / "tools" / "node_modules").symlink_to(ROOT / "tools" / "node_modules",
                                                     target_is_directory=True)
    return checkout


def session_env(port: int, *, venv_on_path: bool) -> dict[str, str]:
    """The reader's environment: none of our settings, `mock-server admin` aimed at the
    server under test, Python unbuffered so stdout and stderr interleave as on a terminal,
    argparse's help wrapped at 80 columns."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("MOCK_SERVER_", "CONTRACTS_")) and name != "VIRTUAL_ENV"}
    path = [entry for entry in env.get("PATH", "").split(os.pathsep)
            if entry and Path(entry) != VENV_BIN]
    if venv_on_path:
        path.insert(0, str(VENV_BIN))
    env.update(PATH=os.pathsep.join(path), MOCK_SERVER_URL=f"http://127.0.0.1:{port}",
               PYTHONUNBUFFERED="1", COLUMNS="80", TERM="dumb", NO_COLOR="1")
    return env


def _where(page: Path, example: Example) -> str:
    return f"{page.relative_to(ROOT)}:{example.line}"


def _mismatch(page: Path, example: Example, port: int, actual: str | None) -> str | None:
    expected = at_port(example.expected, port)
    if actual is None:
        return f"{_where(page, example)}: never ran\n$ {example.command}"
    if output_matches(expected, actual):
        return None
    return (f"{_where(page, example)}: $ {at_port(example.command, port)}\n"
            f"--- the page shows:\n{expected}\n--- it printed:\n{actual.strip()}")


def split_server(blocks: list[ConsoleBlock]) -> tuple[list[str], Example | None,
                                                      list[ConsoleBlock]]:
    """The page's server (its flags and banner) and the blocks left to run."""
    if blocks and (args := blocks[0].server_args()) is not None:
        return args, blocks[0].examples[0], blocks[1:]
    return [], None, blocks


@pytest.mark.parametrize("page", _pages_with_examples(),
                         ids=lambda page: str(page.relative_to(ROOT)))
def test_the_page_examples_run_and_print_what_they_show(page: Path, tmp_path: Path) -> None:
    serve_args, banner, blocks = split_server(console_blocks(page.read_text(encoding="utf-8")))
    examples = [example for block in blocks for example in block.examples]
    checkout = fresh_checkout(tmp_path)
    port = free_port()
    server = start_server(*(at_port(arg, port) for arg in serve_args), port=port, cwd=checkout)
    try:
        failures = []
        if banner is not None:
            started = server.output().split("mock-server: ready")[0] + "mock-server: ready"
            failures.append(_mismatch(page, banner, port, started))
        session = run_session([at_port(e.command, port) for e in examples], cwd=checkout,
                              env=session_env(port, venv_on_path=page.parent != ROOT),
                              timeout=SESSION_TIMEOUT)
        failures += [_mismatch(page, example, port, actual)
                     for example, actual in zip(examples, session.outputs, strict=True)]
    finally:
        stop_server(server)
    if not session.finished:
        reached = [e for e, out in zip(examples, session.outputs, strict=True) if out is not None]
        failures.insert(0, f"{_where(page, reached[-1])}: still running after "
                           f"{SESSION_TIMEOUT:.0f} s" if reached else "the session never began")
    problems = [failure for failure in failures if failure]
    assert not problems, "\n\n".join(problems)
