"""The request journal in the database every worker and replica shares (SQLite or PostgreSQL).

The guarantee, whatever answers: an exchange answered before a journal query began is in that
query's answer, whichever worker or replica served it. Writing each exchange to a database
before answering it would put a commit on every request's path; instead every process
appends to a buffer (a list append, on the request's thread) and a flusher thread writes the
buffer in one transaction every ``FLUSH_INTERVAL`` seconds, then records how far it got: the
database's time *before* it took the buffer (``writers.flushed_through``). A query takes the
database's time when it begins and waits, a few milliseconds, until every live writer has
flushed through that time; then every exchange answered before it is in the table.

A writer with nothing to flush for a second says so (``IDLE_MARK``: flushed through any time)
and stops writing, so an idle mock costs its database nothing; the next exchange it records
first takes the mark back, synchronously, before that exchange can be answered (``_wake``).

Only the last ``size`` exchanges are kept, and apart from them the last ``size`` that matched
no operation, so a flood of good traffic cannot push the misses out.
"""

from __future__ import annotations

import logging
import os
import socket
import sqlite3
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol

from mock_server.state.journal import JournalRecord
from mock_server.state.sql import close_quietly

log = logging.getLogger("mock_server.journal")
#: Seconds between a process's flushes of its buffer (and heartbeats, while it is busy).
FLUSH_INTERVAL = 0.025
#: Empty flushes in a row after which a writer says it is idle and stops flushing (1 s).
IDLE_FLUSHES = 40
#: ``flushed_through`` of an idle writer: past every query's start, so none waits for it.
IDLE_MARK = 1e300
#: A writer that has not flushed for this long is gone (killed): queries stop waiting for it.
WRITER_LIVENESS = 2.0
#: The longest a query waits for the other writers to flush.
QUERY_WAIT = 1.5

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS exchanges (id {serial}, started DOUBLE PRECISION "
    "NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL, status INTEGER, operation_id TEXT, "
    "unmatched BOOLEAN NOT NULL, faulted BOOLEAN NOT NULL, violating BOOLEAN NOT NULL, "
    "doc {blob} NOT NULL, request_body {blob} NOT NULL, response_body {blob} NOT NULL)",
    # The misses the trim keeps, found without walking every exchange (and, in PostgreSQL,
    # every dead row of the exchanges trimmed since the last vacuum).
    "CREATE INDEX IF NOT EXISTS exchanges_misses ON exchanges (id) WHERE unmatched",
    "CREATE TABLE IF NOT EXISTS journal_writers (writer TEXT PRIMARY KEY, "
    "flushed_through DOUBLE PRECISION NOT NULL, seen DOUBLE PRECISION NOT NULL)",
    "CREATE TABLE IF NOT EXISTS journal_totals (id INTEGER PRIMARY KEY, "
    "recorded BIGINT NOT NULL)",
)
#: A writer's watermark: (writer, flushed_through, seen, flushed_through, seen).
_WATERMARK = ("INSERT INTO journal_writers (writer, flushed_through, seen) VALUES (?, ?, ?) "
              "ON CONFLICT (writer) DO UPDATE SET flushed_through = ?, seen = ?")
_TOTALS = ("INSERT INTO journal_totals (id, recorded) VALUES (1, ?) ON CONFLICT (id) DO UPDATE "
           "SET recorded = journal_totals.recorded + ?")
#: Drop what is past the last ``size`` (and the last ``size`` misses): (size, size).
#: Once per ``size // 2`` exchanges a process wrote, not at every flush: the rows past the
#: size are invisible anyway (every read takes the newest ``size``), and a trim's fixed cost
#: was a third of a flush's. The table holds at most half a journal more per process.
_TRIM = ("DELETE FROM exchanges WHERE id < (SELECT COALESCE(MIN(id), 0) FROM (SELECT id FROM "
         "exchanges ORDER BY id DESC LIMIT ?) AS recent) AND (NOT unmatched OR id < (SELECT "
         "COALESCE(MIN(id), 0) FROM (SELECT id FROM exchanges WHERE unmatched ORDER BY id DESC "
         "LIMIT ?) AS misses))")
_LIGHT = "id, started, method, path, status, operation_id, unmatched, faulted, violating"
_FULL = _LIGHT + ", doc, request_body, response_body"


class JournalDialect(Protocol):
    """A connection to the journal's database and its few differences in SQL."""

    placeholder: str
    serial: str
    blob: str
    errors: tuple[type[BaseException], ...]

    def connect(self) -> Any: ...

    def now(self, connection: Any) -> float:
        """The database's clock (the one clock every machine shares), in epoch seconds."""
        ...

    def schema_lock(self, connection: Any) -> AbstractContextManager[None]:
        """Held while the tables are created: replicas may start at the same moment."""
        ...

    def tune(self, connection: Any) -> None:
        """Adjust the tables once they exist (under the schema lock): the engine's own
        storage settings for what the journal writes most, its bodies."""
        ...

    def trimmed(self, connection: Any) -> None:
        """After a trim's commit: reclaim what it deleted, if the engine leaves that to later."""
        ...

    def begin_at(self, connection: Any) -> float:
        """Begin a flush's transaction; the database's time, taken before the call returns
        (one round trip where the engine allows)."""
        ...

    def commit_with(self, connection: Any, statements: list[tuple[str, tuple[Any, ...]]],
                    ) -> None:
        """Run ``statements`` in the transaction and commit it (one round trip where the
        engine allows)."""
        ...

    def rollback(self, connection: Any) -> None: ...

    def insert_exchanges(self, cursor: Any, rows: Iterable[tuple[Any, ...]]) -> None:
        """Add a flush's exchanges (``EXCHANGE_COLUMNS``, in order)."""
        ...


#: The columns a flush writes, in the order ``insert_exchanges`` receives them.
EXCHANGE_COLUMNS = ("started", "method", "path", "status", "operation_id", "unmatched",
                    "faulted", "violating", "doc", "request_body", "response_body")


class SqliteJournalDialect:
    placeholder = "?"
    serial = "INTEGER PRIMARY KEY AUTOINCREMENT"  # ids never go back, even after a clear
    blob = "BLOB"
    errors: tuple[type[BaseException], ...] = (sqlite3.Error,)

    def __init__(self, path: str) -> None:
        self.path = path

    def connect(self) -> Any:
        connection = sqlite3.connect(self.path, timeout=30.0, isolation_level=None,
                                     check_same_thread=False)
        # Set before the tables exist (a file made earlier keeps its own): a 16 KB body fits
        # in one page instead of a chain of five, which halves a flush's cost (bench/README.md).
        connection.execute("PRAGMA page_size=65536")
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=OFF")  # test traffic, not partners' data
        return connection

    def now(self, connection: Any) -> float:
        return time.time()  # one machine: one clock

    @contextmanager
    def schema_lock(self, connection: Any) -> Iterator[None]:
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def tune(self, connection: Any) -> None:
        """Nothing: SQLite stores a body as it is (its 64 KB pages hold one whole)."""

    def trimmed(self, connection: Any) -> None:
        """Nothing: SQLite reuses a deleted row's pages at once."""

    def begin_at(self, connection: Any) -> float:
        connection.execute("BEGIN IMMEDIATE")
        return time.time()

    def commit_with(self, connection: Any, statements: list[tuple[str, tuple[Any, ...]]],
                    ) -> None:
        for statement, args in statements:
            connection.execute(statement, args)
        connection.execute("COMMIT")

    def rollback(self, connection: Any) -> None:
        connection.execute("ROLLBACK")

    def insert_exchanges(self, cursor: Any, rows: Iterable[tuple[Any, ...]]) -> None:
        cursor.executemany(f"INSERT INTO exchanges ({', '.join(EXCHANGE_COLUMNS)}) VALUES "
                           f"({', '.join('?' for _ in EXCHANGE_COLUMNS)})", rows)


class SqlJournal:
    """The fleet's journal in a database (see the module docstring for the guarantee)."""

    def __init__(self, dialect: JournalDialect, size: int) -> None:
        if size < 0:
            raise ValueError("journal size must be >= 0")
        self.size = size
        self.dialect = dialect
        self.writer = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._buffer: list[Callable[[], JournalRecord]] = []
        self._buffer_lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._connection: Any = None
        self._pid = os.getpid()
        self._flusher_pid: int | None = None
        self._untrimmed = 0  # exchanges this process wrote since it last trimmed the table
        self._quiet = 0  # empty flushes in a row
        self._idle = False  # the table says this writer is idle (``IDLE_MARK``)
        with self._connected() as connection, dialect.schema_lock(connection):
            for statement in SCHEMA:
                connection.execute(statement.format(serial=dialect.serial, blob=dialect.blob))
            dialect.tune(connection)

    def _sql(self, statement: str) -> str:
        return (statement if self.dialect.placeholder == "?"
                else statement.replace("?", self.dialect.placeholder))

    # -- connections -----------------------------------------------------------------------

    class _Connected:
        def __init__(self, journal: SqlJournal) -> None:
            self.journal = journal

        def __enter__(self) -> Any:
            journal = self.journal
            journal._flush_lock.acquire()
            try:
                if journal._pid != os.getpid():
                    journal._pid, journal._connection = os.getpid(), None
                    journal.writer = (f"{socket.gethostname()}:{os.getpid()}:"
                                      f"{uuid.uuid4().hex[:8]}")
                    journal._buffer = []
                    journal._quiet, journal._idle = 0, False
                if journal._connection is None:
                    journal._connection = journal.dialect.connect()
                return journal._connection
            except BaseException:
                journal._flush_lock.release()
                raise

        def __exit__(self, kind: Any, value: Any, traceback: Any) -> None:
            if kind is not None and isinstance(value, self.journal.dialect.errors):
                self.journal._connection = None  # reconnect next time
            self.journal._flush_lock.release()

    def _connected(self) -> SqlJournal._Connected:
        return SqlJournal._Connected(self)

    def before_fork(self) -> None:
        connection, self._connection = self._connection, None
        close_quietly(connection, self.dialect.errors)

    # -- writing ---------------------------------------------------------------------------

    def record(self, make: Callable[[], JournalRecord]) -> None:
        if self.size == 0:
            return
        if self._flusher_pid != os.getpid():
            self._register()
        with self._buffer_lock:
            if not self._idle:
                self._buffer.append(make)
                return
        self._wake(make)

    def _wake(self, make: Callable[[], JournalRecord]) -> None:
        """Take the idle mark back before ``make``'s exchange is answered, then buffer it.

        Under the flush lock, so the mark's own flush has committed and no other flush runs
        until the exchange is buffered. Should the database be unreachable, the exchange is
        buffered anyway and the next flush that succeeds writes a true watermark (a query
        needs the database too: it cannot begin before that, bar a flush interval).
        """
        with self._connected() as connection:
            with self._buffer_lock:
                if not self._idle:  # another request woke it meanwhile
                    self._buffer.append(make)
                    return
            try:
                now = self.dialect.now(connection)
                connection.execute(self._sql(_WATERMARK), (self.writer, now, now, now, now))
            except self.dialect.errors as exc:
                log.warning("journal: could not say this writer is busy again: %s", exc)
                self._connection = None
            with self._buffer_lock:
                self._idle, self._quiet = False, 0
                self._buffer.append(make)

    def _register(self) -> None:
        """Before this process's first exchange is answered, it is a writer queries wait for
        (flushed through nothing yet); then its flusher starts."""
        with self._connected() as connection:
            now = self.dialect.now(connection)
            connection.execute(self._sql(
                "INSERT INTO journal_writers (writer, flushed_through, seen) VALUES (?, 0, ?) "
                "ON CONFLICT (writer) DO UPDATE SET seen = ?"), (self.writer, now, now))
        self._start_flusher()

    def flush(self) -> None:
        """Write the buffer and the watermark (the time before the buffer was taken)."""
        if self._idle:
            return  # nothing buffered (``record`` wakes it first), and the table says so
        with self._connected() as connection:
            through = self.dialect.begin_at(connection)
            with self._buffer_lock:
                idle = self._idle
                if not idle:
                    taken, self._buffer = self._buffer, []
                    self._quiet = 0 if taken else self._quiet + 1
                    going_idle = self._quiet >= IDLE_FLUSHES
                    if going_idle:  # from here on, ``record`` wakes it first
                        self._idle = True
            if idle:  # another flush marked it idle meanwhile: nothing to flush
                self.dialect.rollback(connection)
                return
            kept = taken[-self.size:]  # older ones: evicted at once
            mark = IDLE_MARK if going_idle else through
            statements: list[tuple[str, tuple[Any, ...]]] = []
            trim = False
            try:
                if kept:
                    self.dialect.insert_exchanges(connection.cursor(), _rows(kept))
                    statements.append((_TOTALS, (len(taken), len(taken))))
                    self._untrimmed += len(kept)
                    trim = self._untrimmed >= max(1, self.size // 2)
                    if trim:
                        statements.append((_TRIM, (self.size, self.size)))
                statements.append((_WATERMARK, (self.writer, mark, through, mark, through)))
                self.dialect.commit_with(connection, [(self._sql(statement), args)
                                                      for statement, args in statements])
            except BaseException:
                try:
                    self.dialect.rollback(connection)
                finally:
                    with self._buffer_lock:  # keep what was taken for the next flush
                        self._buffer[:0] = taken
                        if going_idle:
                            self._idle, self._quiet = False, 0
                raise
            if trim:
                self._untrimmed = 0
                self.dialect.trimmed(connection)

    def _start_flusher(self) -> None:
        pid = os.getpid()
        if self._flusher_pid == pid:
            return
        self._flusher_pid = pid
        threading.Thread(target=_flush_forever, args=(weakref.ref(self), pid), daemon=True,
                         name="journal-flusher").start()

    # -- reading ---------------------------------------------------------------------------

    def _everyone_flushed(self) -> None:
        """Wait until every live writer has flushed what it answered before now.

        This process's own flush comes first and covers what it answered before the query
        arrived, so it is not among those waited for (a process that had served nothing yet,
        so had no flusher, waited ``QUERY_WAIT`` for itself)."""
        self.flush()
        deadline = time.monotonic() + QUERY_WAIT
        with self._connected() as connection:
            began = self.dialect.now(connection)
        while True:
            with self._connected() as connection:
                behind = connection.execute(self._sql(
                    "SELECT COUNT(*) FROM journal_writers WHERE flushed_through < ? "
                    "AND seen > ? AND writer <> ?"),
                    (began, began - WRITER_LIVENESS, self.writer)).fetchone()[0]
            if not behind or time.monotonic() > deadline:
                if behind:
                    log.warning("journal: %d writer(s) did not flush in %.1f s", behind,
                                QUERY_WAIT)
                return
            time.sleep(FLUSH_INTERVAL / 5)

    def index(self, *, unmatched: bool = False) -> list[JournalRecord]:
        self._everyone_flushed()
        where = "WHERE unmatched " if unmatched else ""
        with self._connected() as connection:
            rows = connection.execute(self._sql(
                f"SELECT {_LIGHT} FROM (SELECT {_LIGHT} FROM exchanges {where}ORDER BY id DESC "
                "LIMIT ?) AS kept ORDER BY id"), (self.size,)).fetchall()
        return [JournalRecord(int(i), float(s), m, p, st, o, bool(u), bool(f), bool(v))
                for i, s, m, p, st, o, u, f, v in rows]

    def fetch(self, ids: Sequence[int]) -> list[JournalRecord]:
        found: list[JournalRecord] = []
        with self._connected() as connection:
            for chunk in _chunks(list(ids), 500):
                marks = ", ".join("?" for _ in chunk)
                rows = connection.execute(self._sql(
                    f"SELECT {_FULL} FROM exchanges WHERE id IN ({marks})"), chunk).fetchall()
                found.extend(JournalRecord(int(i), float(s), m, p, st, o, bool(u), bool(f),
                                           bool(v), bytes(d), bytes(rq), bytes(rs))
                             for i, s, m, p, st, o, u, f, v, d, rq, rs in rows)
        return sorted(found, key=lambda r: r.id)

    def clear(self) -> int:
        self._everyone_flushed()
        with self._connected() as connection:
            kept = connection.execute(self._sql(
                "SELECT COUNT(*) FROM (SELECT id FROM exchanges ORDER BY id DESC LIMIT ?) "
                "AS kept"), (self.size,)).fetchone()[0]
            connection.execute("DELETE FROM exchanges")
            # `stats` counts since start or clear, as the admin API says.
            connection.execute("DELETE FROM journal_totals")
        return int(kept)

    def stats(self) -> dict[str, int]:
        self._everyone_flushed()
        with self._connected() as connection:
            kept = connection.execute(self._sql(
                "SELECT COUNT(*) FROM (SELECT id FROM exchanges ORDER BY id DESC LIMIT ?) "
                "AS kept"), (self.size,)).fetchone()[0]
            unmatched = connection.execute(self._sql(
                "SELECT COUNT(*) FROM (SELECT id FROM exchanges WHERE unmatched ORDER BY id "
                "DESC LIMIT ?) AS misses"), (self.size,)).fetchone()[0]
            total = connection.execute("SELECT recorded FROM journal_totals WHERE id = 1"
                                       ).fetchone()
        recorded = int(total[0]) if total else 0
        return {"size": self.size, "kept": int(kept), "unmatched_kept": int(unmatched),
                "recorded": recorded, "evicted": recorded - int(kept)}


def _flush_forever(ref: weakref.ref[SqlJournal], pid: int) -> None:
    while os.getpid() == pid:
        time.sleep(FLUSH_INTERVAL)
        journal = ref()
        if journal is None:
            return
        try:
            journal.flush()
        except Exception as exc:  # a lost database: keep the buffer, try again
            log.debug("journal flush failed: %s", exc)
        del journal


def _rows(kept: Sequence[Callable[[], JournalRecord]]) -> Iterator[tuple[Any, ...]]:
    """The exchanges' rows (``EXCHANGE_COLUMNS``), encoded as the insert takes them. An
    exchange that cannot be encoded is left out with a log line; it used to take its whole
    flush with it (raised before the transaction, the buffer it had taken was dropped)."""
    for make in kept:
        try:
            r = make()
        except Exception:  # noqa: BLE001 - one bad exchange must not cost the others
            log.exception("journal: an exchange could not be encoded; it is left out")
            continue
        yield (r.started, r.method, r.path, r.status, r.operation_id, r.unmatched, r.faulted,
               r.violating, r.doc, r.request_body, r.response_body)


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
