"""Where bearer tokens come from: a fixed string, or a command printing a fresh one.

A command is how a CI job keeps working across a token's expiry without storing a long-lived
secret; the target's session asks for a new token when the target answers 401 or 498.
"""

from __future__ import annotations

import subprocess
import threading
import time

__all__ = ["TokenCommandError", "TokenSource"]


class TokenCommandError(RuntimeError):
    """`--token-command` failed or printed nothing; checks cannot authenticate."""



class TokenSource:
    """Where a bearer token comes from: a fixed string, or a command printing a fresh one.

    A command runs lazily (first use) and again on `refresh()`, which is how a CI job keeps
    working across a token's expiry without storing a long-lived secret.
    """

    def __init__(self, *, token: str | None = None, command: str | None = None) -> None:
        if (token is None) == (command is None):
            raise ValueError("give exactly one of token= or command=")
        if token is not None and not token.strip():
            raise ValueError("token is empty")
        self._token = token.strip() if token is not None else None
        self.command = command
        self._lock = threading.Lock()
        self.refreshes = 0
        #: Every token this source handed out, so reports can name all of them by variable.
        self.history: list[str] = [self._token] if self._token else []
        #: Seconds between two runs of the command; a refused fresh token is not retried.
        self.min_interval = 2.0
        self._refreshed_at = -1e9

    @classmethod
    def of(cls, value: str | TokenSource | None) -> TokenSource | None:
        if value is None or isinstance(value, TokenSource):
            return value
        return cls(token=value)

    @property
    def refreshable(self) -> bool:
        return self.command is not None

    def current(self) -> str:
        with self._lock:
            if self._token is None:
                self._token = self._run_command()
                self.history.append(self._token)
            return self._token

    def issued(self, token: str) -> bool:
        """Whether this source handed out `token` (the current one or an earlier one)."""
        return token in self.history

    def refresh(self, stale: str | None = None) -> str | None:
        """Fetch a new token; `None` when the source is a fixed string.

        `stale` is the token a failed request carried: when another thread already replaced it,
        the newer token is returned without running the command again.
        """
        if self.command is None:
            return None
        with self._lock:
            if stale is not None and self._token is not None and self._token != stale:
                return self._token
            if time.monotonic() - self._refreshed_at < self.min_interval:
                return None  # just refreshed and still refused: the token is not the problem
            self._refreshed_at = time.monotonic()
            self._token = self._run_command()
            self.history.append(self._token)
            self.refreshes += 1
            return self._token

    def _run_command(self) -> str:
        assert self.command is not None
        try:
            completed = subprocess.run(
                self.command, shell=True, capture_output=True, text=True, timeout=60, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise TokenCommandError(f"token command timed out: {self.command}") from exc
        if completed.returncode != 0:
            raise TokenCommandError(
                f"token command exited {completed.returncode}: {self.command}\n"
                f"{completed.stderr.strip()[:500]}"
            )
        lines = [line.strip() for line in completed.stdout.splitlines() if line.strip()]
        if not lines:
            raise TokenCommandError(f"token command printed nothing: {self.command}")
        # The last line, so commands that print a banner first still work.
        return lines[-1].removeprefix("Bearer ").strip()

    def describe(self) -> str:
        return f"command `{self.command}`" if self.command else "fixed token"
