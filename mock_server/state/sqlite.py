"""The SQLite engine: the workers of one machine share one state through a file.

`mock-server serve` runs one worker process per core by default; each must see at once what
another just wrote (a client creates an event on one connection and reads it on the next,
which may land on another worker), and check-then-act rules must hold across processes. The
log of changes, the uploads and the fault counters live in one SQLite database in WAL mode:

* the fleet-wide write lock is an ``flock`` on a small file beside the database (a waiter is
  woken the moment it is free; SQLite's own busy lock polls with sleeps of 1, 2, 5, 10 ms,
  which under load left writes queued for milliseconds while both cores idled);
* the number of the last committed change is published in that same file, mapped into every
  process: a request asks "did anything change?" by reading 8 bytes (``PRAGMA data_version``
  cost ~30 us per request under load), and reads the log only when it did. The writer
  publishes after its commit and before it answers, so a write acknowledged before a request
  starts is always seen by it.

Durability: with ``--state-file`` the database is that file, written with
``synchronous=NORMAL``: every acknowledged write survives the death of any process (it is in
the WAL, in the operating system's hands, before the answer); a power cut may lose the last
few. Without it the database is a temporary file removed at exit, with ``synchronous=OFF``.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from mock_server.state.engine import StateUnavailable
from mock_server.state.mapped import MappedCounter, ProcessCounter
from mock_server.state.sql import SqlEngine


class SqliteEngine(SqlEngine):
    kind = "sqlite"
    connection_errors = (sqlite3.OperationalError, sqlite3.DatabaseError)

    def __init__(self, path: str | os.PathLike[str], *, persistent: bool) -> None:
        super().__init__()
        self.path = str(path)
        self.persistent = persistent
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._published_counter = ProcessCounter(self.path + ".lock")
        self._pending_publish: int | None = None
        with self._connection_lock:
            published = self._published
            published.lock()
            try:
                cursor = self.connection.cursor()
                self.migrate(cursor)
                last = cursor.execute("SELECT COALESCE(MAX(seq), 0) FROM changes").fetchone()
                published.write(int(last[0]))  # a stale file from an earlier run is corrected
            finally:
                published.unlock()

    def describe(self) -> str:
        return f"SQLite {self.path}" + ("" if self.persistent else " (temporary)")

    @property
    def _published(self) -> MappedCounter:
        """This process's own descriptor: one inherited through a fork would share its
        parent's lock, so the lock would exclude nobody."""
        return self._published_counter.get()

    def connect(self) -> Any:
        try:
            connection = sqlite3.connect(self.path, timeout=30.0, isolation_level=None,
                                         check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=" + ("NORMAL" if self.persistent else "OFF"))
        except sqlite3.Error as exc:
            raise StateUnavailable(f"cannot open {self.path}: {exc}") from None
        return connection

    def changed_since(self, seq: int) -> bool:
        return self._published.read() > seq

    def lock_and_begin(self, connection: Any) -> None:
        self._published.lock()
        try:
            connection.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._published.unlock()
            raise

    def appended(self, seq: int) -> None:
        self._pending_publish = seq

    def commit(self, cursor: Any) -> None:
        cursor.execute("COMMIT")
        seq = self._pending_publish
        if seq is not None:
            self._published.write(seq)
            self._pending_publish = None

    def unlock(self, connection: Any, committed: bool) -> None:
        try:
            if not committed:
                self._pending_publish = None
                connection.execute("ROLLBACK")
        finally:
            self._published.unlock()

    def close(self) -> None:
        super().close()
        with self._connection_lock:
            self._published_counter.close()


def remove_database(path: str) -> None:
    """Delete a temporary database and the files SQLite and the lock keep beside it."""
    for suffix in ("", "-wal", "-shm", ".lock", ".journal", ".journal-wal", ".journal-shm"):
        try:
            os.unlink(path + suffix)
        except FileNotFoundError:
            pass
