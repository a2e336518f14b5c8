"""The live progress line on stderr."""

from __future__ import annotations

import sys
import threading
import time
from typing import Any, TextIO

__all__ = ["Progress"]


class Progress:
    """A live one-line status on stderr while a run goes on (only on a TTY, or when asked).

    Updates are throttled so a fast local target is not slowed down by terminal writes.
    """

    def __init__(self, stream: TextIO | None = None, *, enabled: bool | None = None,
                 interval: float = 0.1) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.interval = interval
        self.started = time.monotonic()
        self._last = 0.0
        self._lock = threading.Lock()
        self.phase = "starting"
        self.done = 0
        self.total = 0
        self.requests = 0
        self.failures = 0
        self._width = 0

    def update(self, *, phase: str | None = None, done: int | None = None,
               total: int | None = None, failures: int | None = None,
               requests: int | None = None, force: bool = False) -> None:
        with self._lock:
            if phase is not None:
                self.phase = phase
            if done is not None:
                self.done = done
            if total is not None:
                self.total = total
            if failures is not None:
                self.failures = failures
            if requests is not None:
                self.requests = requests
            self._render(force)

    def on_request(self, request: Any, response: Any, count: int) -> None:
        """Journal listener: keep the request count of the line current."""
        self.update(requests=count)

    def _render(self, force: bool) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        line = (f"[contracts] {self.phase} {self.done}/{self.total} · "
                f"{self.requests} requests · {self.failures} failed · {now - self.started:.1f}s")
        padding = max(self._width - len(line), 0)
        self._width = len(line)
        self.stream.write("\r" + line + " " * padding)
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
