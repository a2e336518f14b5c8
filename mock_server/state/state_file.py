"""`--state-file`: the mock's whole state on disk, so a restart loses nothing a partner made.

The file is the admin API's export document (`GET /__admin/state`). It is loaded at start (a
missing file means "start from the fixtures"; an unreadable one stops the start with a message,
rather than silently discarding a partner's data), and written:

* after changes, debounced: a request that may change state (any method but GET, HEAD and
  OPTIONS, admin requests included) marks the state dirty, and a background thread writes it
  ``debounce`` seconds later, so a burst of requests costs one write;
* at shutdown, including on SIGTERM (what `docker stop`, systemd and CI runners send), if
  anything changed since the last write.

Writes are atomic: a temporary file in the same directory, flushed and fsynced, then
``os.replace`` over the old file, so a crash mid-write leaves the previous complete file.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Callable, Iterable
from pathlib import Path
from types import FrameType
from typing import Any, Protocol

import orjson

from mock_server.domain.errors import RuleViolation
from mock_server.state.files import DebouncedWriter, atomic_write

log = logging.getLogger("mock_server.state_file")
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class WholeState(Protocol):
    """What is kept in the file: the admin API's whole-state document, out and in."""

    def export_state(self) -> dict[str, Any]: ...

    def import_state(self, document: Any) -> None: ...


class StateFileError(Exception):
    """The state file exists but cannot be used; the mock refuses to start on it."""


class StateFile:
    """Keeps ``services``' whole state in ``path`` (see the module docstring)."""

    def __init__(self, path: str | os.PathLike[str], services: WholeState, *,
                 debounce: float = 0.5) -> None:
        self.path = Path(path)
        self.services = services
        self.writer = DebouncedWriter(self.save, debounce, name="state-file")

    def load(self) -> bool:
        """Import the file if it exists; returns whether it did."""
        if not self.path.exists():
            return False
        try:
            document = orjson.loads(self.path.read_bytes())
        except (OSError, orjson.JSONDecodeError) as exc:
            raise StateFileError(f"cannot read state file {self.path}: {exc}") from None
        try:
            self.services.import_state(document)
        except RuleViolation as exc:
            raise StateFileError(f"state file {self.path} is not a mock state: {exc.message} "
                                 f"{exc.errors or ''}".rstrip()) from None
        return True

    def save(self) -> None:
        atomic_write(self.path, orjson.dumps(self.services.export_state()))
        log.info("state written to %s", self.path)

    def start(self) -> None:
        self.writer.start()

    def changed(self) -> None:
        self.writer.touch()

    def close(self) -> None:
        """Stop the background writer and write a last time if anything changed."""
        self.writer.stop()

    def middleware(self, app: Callable[..., Iterable[bytes]]) -> Callable[..., Any]:
        """A WSGI layer marking the state dirty after each request that may change it."""

        def marking(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            if environ.get("REQUEST_METHOD", "GET") not in READ_ONLY_METHODS:
                try:
                    return app(environ, start_response)
                finally:
                    self.writer.touch()
            return app(environ, start_response)

        return marking


def on_termination(handler: Callable[[], None]) -> None:
    """Run ``handler`` on SIGTERM, then leave as on Ctrl-C (waitress shuts down cleanly).

    Must be called from the main thread (Python delivers signals there).
    """

    def terminate(signum: int, frame: FrameType | None) -> None:
        try:
            handler()
        finally:
            raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminate)
