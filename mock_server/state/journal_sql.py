"""The request journal in the database every worker and replica shares (SQLite or PostgreSQL).

The guarantee, whatever answers: an exchange answered before a journal query began is in that
query's answer, whichever worker or replica served it. Writing each exchange to a database
before answering it would put a commit on every request's path, and writing every exchange
at all is wasted work: only the last ``size`` are ever read, and under load a process answers
thousands a second that nobody will read. So every process holds its newest exchanges in
memory (the last ``size``, and apart the last ``size`` misses; encoded only if written) and
writes them when a query asks. A query flushes its own process's exchanges, takes the
database's time, asks every other writer to flush (``demand``: PostgreSQL's ``NOTIFY``, a
mapped counter on SQLite's one machine) and waits until each live writer has flushed through
that time (``writers.flushed_through``: the database's time *before* the writer took what it
held). Measured (bench/README.md): writing every exchange every 25 ms cost the default mock
a quarter of its public-list throughput and nearly doubled that list's p99.

A writer that answered nothing for ``QUIET`` seconds writes what it holds and says it is idle
(``IDLE_MARK``: flushed through any time), so an idle mock costs its database nothing and a
process killed after a quiet second loses none of its exchanges; the next exchange it records
first takes the mark back, synchronously, before that exchange can be answered (``_wake``).
A busy writer tells the others it is alive every ``HEARTBEAT``; one that stops (killed) is
waited for no longer after ``WRITER_LIVENESS``, and the exchanges it held are lost with it.

Only the last ``size`` exchanges are kept (by the time they began), and apart from them the
last ``size`` that matched no operation, so a flood of good traffic cannot push the misses out.
"""

from __future__ import annotations

import collections
import logging
import multiprocessing.util
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
from mock_server.state.mapped import MappedCounter, ProcessCounter
from mock_server.state.sql import close_quietly

log = logging.getLogger("mock_server.journal")
#: Seconds without a new exchange after which a writer writes what it holds and says it is idle.
QUIET = 1.0
#: Seconds between a busy writer's "still alive" (``seen``), while no query asks it to flush.
HEARTBEAT = 0.5
#: ``flushed_through`` of an idle writer: past every query's start, so none waits for it.
IDLE_MARK = 1e300
#: A writer not seen for this long is gone (killed): queries stop waiting for it.
WRITER_LIVENESS = 2.0
#: The longest a query waits for the other writers to flush: under a full load, writers that
#: each hold a journal's worth of list answers took 110-320 ms (bench/README.md).
QUERY_WAIT = 5.0
#: SQLite: how often a busy writer reads the demand counter (PostgreSQL's are notified).
#: Each read wakes the writer's thread, which then waits for the GIL the worker's requests
#: hold: every 5 ms, that cost the public list ~3 ms of p99 (bench/README.md).
DEMAND_POLL = 0.05
#: How often a query looks whether the writers it waits for have flushed.
QUERY_POLL = 0.005
#: PostgreSQL's channel for a query's demand.
DEMAND_CHANNEL = "mock_server_journal"

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
#: The journal's order: when each exchange began (a client's next request begins after its
#: last was answered, whichever process answered it), then the order they were written in.
_NEWEST = "ORDER BY started DESC, id DESC"
#: Drop what is past the last ``size`` (and the last ``size`` misses): (size, size).
#: Once per ``size // 2`` exchanges a process wrote, not at every flush: the rows past the
#: size are invisible anyway (every read takes the newest ``size``), and a trim's fixed cost
#: was a third of a flush's. The table holds at most half a journal more per process.
_TRIM = (f"DELETE FROM exchanges WHERE id NOT IN (SELECT id FROM exchanges {_NEWEST} LIMIT ?) "
         f"AND (NOT unmatched OR id NOT IN (SELECT id FROM exchanges WHERE unmatched {_NEWEST} "
         "LIMIT ?))")
#: A busy writer's heartbeat: (seen, writer).
_SEEN = "UPDATE journal_writers SET seen = ? WHERE writer = ?"
_LIGHT = "id, started, method, path, status, operation_id, unmatched, faulted, violating"
_FULL = _LIGHT + ", doc, request_body, response_body"


class DemandListener(Protocol):
    """How a busy writer hears that a query wants every writer's exchanges now."""

    def wait(self, timeout: float) -> bool:
        """Whether a query asked within ``timeout`` seconds. True at once on the first call
        (and after a reconnection): a demand made before the listener could hear it must not
        go unanswered, so the writer flushes once."""
        ...

    def close(self) -> None: ...


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

    def listener(self) -> DemandListener:
        """A listener of this process's writer (it runs on the writer's flusher thread)."""
        ...

    def demand(self, connection: Any) -> None:
        """Ask every busy writer to flush (after the query took its start time)."""
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
        self._demand = ProcessCounter(path + ".demand")

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

    def listener(self) -> DemandListener:
        return _PolledDemand(self._demand.path)

    def demand(self, connection: Any) -> None:
        self._demand.get().increment()


class _PolledDemand:
    """SQLite's workers share one machine: a query counts its demand in a mapped file, and a
    busy writer reads those 8 bytes every ``DEMAND_POLL`` (an idle writer does not poll)."""

    def __init__(self, path: str) -> None:
        self._counter = MappedCounter(path)
        self._seen: int | None = None

    def wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            value = self._counter.read()
            if value != self._seen:
                self._seen = value
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(DEMAND_POLL, left))

    def close(self) -> None:
        self._counter.close()


#: An exchange a process holds: its number (the order it was answered in), how to encode it,
#: and whether it matched no operation.
Held = tuple[int, Callable[[], JournalRecord], bool]


class SqlJournal:
    """The fleet's journal in a database (see the module docstring for the guarantee)."""

    def __init__(self, dialect: JournalDialect, size: int) -> None:
        if size < 0:
            raise ValueError("journal size must be >= 0")
        self.size = size
        self.dialect = dialect
        self._buffer_lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._connection: Any = None
        self._flusher_pid: int | None = None
        self._untrimmed = 0  # exchanges this process wrote since it last trimmed the table
        self._fresh_process()
        with self._connected() as connection, dialect.schema_lock(connection):
            for statement in SCHEMA:
                connection.execute(statement.format(serial=dialect.serial, blob=dialect.blob))
            dialect.tune(connection)

    def _fresh_process(self) -> None:
        """This process's own writer: a forked worker holds nothing of its parent's."""
        self._pid = os.getpid()
        self.writer = f"{socket.gethostname()}:{self._pid}:{uuid.uuid4().hex[:8]}"
        keep = max(1, self.size)
        #: The newest exchanges not written yet, numbered in the order they were answered,
        #: and apart the newest misses (an exchange that matched no operation is in both).
        self._held: collections.deque[Held] = collections.deque(maxlen=keep)
        self._held_misses: collections.deque[Held] = collections.deque(maxlen=keep)
        self._last_number = 0
        self._unwritten = 0  # exchanges recorded since the last flush, evicted ones included
        self._idle = False  # the table says this writer is idle (``IDLE_MARK``)
        self._woken = threading.Event()  # set when an idle writer has exchanges again

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
                    journal._connection = None
                    journal._fresh_process()
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

    def record(self, make: Callable[[], JournalRecord], unmatched: bool = False) -> None:
        if self.size == 0:
            return
        if self._flusher_pid != os.getpid():
            self._register()
        with self._buffer_lock:
            if not self._idle:
                self._hold(make, unmatched)
                return
        self._wake(make, unmatched)

    def _hold(self, make: Callable[[], JournalRecord], unmatched: bool) -> None:
        """Under the buffer lock."""
        self._last_number += 1
        held = (self._last_number, make, unmatched)
        self._held.append(held)
        if unmatched:
            self._held_misses.append(held)
        self._unwritten += 1

    def _wake(self, make: Callable[[], JournalRecord], unmatched: bool) -> None:
        """Take the idle mark back before ``make``'s exchange is answered, then hold it.

        Under the flush lock, so the mark's own flush has committed and no other flush runs
        until the exchange is held. Should the database be unreachable, the exchange is
        held anyway and the next flush that succeeds writes a true watermark (a query
        needs the database too: it cannot begin before that).
        """
        with self._connected() as connection:
            with self._buffer_lock:
                if not self._idle:  # another request woke it meanwhile
                    self._hold(make, unmatched)
                    return
            try:
                now = self.dialect.now(connection)
                connection.execute(self._sql(_WATERMARK), (self.writer, now, now, now, now))
            except self.dialect.errors as exc:
                log.warning("journal: could not say this writer is busy again: %s", exc)
                self._connection = None
            with self._buffer_lock:
                self._idle = False
                self._hold(make, unmatched)
        self._woken.set()

    def _register(self) -> None:
        """Before this process's first exchange is answered, it is a writer queries wait for
        (flushed through nothing yet); then its flusher starts."""
        with self._connected() as connection:
            now = self.dialect.now(connection)
            connection.execute(self._sql(
                "INSERT INTO journal_writers (writer, flushed_through, seen) VALUES (?, 0, ?) "
                "ON CONFLICT (writer) DO UPDATE SET seen = ?"), (self.writer, now, now))
        self._start_flusher()

    def _take(self, idle: bool) -> tuple[list[Held], int]:
        """What this process holds, oldest first, and how many it recorded; under the
        buffer lock. ``idle``: from here on, ``record`` wakes the writer first."""
        held = {item[0]: item for item in self._held}
        held.update((item[0], item) for item in self._held_misses)
        self._held.clear()
        self._held_misses.clear()
        recorded, self._unwritten = self._unwritten, 0
        if idle:
            self._idle = True
        return [held[number] for number in sorted(held)], recorded

    def _give_back(self, taken: list[Held], recorded: int, idle: bool) -> None:
        """A flush failed: what it took is held again, before what came meanwhile."""
        with self._buffer_lock:
            self._held = collections.deque([*taken, *self._held], maxlen=self._held.maxlen)
            self._held_misses = collections.deque(
                [*(item for item in taken if item[2]), *self._held_misses],
                maxlen=self._held_misses.maxlen)
            self._unwritten += recorded
            if idle:
                self._idle = False

    def flush(self, *, idle: bool = False) -> None:
        """Write what this process holds and the watermark (the time before it was taken);
        ``idle``: and say this writer is idle."""
        if self._idle:
            return  # nothing held (``record`` wakes it first), and the table says so
        with self._connected() as connection:
            through = self.dialect.begin_at(connection)
            with self._buffer_lock:
                if self._idle:  # another flush marked it idle meanwhile: nothing to flush
                    self.dialect.rollback(connection)
                    return
                taken, recorded = self._take(idle)
            mark = IDLE_MARK if idle else through
            statements: list[tuple[str, tuple[Any, ...]]] = []
            trim = False
            try:
                if taken:
                    self.dialect.insert_exchanges(connection.cursor(),
                                                  _rows(make for _, make, _ in taken))
                    self._untrimmed += len(taken)
                    trim = self._untrimmed >= max(1, self.size // 2)
                    if trim:
                        statements.append((_TRIM, (self.size, self.size)))
                if recorded:
                    statements.append((_TOTALS, (recorded, recorded)))
                statements.append((_WATERMARK, (self.writer, mark, through, mark, through)))
                self.dialect.commit_with(connection, [(self._sql(statement), args)
                                                      for statement, args in statements])
            except BaseException:
                try:
                    self.dialect.rollback(connection)
                finally:
                    self._give_back(taken, recorded, idle)
                raise
            if trim:
                self._untrimmed = 0
                self.dialect.trimmed(connection)

    def heartbeat(self) -> None:
        """A busy writer's "still alive", so queries go on waiting for it."""
        with self._connected() as connection:
            connection.execute(self._sql(_SEEN), (self.dialect.now(connection), self.writer))

    def _start_flusher(self) -> None:
        pid = os.getpid()
        if self._flusher_pid == pid:
            return
        self._flusher_pid = pid
        ref = weakref.ref(self)
        threading.Thread(target=_flush_forever, args=(ref, pid), daemon=True,
                         name="journal-flusher").start()
        # A stopped server's last exchanges are written as it exits. multiprocessing's
        # finalizers run at the exit of the main process and of its worker processes
        # (granian's), where ``atexit`` does not; a finalizer runs only in the process that
        # made it.
        multiprocessing.util.Finalize(None, _flush_at_exit, args=(ref,), exitpriority=10)

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
            self.dialect.demand(connection)
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
            time.sleep(QUERY_POLL)

    def index(self, *, unmatched: bool = False) -> list[JournalRecord]:
        self._everyone_flushed()
        where = "WHERE unmatched " if unmatched else ""
        with self._connected() as connection:
            rows = connection.execute(self._sql(
                f"SELECT {_LIGHT} FROM (SELECT {_LIGHT} FROM exchanges {where}{_NEWEST} "
                "LIMIT ?) AS kept ORDER BY started, id"), (self.size,)).fetchall()
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
    """The writer's thread: while busy, flush when a query asks, say it is alive every
    ``HEARTBEAT``, and go idle after ``QUIET``; while idle, sleep until an exchange comes.

    It holds the journal only between waits (a weak reference otherwise), so a journal nobody
    uses any more is collected and its thread ends."""
    listener: DemandListener | None = None
    last_count, last_change, last_seen = -1, time.monotonic(), time.monotonic()
    try:
        while os.getpid() == pid:
            journal = ref()
            if journal is None:
                return
            woken, idle = journal._woken, journal._idle
            if listener is None and not idle:
                listener = journal.dialect.listener()
            del journal
            if idle:
                woken.wait(HEARTBEAT)
                woken.clear()
                last_change = time.monotonic()
                continue
            assert listener is not None
            try:
                demanded = listener.wait(HEARTBEAT / 2)
            except Exception as exc:  # noqa: BLE001 - the thread must outlive a bad turn
                log.warning("journal: listening for queries failed: %s", exc)
                time.sleep(HEARTBEAT)
                continue
            journal = ref()
            if journal is None:
                return
            now = time.monotonic()
            count = journal._last_number
            if count != last_count:
                last_count, last_change = count, now
            try:
                if demanded:
                    journal.flush()
                    last_seen = now
                elif now - last_change >= QUIET:
                    journal.flush(idle=True)
                    last_seen = now
                elif now - last_seen >= HEARTBEAT:
                    journal.heartbeat()
                    last_seen = now
            except Exception as exc:  # a lost database: keep what is held, try again
                log.debug("journal flush failed: %s", exc)
            del journal
    finally:
        if listener is not None:
            listener.close()


def _flush_at_exit(ref: weakref.ref[SqlJournal]) -> None:
    journal = ref()
    if journal is not None and not journal._idle:
        try:
            journal.flush(idle=True)
        except Exception as exc:  # noqa: BLE001 - exiting anyway; say why they are missing
            log.warning("journal: the last exchanges could not be written at exit: %s", exc)


def _rows(kept: Iterable[Callable[[], JournalRecord]]) -> Iterator[tuple[Any, ...]]:
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
