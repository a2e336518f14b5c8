"""The PostgreSQL engine: any number of `mock-server serve`, on any number of machines, as one.

Every replica keeps the state in memory and follows the same log (``state.sql``'s tables),
read with one query per request; writes are serialised by a transaction-scoped advisory lock
(``pg_advisory_xact_lock``), taken before the writer catches up with the log, released by its
commit. Concurrent starts are safe: the schema is created or migrated under a session advisory
lock, and the first base change is written under the write lock.

A lost database never makes a request hang or fail with a 500: every statement has a timeout,
a failed connection is dropped and the request answers 503 (``StateUnavailable``), and the
next request reconnects, no more than one attempt per ``RECONNECT_PAUSE`` so an outage is not
made worse by a storm of connection attempts. Nothing acknowledged is lost: a write is
answered only after its commit, and PostgreSQL's default ``synchronous_commit`` makes a
commit durable.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

from mock_server.state.engine import Row, StateUnavailable
from mock_server.state.journal_sql import DEMAND_CHANNEL, EXCHANGE_COLUMNS, DemandListener
from mock_server.state.sql import READ_AFTER, SqlEngine, close_quietly, first_line, log_rows

log = logging.getLogger("mock_server.journal")

#: Advisory lock keys: the writers' lock, and the schema migration's.
WRITE_LOCK = 0x6D6F636B  # "mock"
SCHEMA_LOCK = 0x6D6F6373  # "mocs"
#: The types of ``EXCHANGE_COLUMNS`` (a binary COPY names them).
EXCHANGE_TYPES = ("float8", "text", "text", "int4", "text", "bool", "bool", "bool", "bytea",
                  "bytea", "bytea")
#: Bounds on every statement, so a database that stops answering cannot hang a request.
STATEMENT_TIMEOUT_MS = 30_000
LOCK_TIMEOUT_MS = 15_000
CONNECT_TIMEOUT_S = 3
#: Seconds between connection attempts while the database is unreachable.
RECONNECT_PAUSE = 0.5
#: Every connection of the state's (the journal has its own).
CONNECTION_OPTIONS: dict[str, Any] = {
    "autocommit": True, "connect_timeout": CONNECT_TIMEOUT_S,
    "options": f"-c statement_timeout={STATEMENT_TIMEOUT_MS} -c lock_timeout={LOCK_TIMEOUT_MS}",
    "keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2, "keepalives_count": 3,
    "application_name": "mock-server",
}
#: ``sql.READ_AFTER`` in psycopg's placeholders (these statements bypass ``SqlEngine.sql``).
READ_AFTER_PG = READ_AFTER.replace("?", "%s")


def masked(url: str) -> str:
    """The URL with its password replaced, for banners and errors."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":****@")
    return urlunsplit(parts._replace(netloc=netloc))


@dataclass
class _LoopCursor:
    """The catch-up's connection of one event loop, and the lock that gives it one query at a
    time (a check's execute and fetch must not interleave with another's)."""

    lock: asyncio.Lock
    cursor: psycopg.AsyncCursor[Any] | None = None

    def close(self) -> None:
        """libpq's own close: no loop needed, no warning about a connection left open."""
        cursor, self.cursor = self.cursor, None
        if cursor is not None:
            cursor.connection.pgconn.finish()


class PostgresEngine(SqlEngine):
    kind = "postgresql"
    persistent = True
    placeholder = "%s"
    blob_type = "BYTEA"
    connection_errors = (psycopg.OperationalError, psycopg.InterfaceError)
    #: The replica writes through batches on a connection of their own (``state.group_commit``).
    batches = True
    #: What fails a batch: any error of the driver (a lost link, a conflict, a timeout).
    errors: tuple[type[BaseException], ...] = (psycopg.Error,)

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self._failed_at = 0.0
        self._async: _LoopCursor | None = None
        self._async_key: tuple[int, asyncio.AbstractEventLoop] | None = None
        with self._connection_lock:
            cursor = self.connection.cursor()
            self.run(cursor, "SELECT pg_advisory_lock(?)", (SCHEMA_LOCK,))
            try:
                self.migrate(cursor)
            finally:
                self.run(cursor, "SELECT pg_advisory_unlock(?)", (SCHEMA_LOCK,))

    def describe(self) -> str:
        return f"PostgreSQL {masked(self.url)}"

    def _may_connect(self) -> None:
        if time.monotonic() - self._failed_at < RECONNECT_PAUSE:
            raise StateUnavailable("the database was unreachable a moment ago")

    def _unreachable(self, exc: psycopg.Error) -> StateUnavailable:
        self._failed_at = time.monotonic()
        return StateUnavailable(f"cannot connect to {masked(self.url)}: "
                                f"{first_line(exc, type(exc).__name__)}")

    def connect(self) -> Any:
        self._may_connect()
        try:
            return psycopg.connect(self.url, **CONNECTION_OPTIONS)
        except psycopg.Error as exc:
            raise self._unreachable(exc) from None

    # -- the request path's catch-up, on the worker's event loop --------------------------

    async def read_after_async(self, seq: int) -> list[Row]:
        """The log after ``seq`` over a connection of the event loop's own.

        A request's catch-up (``api.freshness.SharedCatchUp``) used to run ``read_after``
        on a thread: the hop there and back, and the thread's waits for the GIL while the
        loop ran requests, cost the bench's ``get`` ~20 us of the mock's CPU per request
        (117 -> ~95 us). On the loop, the wait for the answer is an ``await``.
        """
        key = (os.getpid(), asyncio.get_running_loop())
        entry = self._async if self._async_key == key else None
        if entry is None:  # a new loop: the last one's connection goes if its loop is gone
            if self._async_key is not None and self._async_key[1].is_closed():
                self._drop_async()
            entry = self._async = _LoopCursor(asyncio.Lock())
            self._async_key = key
        async with entry.lock:  # one query at a time on the cursor, one connection per loop
            if entry.cursor is None:
                self._may_connect()
                try:
                    connection = await psycopg.AsyncConnection.connect(
                        self.url, **CONNECTION_OPTIONS)
                except psycopg.Error as exc:
                    raise self._unreachable(exc) from None
                entry.cursor = connection.cursor()  # one for every check: a fifth of its cost
            try:
                await entry.cursor.execute(READ_AFTER_PG, (seq,))
                found = await entry.cursor.fetchall()
            except self.connection_errors as exc:
                entry.close()  # the next check reconnects
                raise self.lost_reason(exc) from None
        return log_rows(found)

    def _drop_async(self) -> None:
        """Forget the loop's connection, closing it if this process opened it (a forked
        child's close would end its parent's session)."""
        entry, key = self._async, self._async_key
        self._async = self._async_key = None
        if entry is not None and key is not None and key[0] == os.getpid():
            entry.close()

    def close(self) -> None:
        self._drop_async()
        super().close()

    def before_fork(self) -> None:
        self._drop_async()
        super().before_fork()

    def lock_and_begin(self, connection: Any) -> None:
        connection.execute("BEGIN")
        connection.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))

    def commit(self, cursor: Any) -> None:
        cursor.execute("COMMIT")

    def unlock(self, connection: Any, committed: bool) -> None:
        if not committed:
            connection.execute("ROLLBACK")  # the advisory lock goes with the transaction

    # -- group commit: one round trip to open a batch, one to send it and commit ------------

    def open_batch(self, connection: Any, seq: int) -> list[Row]:
        """BEGIN, the write lock, and the log after ``seq``, pipelined (one round trip)."""
        with connection.pipeline():
            connection.execute("BEGIN")
            connection.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
            cursor = connection.execute(READ_AFTER_PG, (seq,))
        return log_rows(cursor.fetchall())

    def send_batch(self, connection: Any, statements: list[tuple[str, Any]], *,
                   commit: bool) -> None:
        """The batch's queued statements, and its COMMIT, pipelined (one round trip)."""
        with connection.pipeline():
            for statement, args in statements:
                connection.execute(statement, args)
            if commit:
                connection.execute("COMMIT")

    def counter_take(self, key: str, limit: int | None) -> bool:
        """One atomic upsert, without the write lock: a fault rule is checked while this
        process's batch may hold that lock on its own connection."""
        if limit is not None and limit <= 0:
            return False
        statement = ("INSERT INTO counters (key, value) VALUES (?, 1) ON CONFLICT (key) "
                     "DO UPDATE SET value = counters.value + 1")
        args: tuple[Any, ...] = (key,)
        if limit is not None:
            statement += " WHERE counters.value < ?"
            args = (key, limit)
        with self._cursor() as cursor:
            return self.run(cursor, statement + " RETURNING value", args).fetchone() is not None


class PostgresJournalDialect:
    """The journal's connection to the shared database (its own, off the request path)."""

    placeholder = "%s"
    serial = "BIGSERIAL PRIMARY KEY"
    blob = "BYTEA"
    errors: tuple[type[BaseException], ...] = (psycopg.Error,)

    def __init__(self, url: str) -> None:
        self.url = url

    def connect(self) -> Any:
        try:
            return psycopg.connect(
                self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S,
                options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS} "
                        "-c synchronous_commit=off",  # test traffic, not partners' data
                application_name="mock-server-journal")
        except psycopg.Error as exc:
            raise StateUnavailable(f"cannot connect to {masked(self.url)}: "
                                   f"{first_line(exc, type(exc).__name__)}") from None

    def listener(self) -> DemandListener:
        return _NotifiedDemand(self)

    def demand(self, connection: Any) -> None:
        connection.execute(f"NOTIFY {DEMAND_CHANNEL}")

    def now(self, connection: Any) -> float:
        return float(connection.execute(
            "SELECT extract(epoch FROM clock_timestamp())").fetchone()[0])

    @contextmanager
    def schema_lock(self, connection: Any) -> Iterator[None]:
        connection.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
        try:
            yield
        finally:
            connection.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))

    def tune(self, connection: Any) -> None:
        """An unlogged table, its bodies compressed with lz4 rather than the default pglz.

        The journal is test traffic (DECISIONS.md): it need not survive a crash of the
        database server, so its rows skip the WAL; and a journaled list answer (8-16 KB) cost
        the server ~50-100 us to compress with pglz, as much as the mock spent answering it,
        ~15-25 us with lz4. Changed once (catalog reads say whether it is done, so later
        starts take no table lock); a server without lz4 (built without it, or older than
        14) keeps pglz."""
        columns = ("doc", "request_body", "response_body")
        try:
            logged = connection.execute("SELECT relpersistence = 'p' FROM pg_class WHERE oid = "
                                        "'exchanges'::regclass").fetchone()
            if logged and logged[0]:
                connection.execute("ALTER TABLE exchanges SET UNLOGGED")
            pending = connection.execute(
                "SELECT attname FROM pg_attribute WHERE attrelid = 'exchanges'::regclass "
                "AND attname = ANY(%s) AND attcompression <> 'l'", (list(columns),)).fetchall()
            if pending:
                connection.execute("ALTER TABLE exchanges " + ", ".join(
                    f"ALTER COLUMN {name} SET COMPRESSION lz4" for (name,) in pending))
        except psycopg.Error as exc:
            log.info("journal: the table keeps PostgreSQL's default storage (%s)",
                     first_line(exc, type(exc).__name__))

    def trimmed(self, connection: Any) -> None:
        """Vacuum the table the trim just thinned.

        A trim deletes rows PostgreSQL keeps, dead, until a vacuum, and autovacuum looks at
        a database once a minute: under the bench's 15,000 requests/s the table held 1,500
        live rows and 90,000 dead ones (170 MB) after 8 s, and every trim and journal query
        walked them. Skipped when another replica is vacuuming it."""
        try:
            connection.execute("VACUUM (SKIP_LOCKED) exchanges")
        except psycopg.Error as exc:  # the next trim vacuums again
            log.debug("journal: vacuum failed: %s", exc)

    def begin_at(self, connection: Any) -> float:
        with connection.pipeline():
            connection.execute("BEGIN")
            cursor = connection.execute("SELECT extract(epoch FROM clock_timestamp())")
        return float(cursor.fetchone()[0])

    def commit_with(self, connection: Any, statements: list[tuple[str, tuple[Any, ...]]],
                    ) -> None:
        """The flush's bookkeeping and its COMMIT pipelined: a flush every 25 ms per process
        made these round trips a tenth of a journaled ``get``'s cost to the mock."""
        with connection.pipeline():
            for statement, args in statements:
                connection.execute(statement, args)
            connection.execute("COMMIT")

    def rollback(self, connection: Any) -> None:
        connection.execute("ROLLBACK")

    def insert_exchanges(self, cursor: Any, rows: Iterable[tuple[Any, ...]]) -> None:
        """One binary COPY for a flush's exchanges (hundreds under load), not an INSERT
        each: the server's work for the journal competes with the workers for the same
        cores. Binary, since bodies in text COPY travel hex-escaped (measured here: the
        public list at ~2.4-2.5k/s with text, ~3.0-3.3k/s binary, ~2.5-2.8k/s INSERTs)."""
        columns = ", ".join(EXCHANGE_COLUMNS)
        with cursor.copy(f"COPY exchanges ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(EXCHANGE_TYPES)
            for row in rows:
                copy.write_row(row)


class _NotifiedDemand:
    """A busy writer's own connection, listening on ``DEMAND_CHANNEL``: a query's ``NOTIFY``
    wakes it at once, on any machine, and an idle connection costs the server nothing."""

    def __init__(self, dialect: PostgresJournalDialect) -> None:
        self.dialect = dialect
        self._connection: psycopg.Connection[Any] | None = None

    def wait(self, timeout: float) -> bool:
        if self._connection is None:
            try:
                connection = self.dialect.connect()
                connection.execute(f"LISTEN {DEMAND_CHANNEL}")
            except (StateUnavailable, psycopg.Error) as exc:
                log.debug("journal: cannot listen for queries: %s", exc)
                time.sleep(min(timeout, RECONNECT_PAUSE))
                return False
            self._connection = connection
            return True  # a query may have asked before this connection listened
        try:
            heard = False
            for _ in self._connection.notifies(timeout=timeout, stop_after=1):
                heard = True
            if heard:  # one flush answers every query waiting so far
                for _ in self._connection.notifies(timeout=0):
                    pass
            return heard
        except psycopg.Error:
            self.close()  # the next wait reconnects, and flushes once
            return False

    def close(self) -> None:
        connection, self._connection = self._connection, None
        close_quietly(connection, (psycopg.Error,))
