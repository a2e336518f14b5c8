"""The docs' shell examples, read and run as a reader would type them.

The conventions (written for the docs' authors in docs/maintainers.md):

* A ```console block is run; a ```sh block is shown and never run (installs, servers that keep
  running, anything needing the network or minutes). ```text, ```json, ```python... are shown.
* In a console block a line starting with ``$ `` is a command (a trailing ``\\`` or a quote
  left open continues it on the next line, as bash would); the lines after it, up to the next
  command, are what it prints, stdout and stderr together as a terminal shows them. A command
  shown with no output must print nothing.
* ``...`` in the expected output matches anything, newlines included (doctest's ELLIPSIS):
  for tokens, ids, times, paths and counts that vary; a line holding only ``...`` may also
  stand for no line at all. Trailing spaces and blank lines at either end do not count.
* The documented address ``127.0.0.1:8000`` (``localhost:8000``, ``--port 8000``) stands for
  the server the test started, in commands and in expected output alike.
* A page's first console block may be the server itself: one command, ``./scripts/serve ...``
  or ``mock-server serve ...``. Its lines are the startup banner, up to ``mock-server: ready``,
  and the test starts exactly that server (its flags included) for the page. Otherwise the page
  runs against a plain ``mock-server serve``.
"""

from __future__ import annotations

import doctest
import os
import re
import shlex
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from markdown_it import MarkdownIt

PROMPT = "$ "
#: The documented address, and the one it stands for, ``{port}`` being the server's under test.
DOCUMENTED_ADDRESSES = {"127.0.0.1:8000": "127.0.0.1:{port}",
                        "localhost:8000": "localhost:{port}", "--port 8000": "--port {port}"}
#: Ways the docs start the mock in the foreground: the banner's commands.
SERVER_COMMANDS = (("./scripts/serve",), ("mock-server", "serve"),
                   (".venv/bin/mock-server", "serve"))
_MARK = "@@docs-example-{}@@"
_MARK_RE = re.compile(r"\n@@docs-example-(\d+|end)@@\n")


class BadExample(ValueError):
    """A console block the conventions cannot read (text before its first command...)."""


@dataclass(frozen=True)
class Example:
    """One command of a console block and what the page says it prints."""

    command: str
    expected: str
    line: int  # 1-based line of the command in its page


@dataclass(frozen=True)
class ConsoleBlock:
    line: int  # 1-based line of the opening fence
    examples: tuple[Example, ...]

    def server_args(self) -> list[str] | None:
        """The flags of the mock this block starts, when it is a server's banner."""
        if len(self.examples) != 1:
            return None
        words = shlex.split(self.examples[0].command.replace("\\\n", " "))
        for start in SERVER_COMMANDS:
            if tuple(words[:len(start)]) == start and "--help" not in words and "-h" not in words:
                return words[len(start):]
        return None


def console_blocks(markdown: str) -> list[ConsoleBlock]:
    """Every ```console block of a Markdown page, with its commands and expected outputs."""
    blocks = []
    for token in MarkdownIt("commonmark").parse(markdown):
        if token.type != "fence" or token.info.split()[:1] != ["console"]:
            continue
        assert token.map is not None
        first = token.map[0] + 2  # the fence is line map[0] + 1; its content starts below it
        blocks.append(ConsoleBlock(first - 1, _examples(token.content.splitlines(), first)))
    return blocks


def _examples(lines: list[str], first: int) -> tuple[Example, ...]:
    examples: list[Example] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if not line.startswith(PROMPT):
            if line.strip():
                raise BadExample(f"line {first + index}: output before any `$ ` command")
            index += 1
            continue
        start = index
        command = [line[len(PROMPT):]]
        while _continues("\n".join(command)) and index + 1 < len(lines):
            index += 1
            command.append(lines[index])
        index += 1
        output: list[str] = []
        while index < len(lines) and not lines[index].startswith(PROMPT):
            output.append(lines[index])
            index += 1
        if not command[0].strip():
            raise BadExample(f"line {first + start}: an empty command")
        examples.append(Example("\n".join(command), "\n".join(output), first + start))
    if not examples:
        raise BadExample(f"line {first}: a console block without a `$ ` command")
    return tuple(examples)


def _continues(command: str) -> bool:
    """Whether bash would ask for more (its PS2 prompt): a trailing backslash, or a quote
    still open, as in a JSON body written over several lines."""
    if command.endswith("\\"):
        return True
    try:
        shlex.split(command)
    except ValueError:  # "No closing quotation"
        return True
    return False


def at_port(text: str, port: int) -> str:
    """The documented address replaced by the one of the server under test."""
    for documented, real in DOCUMENTED_ADDRESSES.items():
        text = re.sub(re.escape(documented) + r"(?!\d)", real.format(port=port), text)
    return text


def normalize(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    return "\n".join(lines).strip("\n")


def output_matches(expected: str, actual: str) -> bool:
    """doctest's comparison, ELLIPSIS on: ``...`` in ``expected`` matches anything."""
    want, got = normalize(expected), normalize(actual)
    if not want:
        return not got
    # A line that is only "..." may also stand for no line at all (pip printing nothing).
    want = re.sub(r"\n\.\.\.$", "...", re.sub(r"(?m)^\.\.\.\n", "...", want))
    return doctest.OutputChecker().check_output(want + "\n", got + "\n", doctest.ELLIPSIS)


@dataclass(frozen=True)
class Session:
    outputs: list[str | None]  # what each command printed; None: never reached
    finished: bool  # False: the last command reached was still running at the timeout


def run_session(commands: list[str], *, cwd: Path, env: dict[str, str],
                timeout: float) -> Session:
    """Run ``commands`` in order in one bash session, as a reader types them into one
    terminal (so ``TOKEN=$(...)`` and ``cd`` carry over), and capture what each printed."""
    # The marks between commands keep `$?`, so that `echo $?` shows the previous command's.
    script = ["exec 2>&1 </dev/null",
              "__docs_mark() { local status=$?; printf '\\n%s\\n' \"$1\"; return $status; }"]
    for index, command in enumerate(commands):
        script += [f"__docs_mark '{_MARK.format(index)}'", command]
    script.append(f"__docs_mark '{_MARK.format('end')}'")
    with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as file:
        file.write("\n".join(script) + "\n")
    # Its own process group, so that a timeout also ends whatever a command left running.
    session = subprocess.Popen(["bash", file.name], cwd=cwd, env=env, stdout=subprocess.PIPE,
                               stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        raw, _ = session.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(session.pid, signal.SIGKILL)
        raw, _ = session.communicate()
    finally:
        os.unlink(file.name)
        try:
            os.killpg(session.pid, signal.SIGKILL)  # background jobs a page forgot to stop
        except ProcessLookupError:
            pass
    parts = _MARK_RE.split("\n" + raw.decode("utf-8", errors="replace"))
    outputs: list[str | None] = [None] * len(commands)
    finished = False
    # split() alternates text and marker: [before, "0", out0, "1", out1, ..., "end", rest]
    for mark, text in zip(parts[1::2], parts[2::2], strict=True):
        if mark == "end":
            finished = True
        else:
            outputs[int(mark)] = text
    return Session(outputs, finished)
