"""This process's copy of the state, kept in step with the engine's ordered log of changes.

The guarantees every engine gives, whatever answers a request:

* A write acknowledged before a request starts is seen by that request: the request path
  calls ``sync()`` first, which applies every change committed so far (``Engine.read_after``).
* Check-then-act rules hold across processes and machines: ``writing()`` takes the engine's
  fleet-wide write lock and catches up under it, so the check and the act see the newest
  state and nobody writes in between.
* An acknowledged write is in the log before it is in memory: ``commit`` appends and commits
  first, then applies the change here (with the writer's own plan, no deserialising). A
  commit that fails leaves memory as it was; a commit whose outcome is unknown is found in the
  log by the next ``sync`` and applied then, like any other process's change.

Changes are plain JSON (``Change``): kinds are registered by the parts that own them (the
store, the tracking activities, the clock, the fault rules), so this module knows none.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

import orjson

from mock_server.state.engine import BASE_KINDS, Engine, Row, WriteTxn
from mock_server.state.group_commit import DEFERRED, BatchTxn, GroupCommit

log = logging.getLogger("mock_server.state")
T = TypeVar("T")
Applier = Callable[[Any], None]
#: Seconds between an idle process's looks at the log (``_follow``); doubled after each
#: look that found nothing, up to ``FOLLOW_INTERVAL_MAX``, so a quiet fleet is left quiet.
FOLLOW_INTERVAL = 0.05
FOLLOW_INTERVAL_MAX = 1.0


class Change(NamedTuple):
    kind: str
    body: Any  # JSON-ready


@dataclass
class _Scope:
    txn: WriteTxn
    committed: bool = False
    thread: int = field(default_factory=threading.get_ident)


class LogGap(RuntimeError):
    """The log lost changes this process has not applied: a bug, never a client's doing."""


class Replica:
    """Applies the log's changes in order; writes through the engine's lock."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.seq = 0
        self.lock = threading.RLock()
        self._appliers: dict[str, Applier] = {}
        self._scope: _Scope | None = None
        self._follower_pid: int | None = None
        self._follower: threading.Thread | None = None
        #: Memory may hold changes the log does not (a group commit failed): rebuild first.
        self.poisoned = False
        #: Engines that batch writes (PostgreSQL: ``state.group_commit``).
        self.group = GroupCommit(self, engine) if getattr(engine, "batches", False) else None

    def register(self, appliers: dict[str, Applier]) -> None:
        overlap = set(appliers) & set(self._appliers)
        if overlap:
            raise ValueError(f"change kinds registered twice: {sorted(overlap)}")
        self._appliers.update(appliers)

    # -- reading ---------------------------------------------------------------------------

    def sync(self) -> None:
        """Apply every change committed so far (raises ``StateUnavailable``)."""
        self._start_following()
        if self.poisoned:
            self.rebuild()
            return
        if not self.engine.changed_since(self.seq):
            return
        rows = self.engine.read_after(self.seq)  # outside the lock: checks may overlap
        with self.lock:
            self._apply(rows)  # what another check applied meanwhile is skipped

    async def sync_async(self) -> None:
        """``sync`` on the caller's event loop: the engine's round trip is awaited, not
        blocked on (raises ``StateUnavailable``). Memory is changed only on the loop's
        thread between two app calls, under ``lock``, as ``sync`` changes it."""
        self._start_following()
        rebuild = self.poisoned
        rows = await self.engine.read_after_async(0 if rebuild else self.seq)
        with self.lock:
            if rebuild and not self.poisoned:  # another thread rebuilt meanwhile
                rebuild = False
            self.absorb(rows, rebuild=rebuild)

    def rebuild(self) -> None:
        """Replay the whole log (it starts with a base change) over memory that may hold
        changes the log does not: after a failed group commit (raises ``StateUnavailable``)."""
        with self.lock:
            if self.poisoned:
                self.absorb(self.engine.read_after(0), rebuild=True)

    def absorb(self, rows: list[Row], *, rebuild: bool = False) -> None:
        """Apply ``rows`` (the caller holds ``lock``); ``rebuild``: they are the whole log."""
        if rebuild:
            if rows and rows[0].kind not in BASE_KINDS:
                raise LogGap(f"the log starts at change {rows[0].seq}, no base change")
            self.seq = 0
        self._apply(rows)
        if rebuild:
            self.poisoned = False

    def _apply(self, rows: list[Row]) -> None:
        for row in rows:
            if row.seq <= self.seq:
                continue
            if row.seq != self.seq + 1 and row.kind not in BASE_KINDS:
                raise LogGap(f"change {row.seq} follows {self.seq}, and is no base change")
            self._appliers[row.kind](orjson.loads(row.body))
            self.seq = row.seq

    def catch_up_if_idle(self) -> bool:
        """Apply what others committed, unless a request of this process holds the lock;
        whether the log had anything new."""
        if not self.engine.changed_since(self.seq):
            return False
        rows = [] if self.poisoned else self.engine.read_after(self.seq)  # outside the lock:
        if self.lock.acquire(blocking=False):  # a request's catch-up never waits on this read
            try:
                if self.poisoned:
                    self.rebuild()
                else:
                    self._apply(rows)
            finally:
                self.lock.release()
        return bool(rows) or self.poisoned

    # -- writing ---------------------------------------------------------------------------

    @contextmanager
    def writing(self) -> Iterator[_Scope]:
        """The fleet-wide write lock, caught up (re-entrant: a nested call joins the outer)."""
        if self.group is not None:
            scope = self._scope
            if scope is not None and scope.thread == threading.get_ident():
                yield scope
                return
            with self.group.scope() as scope:
                yield scope
            return
        with self.lock:
            if self._scope is not None:
                yield self._scope
                return
            with self.engine.writing() as txn:
                self._apply(txn.read_after(self.seq))
                scope = self._scope = _Scope(txn)
                try:
                    yield scope
                finally:
                    self._scope = None

    def commit(self, changes: list[Change], *, apply_local: Callable[[], T] | None = None,
               before_commit: Callable[[WriteTxn], None] | None = None) -> T | None:
        """Log ``changes`` and commit, then apply them here; one commit per ``writing()``.

        ``apply_local`` applies them from the writer's own plan (else each change's applier
        runs on its body); ``before_commit`` adds engine-side work to the same transaction.
        """
        with self.writing() as scope:
            if scope.committed:
                raise RuntimeError("one commit per transaction: the write lock is released")
            seq = self.seq
            mark = scope.txn.mark() if isinstance(scope.txn, BatchTxn) else (0, 0)
            try:
                for change in changes:
                    seq += 1
                    scope.txn.append(Row(seq, change.kind, orjson.dumps(change.body)))
                if before_commit is not None:
                    before_commit(scope.txn)
            except BaseException as exc:
                if isinstance(scope.txn, BatchTxn) and not scope.txn.undo_to(mark):
                    assert self.group is not None
                    self.group.abandon(exc)  # some of it was sent: the batch cannot commit
                raise
            if (self.group is not None and DEFERRED.get()
                    and not any(change.kind in BASE_KINDS for change in changes)):
                # a base change commits at once and is applied after: building a million
                # fixture events takes seconds, which must not be spent holding the lock
                return self._commit_deferred(scope, seq, changes, apply_local, mark)
            scope.txn.commit()
            scope.committed = True
            result: T | None = None
            if apply_local is not None:
                result = apply_local()
            else:
                for change in changes:
                    self._appliers[change.kind](change.body)
            self.seq = seq
            return result

    def _commit_deferred(self, scope: _Scope, seq: int, changes: list[Change],
                         apply_local: Callable[[], T] | None,
                         mark: tuple[int, int]) -> T | None:
        """Group commit: apply now, commit with the batch; the server holds the answer
        until then (``state.group_commit``)."""
        assert self.group is not None and isinstance(scope.txn, BatchTxn)
        scope.committed = True
        try:
            if apply_local is not None:
                result = apply_local()
            else:
                result = None
                for change in changes:
                    self._appliers[change.kind](change.body)
        except BaseException as exc:  # a plan that fails when applied: memory half changed
            self.group.abandon(exc, poison=True)
            raise
        self.seq = seq
        self.group.applied(scope.txn)
        return result

    def ensure_base(self, base: Change) -> bool:
        """Write ``base`` as the log's first change if the log is empty; whether it did.

        Only the row is written under the lock (several replicas may start at once); it is
        applied by the next ``sync``, outside the lock, since building a million fixture
        events takes seconds.
        """
        with self.lock, self.engine.writing() as txn:
            if txn.last_seq():
                return False
            txn.append(Row(1, base.kind, orjson.dumps(base.body)))
            txn.commit()
            return True

    # -- following ---------------------------------------------------------------------------

    def _start_following(self) -> None:
        """A follower thread per process (a forked worker starts its own on first use)."""
        pid = os.getpid()
        if self._follower_pid == pid or self.engine.kind == "memory":
            return
        self._follower_pid = pid
        self._follower = threading.Thread(target=_follow, args=(weakref.ref(self), pid),
                                          daemon=True, name="state-follower")
        self._follower.start()

    def stop_following(self) -> None:
        """Stop this process's follower: before forking workers (a thread that holds a lock
        at the fork leaves it locked forever in the child, which starts its own), and before
        the engine is closed."""
        follower, self._follower = self._follower, None
        self._follower_pid = None
        if follower is not None:
            follower.stopped = True  # type: ignore[attr-defined]
            follower.join(timeout=5)


def _follow(ref: weakref.ref[Replica], pid: int) -> None:
    """Apply the other processes' changes between requests, not at the next one.

    Without it, a worker left idle while another took thousands of writes (a test suite's
    set-up on one connection) replayed them all at its next request. It ends with its
    process's replica (a weak reference) or in a forked child.
    """
    me = threading.current_thread()
    interval = FOLLOW_INTERVAL
    while os.getpid() == pid and not getattr(me, "stopped", False):
        time.sleep(interval)
        replica = ref()
        if replica is None or getattr(me, "stopped", False):
            return
        try:
            found = replica.catch_up_if_idle()
        except Exception as exc:  # the next request catches up again and reports it
            log.debug("catching up failed: %s", exc)
            found = False
        interval = FOLLOW_INTERVAL if found else min(interval * 2, FOLLOW_INTERVAL_MAX)
        del replica
