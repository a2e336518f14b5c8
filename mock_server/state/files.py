"""Durable file writes: atomic replacement, and a writer that batches bursts of changes.

Used for whatever the mock keeps in a file (the validation proxy's report, the JSON state
file); kept free of any mock import so every layer that writes a file can use it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger("mock_server.files")


def atomic_write(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace ``path`` with ``data`` so that readers see the old file or the new one, whole."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp",
                                         dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable where supported
        directory = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


class DebouncedWriter:
    """Runs ``write`` on a daemon thread ``delay`` seconds after the latest ``touch``.

    ``flush`` writes now if anything was touched since the last write (used at shutdown).
    A generation counter, not a flag, so a change made during a write is never lost.
    """

    def __init__(self, write: Callable[[], None], delay: float = 0.5,
                 name: str = "debounced-writer") -> None:
        self._write = write
        self._delay = delay
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._generation = 0
        self._written = 0
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def touch(self) -> None:
        self._generation += 1  # a lost increment under a race still leaves it above _written
        self._wake.set()

    @property
    def dirty(self) -> bool:
        return self._generation != self._written

    def flush(self) -> bool:
        """Write now if dirty; returns whether it wrote."""
        with self._lock:
            generation = self._generation
            if generation == self._written:
                return False
            self._write()
            self._written = generation
            return True

    def stop(self) -> None:
        self._stopped = True
        self._wake.set()
        self.flush()

    def _run(self) -> None:
        while not self._stopped:
            self._wake.wait()
            if self._stopped:
                return
            self._wake.clear()
            threading.Event().wait(self._delay)
            try:
                self.flush()
            except Exception:  # keep serving; the next change or the shutdown retries
                log.exception("could not write the state")
