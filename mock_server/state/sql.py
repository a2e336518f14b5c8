"""What the SQLite and PostgreSQL engines share: the tables and the statements on them.

Tables (the same in both engines):

    changes   seq, kind, body      the ordered log; nothing older than the latest base change
    blobs     digest, type, data   uploaded files, content-addressed
    counters  key, value           fault rules' hits, so a rule with `count: N` fires N times
                                   fleet-wide
    meta      key, value           the schema version

A dialect gives the connection, the placeholder style and the write lock; this module gives
the statements, so both engines keep one definition of the state on disk. The journal has its
own tables (``state.journal_sql``).
"""

from __future__ import annotations

import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from mock_server.state.engine import BASE_KINDS, Row, StateUnavailable, WriteTxn

#: The schema, one step per version; an engine runs the steps its database has not seen.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        "CREATE TABLE IF NOT EXISTS changes (seq BIGINT PRIMARY KEY, kind TEXT NOT NULL, "
        "body {blob} NOT NULL)",
        "CREATE TABLE IF NOT EXISTS blobs (digest TEXT PRIMARY KEY, content_type TEXT NOT NULL,"
        " data {blob} NOT NULL)",
        "CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, value BIGINT NOT NULL)",
    ),
)


#: The log after a change number (``?`` placeholders; ``SqlEngine.sql`` spells them).
READ_AFTER = "SELECT seq, kind, body FROM changes WHERE seq > ? ORDER BY seq"


def log_rows(found: Sequence[Sequence[Any]]) -> list[Row]:
    """``READ_AFTER``'s result as rows (a driver may give the body as a memoryview)."""
    return [Row(int(s), k, bytes(b)) for s, k, b in found]


def first_line(exc: BaseException, default: str) -> str:
    """A driver error's first line, for a one-line message (``default`` when it has none)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else default


def close_quietly(connection: Any,
                  errors: tuple[type[BaseException], ...] = (Exception,)) -> None:
    """Close a connection that may already be broken (closing it is a courtesy): ``errors``
    from the close are swallowed, anything else propagates."""
    if connection is not None:
        try:
            connection.close()
        except errors:
            pass


class SqlTxn:
    """A write transaction: the dialect has taken the lock and begun it."""

    def __init__(self, engine: SqlEngine, connection: Any) -> None:
        self._engine = engine
        self._cursor = connection.cursor()
        self.committed = False

    def _run(self, sql: str, args: Sequence[Any] = ()) -> Any:
        return self._engine.run(self._cursor, sql, args)

    def execute(self, sql: str, args: Sequence[Any] = ()) -> Any:
        """Any statement of the engine's (``?`` placeholders), in this transaction."""
        return self._run(sql, args)

    def read_after(self, seq: int) -> list[Row]:
        return self._engine.rows(self._cursor, seq)

    def last_seq(self) -> int:
        return int(self._run("SELECT COALESCE(MAX(seq), 0) FROM changes").fetchone()[0])

    def append(self, row: Row) -> None:
        if row.kind in BASE_KINDS:
            self._run("DELETE FROM changes")
        self._run("INSERT INTO changes (seq, kind, body) VALUES (?, ?, ?)",
                  (row.seq, row.kind, row.body))
        self._engine.appended(row.seq)

    def blob_put(self, digest: str, content_type: str, data: bytes) -> None:
        self._run("INSERT INTO blobs (digest, content_type, data) VALUES (?, ?, ?)",
                  (digest, content_type, data))

    def blob_stats(self) -> tuple[int, int]:
        count, total = self._run(
            "SELECT COUNT(*), COALESCE(SUM(LENGTH(data)), 0) FROM blobs").fetchone()
        return int(count), int(total)

    def blob_has(self, digest: str) -> bool:
        return self._run("SELECT 1 FROM blobs WHERE digest = ?", (digest,)).fetchone() is not None

    def blobs_replace(self, items: list[tuple[str, str, bytes]]) -> None:
        self._run("DELETE FROM blobs")
        for digest, content_type, data in items:
            self.blob_put(digest, content_type, data)

    def commit(self) -> None:
        try:
            self._engine.commit(self._cursor)
        except self._engine.connection_errors as exc:
            raise self._engine.lost(exc) from None
        self.committed = True


class SqlEngine(ABC):
    """An engine on a database connection per process (reopened after a fork)."""

    kind: str
    persistent: bool
    placeholder = "?"
    blob_type = "BLOB"

    def __init__(self) -> None:
        self._local = threading.local()
        self._pid = os.getpid()
        self._connection: Any = None
        self._connection_lock = threading.RLock()

    # -- the dialect -------------------------------------------------------------------------

    @abstractmethod
    def connect(self) -> Any:
        """A new connection (raises ``StateUnavailable``)."""

    @abstractmethod
    def lock_and_begin(self, connection: Any) -> None:
        """Take the fleet-wide write lock and begin a transaction."""

    @abstractmethod
    def unlock(self, connection: Any, committed: bool) -> None:
        """End the transaction (rolled back unless committed) and release the lock."""

    @abstractmethod
    def commit(self, cursor: Any) -> None: ...

    @abstractmethod
    def describe(self) -> str: ...

    def appended(self, seq: int) -> None:  # noqa: B027 - a hook most dialects leave empty
        """A change was appended (inside the write lock): SQLite publishes its number."""

    def lost(self, exc: BaseException) -> StateUnavailable:
        """The connection failed: drop it (the next use reconnects) and say why."""
        connection, self._connection = self._connection, None
        close_quietly(connection)
        return self.lost_reason(exc)

    def lost_reason(self, exc: BaseException) -> StateUnavailable:
        return StateUnavailable(f"{self.kind}: {first_line(exc, 'lost')[:200]}")

    #: What a lost connection raises (the driver's own errors).
    connection_errors: tuple[type[BaseException], ...] = ()

    # -- connections -------------------------------------------------------------------------

    @property
    def connection(self) -> Any:
        """This process's connection (a forked child never uses its parent's)."""
        if self._pid != os.getpid():
            self._pid = os.getpid()
            self._connection = None
        if self._connection is None:
            self._connection = self.connect()
        return self._connection

    def sql(self, statement: str) -> str:
        return statement if self.placeholder == "?" else statement.replace("?", self.placeholder)

    def run(self, cursor: Any, statement: str, args: Sequence[Any] = ()) -> Any:
        try:
            return cursor.execute(self.sql(statement), args)
        except self.connection_errors as exc:
            raise self.lost(exc) from None

    @contextmanager
    def _cursor(self) -> Iterator[Any]:
        with self._connection_lock:
            try:
                cursor = self.connection.cursor()
            except self.connection_errors as exc:
                raise self.lost(exc) from None
            yield cursor

    def migrate(self, cursor: Any) -> None:
        """Create or migrate the schema (the caller holds the dialect's schema lock)."""
        self.run(cursor, "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, "
                         "value TEXT NOT NULL)")
        found = self.run(cursor, "SELECT value FROM meta WHERE key = 'schema'").fetchone()
        version = int(found[0]) if found else 0
        for step in MIGRATIONS[version:]:
            for statement in step:
                self.run(cursor, statement.format(blob=self.blob_type))
        if version != len(MIGRATIONS):
            self.run(cursor, "DELETE FROM meta WHERE key = 'schema'")
            self.run(cursor, "INSERT INTO meta (key, value) VALUES ('schema', ?)",
                     (str(len(MIGRATIONS)),))

    # -- the engine contract -----------------------------------------------------------------

    def rows(self, cursor: Any, seq: int) -> list[Row]:
        return log_rows(self.run(cursor, READ_AFTER, (seq,)).fetchall())

    def read_after(self, seq: int) -> list[Row]:
        with self._cursor() as cursor:
            return self.rows(cursor, seq)

    async def read_after_async(self, seq: int) -> list[Row]:
        return self.read_after(seq)

    def changed_since(self, seq: int) -> bool:
        return True

    @contextmanager
    def writing(self) -> Iterator[WriteTxn]:
        with self._connection_lock:
            connection = self.connection
            try:
                self.lock_and_begin(connection)
            except self.connection_errors as exc:
                raise self.lost(exc) from None
            txn = SqlTxn(self, connection)
            try:
                yield txn
            finally:
                try:
                    self.unlock(connection, txn.committed)
                except self.connection_errors as exc:
                    if txn.committed:  # the commit went through; the lock goes with the link
                        self.lost(exc)
                    else:
                        raise self.lost(exc) from None

    def blob_get(self, digest: str) -> tuple[bytes, str] | None:
        with self._cursor() as cursor:
            found = self.run(cursor, "SELECT data, content_type FROM blobs WHERE digest = ?",
                             (digest,)).fetchone()
        return None if found is None else (bytes(found[0]), found[1])

    def blob_stats(self) -> tuple[int, int]:
        with self._cursor() as cursor:
            count, total = self.run(
                cursor, "SELECT COUNT(*), COALESCE(SUM(LENGTH(data)), 0) FROM blobs").fetchone()
        return int(count), int(total)

    def blob_all(self) -> list[tuple[str, str, bytes]]:
        with self._cursor() as cursor:
            found = self.run(cursor, "SELECT digest, content_type, data FROM blobs "
                                     "ORDER BY digest").fetchall()
        return [(digest, ctype, bytes(data)) for digest, ctype, data in found]

    def counter_take(self, key: str, limit: int | None) -> bool:
        with self.writing() as txn:
            sql_txn: SqlTxn = txn  # type: ignore[assignment]
            sql_txn.execute("INSERT INTO counters (key, value) VALUES (?, 0) "
                            "ON CONFLICT (key) DO NOTHING", (key,))
            if limit is None:
                sql_txn.execute("UPDATE counters SET value = value + 1 WHERE key = ?", (key,))
                taken = True
            else:
                taken = sql_txn.execute("UPDATE counters SET value = value + 1 "
                                        "WHERE key = ? AND value < ?",
                                        (key, limit)).rowcount == 1
            txn.commit()
            return taken

    def counter_values(self, keys: list[str]) -> dict[str, int]:
        if not keys:
            return {}
        with self._cursor() as cursor:
            marks = ", ".join("?" for _ in keys)
            found = self.run(cursor, f"SELECT key, value FROM counters WHERE key IN ({marks})",
                             keys).fetchall()
        values = {key: 0 for key in keys}
        values.update({key: int(value) for key, value in found})
        return values

    def before_fork(self) -> None:
        self.close()

    def close(self) -> None:
        """Under the connection's lock: closing a connection another thread is using (the
        follower catching up) would pull it out from under that thread's statement."""
        with self._connection_lock:
            connection, self._connection = self._connection, None
            if self._pid == os.getpid():
                close_quietly(connection, self.connection_errors)
