"""Group commit: the writes a PostgreSQL-backed process takes at once share one transaction.

Writes are serialised fleet-wide by the database's advisory lock, and each used to commit
alone, so commits (each a WAL flush, an fsync) were strictly serial: at best one write per
(lock + catch-up + insert + fsync). PostgreSQL's own group commit (``commit_delay``) cannot
help: it merges the flushes of transactions that commit at the same time, and the lock lets
only one commit at a time. So the grouping happens here, before the database sees it.

How: a *batch* is one open transaction on this process's write connection, holding the lock,
caught up with the log. Every request of this process that writes while it is open joins it:
it plans and applies its change in memory, in turn (the event loop runs one app call at a
time), its rows are queued, and its answer waits. When no admitted request is left to run, one
round trip sends the rows and ``COMMIT``; only then are all of them answered. The server
(``mock_server.rsgi``) drives it: ``admit`` before a write request runs (the batch is opened,
lock and catch-up in one pipelined round trip, on a thread, so the event loop goes on),
``leave`` after, ``pending`` before any answer goes out.

What a reader sees: memory holds a batch's changes from the moment they are planned, before
the commit. So every answer computed while it held uncommitted changes (a read's included)
waits for that commit, and becomes a 503 if the commit fails: no client ever sees a change that
is not durable in the log (DECISIONS.md, "Group commit").

When a commit fails (or its outcome is unknown, the connection lost mid-COMMIT), memory holds
changes the log may not: the replica is *poisoned*, every request of the batch answers 503,
and the replica rebuilds itself from the log (``Replica.rebuild``) before it answers anything
else; while the database is away that rebuild fails, so requests answer 503.

Outside the server (the WSGI app called directly, tests, the admin CLI in-process) nothing is
deferred: a write opens a batch, commits it and is applied, as one transaction, before it
returns.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from mock_server.state.engine import BASE_KINDS, Row, StateUnavailable
from mock_server.state.sql import READ_AFTER, SqlTxn, close_quietly, log_rows

if TYPE_CHECKING:
    from mock_server.state.replica import Replica, _Scope

#: Set by the server while it runs a request whose answer it will hold until the commit.
DEFERRED: contextvars.ContextVar[bool] = contextvars.ContextVar("deferred_commit", default=False)


class Batch:
    """One open transaction holding the write lock; ``done`` settles at its commit."""

    def __init__(self, group: GroupCommit) -> None:
        self.txn = BatchTxn(group)
        self.dirty = False  # memory holds changes of this batch
        self.committing = False
        self.done: concurrent.futures.Future[None] = concurrent.futures.Future()


class BatchTxn(SqlTxn):
    """The ``WriteTxn`` of a batch: the log's rows and uploads are queued and sent with the
    ``COMMIT``; any other statement (the storage cap's count, a reset's ``DELETE``) sends what
    is queued first, so the order holds."""

    def __init__(self, group: GroupCommit) -> None:  # not SqlTxn's: no cursor of its own
        self._engine = group.engine
        self._group = group
        self.committed = False
        self.pending: list[tuple[str, Sequence[Any]]] = []
        self.flushes = 0

    def _queue(self, sql: str, args: Sequence[Any] = ()) -> None:
        self.pending.append((self._engine.sql(sql), tuple(args)))

    def _run(self, sql: str, args: Sequence[Any] = ()) -> Any:
        self.flush()
        return self._group.run(sql, args)

    def flush(self) -> None:
        if self.pending:
            statements, self.pending = self.pending, []
            self.flushes += 1
            self._group.send(statements, commit=False)

    def read_after(self, seq: int) -> list[Row]:
        return log_rows(self._run(READ_AFTER, (seq,)).fetchall())

    def append(self, row: Row) -> None:
        if row.kind in BASE_KINDS:
            self._queue("DELETE FROM changes")
        self._queue("INSERT INTO changes (seq, kind, body) VALUES (?, ?, ?)",
                    (row.seq, row.kind, row.body))

    def blob_put(self, digest: str, content_type: str, data: bytes) -> None:
        self._queue("INSERT INTO blobs (digest, content_type, data) VALUES (?, ?, ?)",
                    (digest, content_type, data))

    def mark(self) -> tuple[int, int]:
        return len(self.pending), self.flushes

    def undo_to(self, mark: tuple[int, int]) -> bool:
        """Drop what was queued since ``mark``; False when some of it was already sent."""
        if self.flushes != mark[1]:
            return False
        del self.pending[mark[0]:]
        return True

    def commit(self) -> None:
        self._group.commit_now()


class GroupCommit:
    """This process's batches over its own write connection (see the module docstring)."""

    def __init__(self, replica: Replica, engine: Any) -> None:
        self.replica = replica
        self.engine = engine
        self.batch: Batch | None = None
        self.members = 0  # admitted requests whose app has not run yet
        self.waiting = 0  # requests waiting for a batch to open
        self._busy: concurrent.futures.Future[None] | None = None
        self._connection: Any = None
        self._pid = os.getpid()
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- the write connection --------------------------------------------------------------

    @property
    def connection(self) -> Any:
        if self._pid != os.getpid():  # a forked worker opens its own
            self._pid, self._connection, self._pool, self.batch = os.getpid(), None, None, None
            self._busy, self.members, self.waiting = None, 0, 0
        if self._connection is None:
            self._connection = self.engine.connect()
        return self._connection

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        close_quietly(connection)

    def run(self, sql: str, args: Sequence[Any] = ()) -> Any:
        try:
            return self.connection.execute(self.engine.sql(sql), args)
        except self.engine.errors as exc:
            raise self._fail(exc) from None

    def send(self, statements: list[tuple[str, Sequence[Any]]], *, commit: bool) -> None:
        try:
            self.engine.send_batch(self.connection, statements, commit=commit)
        except self.engine.errors as exc:
            raise self._fail(exc) from None

    def close(self) -> None:
        """Let go of the connection (before a fork, at exit); an open batch is rolled back."""
        batch, self.batch = self.batch, None
        if batch is not None and not batch.done.done():
            batch.done.set_exception(StateUnavailable("the mock is stopping"))
        if self._pid == os.getpid():
            self._drop()
        self._connection = None

    # -- opening and committing (on any thread; never under ``replica.lock`` when waiting) --

    def _open(self) -> None:
        """BEGIN, the lock and the catch-up in one round trip; a poisoned replica rebuilds."""
        rebuild = self.replica.poisoned
        try:
            rows = self.engine.open_batch(self.connection, 0 if rebuild else self.replica.seq)
        except self.engine.errors as exc:
            raise self._fail(exc) from None
        with self.replica.lock:
            self.replica.absorb(rows, rebuild=rebuild)
        self.batch = Batch(self)

    def _commit(self, batch: Batch) -> None:
        batch.committing = True
        statements, batch.txn.pending = batch.txn.pending, []
        try:
            self.send(statements, commit=True)
        except StateUnavailable as exc:
            if not batch.done.done():
                batch.done.set_exception(exc)
            raise
        if self.batch is batch:
            self.batch = None
        batch.done.set_result(None)

    def _fail(self, exc: BaseException) -> StateUnavailable:
        """The write connection failed: drop it and the batch; poison memory if it held the
        batch's changes (the replica rebuilds from the log before answering again)."""
        self._drop()
        failure = self.engine.lost_reason(exc)
        batch, self.batch = self.batch, None
        if batch is not None:
            if batch.dirty:
                self.replica.poisoned = True
            if not batch.done.done():
                batch.done.set_exception(failure)
        return failure

    def _wait_idle(self) -> None:
        busy = self._busy
        if busy is not None and not busy.done():
            try:
                busy.result()
            except Exception:  # noqa: BLE001 - the failure is found again below
                pass

    @contextmanager
    def scope(self) -> Iterator[_Scope]:
        """The batch, open and caught up, for one ``Replica.writing()`` (any thread)."""
        from mock_server.state.replica import _Scope

        replica = self.replica
        while True:
            self._wait_idle()
            with replica.lock:
                if self._busy is not None and not self._busy.done():
                    continue  # a thread started meanwhile: wait for it too
                if self.batch is None or self.batch.committing:
                    self._open()
                elif replica.poisoned:
                    replica.rebuild()
                assert self.batch is not None
                scope = replica._scope = _Scope(self.batch.txn)
                try:
                    yield scope
                finally:
                    replica._scope = None
                    if not DEFERRED.get() and self.members == 0 and self.batch is not None:
                        self.commit_now()
                return

    def commit_now(self) -> None:
        """Commit the open batch here and now (raises ``StateUnavailable``)."""
        batch = self.batch
        if batch is not None and not batch.committing:
            self._commit(batch)

    def applied(self, batch_txn: BatchTxn) -> None:
        """A deferred change of the batch is in memory: answers now wait for the commit."""
        if self.batch is not None and self.batch.txn is batch_txn:
            self.batch.dirty = True

    def abandon(self, exc: BaseException, *, poison: bool = False) -> None:
        """The batch cannot commit (part of a failed write was sent, or a change was half
        applied to memory: ``poison``): roll it back, and rebuild memory if it held any."""
        if poison:
            self.replica.poisoned = True
        self._fail(exc)

    # -- the server's side (the event loop's thread) ----------------------------------------

    def _submit(self, work: Any, *args: Any) -> concurrent.futures.Future[None]:
        if self._pool is None or self._pid != os.getpid():
            self.connection  # noqa: B018 - resets what a fork left behind
            self._pool = concurrent.futures.ThreadPoolExecutor(1, "state-group-commit")
        self._busy = self._pool.submit(work, *args)
        return self._busy

    async def admit(self) -> bool:
        """Wait for an open batch and join it (False: it could not be opened; the request's
        own write reports why). A member must ``leave()`` after its app call."""
        loop = self._loop = asyncio.get_running_loop()
        while True:
            busy = self._busy
            idle = busy is None or busy.done()
            if idle and self.batch is not None and not self.batch.committing:
                self.members += 1
                return True
            if idle:
                busy = self._submit(self._open)
                # should every waiter be gone (cancelled) when it opens, it is closed anyway
                busy.add_done_callback(lambda _: _call_soon_threadsafe(loop, self._close_soon))
            self.waiting += 1
            try:
                await asyncio.wrap_future(busy)  # type: ignore[arg-type]
            except Exception:  # noqa: BLE001 - reported by the request's own write
                return False
            finally:
                self.waiting -= 1
                self._close_soon()

    def leave(self) -> None:
        self.members -= 1
        self._close_soon()

    def _close_soon(self) -> None:
        if self.members == 0 and self._loop is not None:
            self._loop.call_soon(self._close_if_idle)

    def _close_if_idle(self) -> None:
        """Commit the batch once no request is left to run in it: none admitted whose app
        has not run, none waiting to be woken (this runs behind those already woken)."""
        batch = self.batch
        busy = self._busy
        if (self.members == 0 and self.waiting == 0 and batch is not None
                and not batch.committing and (busy is None or busy.done())):
            batch.committing = True
            self._submit(self._commit, batch)

    def pending(self) -> concurrent.futures.Future[None] | None:
        """What an answer computed just now must wait for: the commit of the changes memory
        holds (None: nothing uncommitted). Raises ``StateUnavailable`` if memory is poisoned."""
        self._loop = asyncio.get_running_loop()
        batch = self.batch
        if batch is not None and batch.dirty:
            self._close_soon()
            return batch.done
        if self.replica.poisoned:
            raise StateUnavailable("a write of this process failed to commit")
        if batch is not None:
            self._close_soon()
        return None


def _call_soon_threadsafe(loop: asyncio.AbstractEventLoop, callback: Any) -> None:
    try:
        loop.call_soon_threadsafe(callback)
    except RuntimeError:  # the loop is closed: nothing left to serve
        pass
