"""State shared by several worker processes: in-memory copies kept in step by an SQLite log.

`mock-server serve --workers N` runs N processes so a load test can use every core. Each must
see at once what another just wrote (a client creates an event on one connection and reads it
on the next, which may land on another worker), and check-then-act rules ("is there a free
place? take it") must hold across processes.

Design (measured against the alternative of keeping everything in SQLite tables, see
bench/README.md): every process keeps the whole state in memory, built once from the fixtures
before the workers fork, and an SQLite database in WAL mode holds the *log* of every change
since start (one row per store write: the new event, subscription, user...). Then:

* a read first looks at the number of the last committed change, an 8-byte counter in a
  file every process maps into memory (a fraction of a microsecond; asking SQLite itself,
  ``PRAGMA data_version``, cost ~30 us per read under load), applies the new log rows if it
  moved, then answers from memory with the same indexes as ``InMemoryStore`` (the grid, the
  catalog): reads stay as fast as in one process, and a write committed before a request
  started is always seen by it, since its writer raises the counter before it answers;
* a write runs inside ``transaction()``: an exclusive lock on a file serialises the writers
  of all processes, the log is caught up, the domain checks and writes in memory, each write
  queues its log row, and at the end the rows are inserted (one INSERT, committed by itself,
  for the usual single write) and their seq published in the counter, all before the lock is
  released. Another process cannot write in between, so the check and the act see the same
  state everywhere. (The file lock rather than SQLite's own: a writer waiting on SQLite's
  lock polls it with sleeps of 1 ms, then 2, 5, 10...: under load, writes queued for
  milliseconds while both cores idled. A waiter on ``flock`` is woken the moment it is free.
  And a write costs one SQLite statement instead of four: BEGIN, catch-up, INSERT, COMMIT.);
* the fixtures themselves are never written to SQLite: a million events cost nothing at start,
  every worker derives them from the seed (or shares them, forked from the parent).

If a transaction fails after a write reached memory (a bug, not a domain error: the domain
checks before it writes), SQLite rolls back and the process rebuilds its copy from the
fixtures and the whole log, so memory never keeps a change the others will not see.

Uploads (`SqliteBlobStore`) live in the same database, and the tracking activities are logged
like the store (`SharedActivities`), so every part of the state is coherent across workers.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import logging
import mmap
import os
import sqlite3
import struct
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from mock_server.domain.activities.catalog import ListCriteria
from mock_server.domain.activities.models import Event, Subscription, User
from mock_server.domain.tracking.activities import (
    TrackingActivities,
    TrackingActivity,
    _from_state,
    _to_state,
)
from mock_server.domain.tracking.blobs import (
    _CONTENT_TYPE,
    DEFAULT_MAX_TOTAL_BYTES,
    is_valid_digest,
)
from mock_server.domain.tracking.uploads import UploadRejected
from mock_server.state.memory import InMemoryStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    op TEXT NOT NULL,
    body BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS blobs (
    digest TEXT PRIMARY KEY,
    content_type TEXT NOT NULL,
    data BLOB NOT NULL
);
"""

Applier = Callable[[Any], None]
#: Seconds between a worker's looks at the log while it is not serving (see SharedLog._follow).
FOLLOW_INTERVAL = 0.02
log = logging.getLogger("mock_server.shared")


class _CommittedCounter:
    """The seq of the last committed change, in a small file mapped by every process; the
    file's ``flock`` is the writers' lock.

    The seq is written after the commit of that seq, by the writer still holding the lock: a
    reader that sees ``n`` can read every change up to ``n`` from SQLite.
    """

    def __init__(self, path: str) -> None:
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        if os.fstat(self._fd).st_size < 8:
            os.ftruncate(self._fd, 8)
        self._map = mmap.mmap(self._fd, 8)

    def read(self) -> int:
        value: int = struct.unpack_from("q", self._map)[0]
        return value

    def lock(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def unlock(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)

    def publish(self, seq: int) -> None:
        """Only while holding ``lock()``."""
        if seq > self.read():
            struct.pack_into("q", self._map, 0, seq)


class SharedLog:
    """The SQLite log of changes and the lock every process's writers take in turn.

    One connection per process (opened lazily, again after a fork) guarded by a re-entrant
    lock, so the threads of one process take turns too.
    """

    def __init__(self, path: str | Path, *, fresh: bool = True) -> None:
        self.path = str(path)
        if fresh:
            for suffix in ("", "-wal", "-shm", ".seq"):
                try:
                    os.unlink(self.path + suffix)
                except FileNotFoundError:
                    pass
        self._counter = _CommittedCounter(self.path + ".seq")
        self.lock = threading.RLock()
        self._appliers: dict[str, Applier] = {}
        self._rebuilders: list[Callable[[], None]] = []
        self._connection: sqlite3.Connection | None = None
        self._pid = -1
        self._seq = 0
        self._depth = 0
        self._dirty = False
        self._pending: list[tuple[str, bytes]] = []
        with self._connect() as conn:
            conn.executescript(SCHEMA)

    def register(self, appliers: Mapping[str, Applier], rebuild: Callable[[], None]) -> None:
        """Ops this part logs (op name -> how to apply it) and how it returns to its fixtures."""
        self._appliers.update(appliers)
        self._rebuilders.append(rebuild)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None,
                               check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        # A mock's state need not survive a power cut: commits skip fsync, which is most of
        # their cost; WAL still keeps every committed change visible to the other processes.
        conn.execute("PRAGMA synchronous=OFF")
        return conn

    @property
    def connection(self) -> sqlite3.Connection:
        """This process's connection (a forked child never uses its parent's)."""
        if self._pid != os.getpid() or self._connection is None:
            self._reopen()
        assert self._connection is not None
        return self._connection

    @property
    def _committed(self) -> _CommittedCounter:
        if self._pid != os.getpid():
            self._reopen()
        return self._counter

    def _reopen(self) -> None:
        """A forked child's own connection and counter file (an inherited descriptor would
        share its parent's file lock, so the counter's lock would exclude nobody), and its
        follower thread."""
        self._connection = self._connect()
        self._counter = _CommittedCounter(self.path + ".seq")
        self._pid = os.getpid()
        threading.Thread(target=_follow, args=(weakref.ref(self), self._pid), daemon=True,
                         name="shared-log-follower").start()

    def catch_up_if_idle(self) -> None:
        """Apply what others committed, unless a request of this process holds the lock."""
        if self._counter.read() > self._seq and self.lock.acquire(blocking=False):
            try:
                self.sync()
            finally:
                self.lock.release()

    def sync(self) -> None:
        """Apply what other processes committed since this one last looked (under the lock)."""
        if self._committed.read() > self._seq:
            self._catch_up(self.connection)

    def _catch_up(self, conn: sqlite3.Connection) -> None:
        rows = conn.execute("SELECT seq, op, body FROM changes WHERE seq > ? ORDER BY seq",
                            (self._seq,)).fetchall()
        for seq, op, body in rows:
            self._appliers[op](orjson.loads(body))
            self._seq = seq

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """The writers' lock for a check-then-act across processes (re-entrant)."""
        with self.lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            conn = self.connection
            counter = self._committed
            counter.lock()
            try:
                if counter.read() > self._seq:
                    self._catch_up(conn)
                self._pending = []
                self._depth = 1
                try:
                    yield
                except BaseException:
                    self._pending = []  # nothing reached SQLite
                    if self._dirty:
                        self._rebuild()
                    raise
                finally:
                    self._depth = 0
                self._flush(conn)
                self._dirty = False
            finally:
                counter.unlock()

    def _flush(self, conn: sqlite3.Connection) -> None:
        """Write the transaction's log rows (one statement, or one SQLite transaction), then
        publish their seq. Most transactions log one row: an INSERT that commits itself."""
        pending, self._pending = self._pending, []
        if not pending:
            return
        if len(pending) > 1:
            conn.execute("BEGIN IMMEDIATE")
        try:
            for op, body in pending:
                cursor = conn.execute("INSERT INTO changes (op, body) VALUES (?, ?)", (op, body))
                self._seq = int(cursor.lastrowid or self._seq)
        except BaseException:
            if len(pending) > 1:
                conn.execute("ROLLBACK")
            self._rebuild()
            raise
        if len(pending) > 1:
            conn.execute("COMMIT")
        self._committed.publish(self._seq)

    def append(self, op: str, body: Any) -> None:
        """Log a change already made in memory; only inside ``transaction()``, which writes
        the rows when it ends without an error (and drops them otherwise)."""
        if self._depth == 0:
            raise RuntimeError("SharedLog.append outside a transaction")
        self._pending.append((op, orjson.dumps(body)))
        self._dirty = True

    def _rebuild(self) -> None:
        """Memory holds a change the log does not: start again from the fixtures and the log."""
        self._dirty = False
        for rebuild in self._rebuilders:
            rebuild()
        self._seq = 0
        self._catch_up(self.connection)


def _follow(ref: weakref.ref[SharedLog], pid: int) -> None:
    """Apply the other processes' changes between requests, not at the next one.

    Without it, a worker left idle while another took thousands of writes (a test suite's
    set-up on one connection) replayed them all at its next request: half a second, measured.
    Every ``FOLLOW_INTERVAL`` s it catches up if the lock is free (else the request holding
    it will); it ends with its process's log (a weak reference) or in a forked child.
    """
    while os.getpid() == pid:
        time.sleep(FOLLOW_INTERVAL)
        shared_log = ref()
        if shared_log is None:
            return
        try:
            shared_log.catch_up_if_idle()
        except Exception:  # the next request catches up again and reports it
            log.exception("shared log: catching up failed")
        del shared_log


class SharedStore:
    """An ``InMemoryStore`` per process, kept in step with the others through a ``SharedLog``.

    Implements the ``Store`` protocol; ``reset`` and ``import_state`` are logged too, so they
    reach every worker.
    """

    def __init__(self, local: InMemoryStore, log: SharedLog) -> None:
        self._local = local
        self._log = log
        log.register({
            "add_user": self._apply_add_user,
            "add_event": self._apply_add_event,
            "replace_event": self._apply_replace_event,
            "put_subscription": self._apply_put_subscription,
            "remove_subscription": self._apply_remove_subscription,
            "reset": lambda _: self._local.reset(),
            "import_state": self._local.import_state,
        }, self._local.reset)

    # -- locking -----------------------------------------------------------------------------

    @property
    def lock(self) -> threading.RLock:
        return self._log.lock

    @contextmanager
    def transaction(self) -> Iterator[SharedStore]:
        with self._log.transaction(), self._local.transaction():
            yield self

    @contextmanager
    def _reading(self) -> Iterator[InMemoryStore]:
        with self._log.lock:
            self._log.sync()
            yield self._local

    # -- reads -------------------------------------------------------------------------------

    def get_user(self, user_id: str) -> User | None:
        with self._reading() as local:
            return local.get_user(user_id)

    def get_user_by_external_id(self, user_type: str, external_id: str) -> User | None:
        with self._reading() as local:
            return local.get_user_by_external_id(user_type, external_id)

    def users(self) -> list[User]:
        with self._reading() as local:
            return local.users()

    def get_event(self, event_id: int) -> Event | None:
        with self._reading() as local:
            return local.get_event(event_id)

    def event_count(self) -> int:
        with self._reading() as local:
            return local.event_count()

    def events(self) -> list[Event]:
        with self._reading() as local:
            return local.events()

    def events_near(self, latitude: float, longitude: float, radius_km: float) -> list[Event]:
        with self._reading() as local:
            return local.events_near(latitude, longitude, radius_km)

    def public_events(self, query: ListCriteria, now: datetime, offset: int = 0,
                      limit: int | None = None) -> tuple[int, list[Event]]:
        with self._reading() as local:
            return local.public_events(query, now, offset, limit)

    def events_owned_by(self, user_id: str) -> list[Event]:
        with self._reading() as local:
            return local.events_owned_by(user_id)

    def events_subscribed_by(self, user_id: str) -> list[Event]:
        with self._reading() as local:
            return local.events_subscribed_by(user_id)

    def subscriptions_of(self, event_id: int) -> list[Subscription]:
        with self._reading() as local:
            return local.subscriptions_of(event_id)

    def get_subscription(self, event_id: int, user_id: str) -> Subscription | None:
        with self._reading() as local:
            return local.get_subscription(event_id, user_id)

    def export_state(self) -> dict[str, Any]:
        with self._reading() as local:
            return local.export_state()

    # -- writes: in memory, then logged, in one transaction ----------------------------------

    def add_user(self, user: User) -> None:
        with self.transaction():
            self._local.add_user(user)
            self._log.append("add_user", user.to_state())

    def add_event(self, event: Event) -> Event:
        with self.transaction():
            stored = self._local.add_event(event)
            self._log.append("add_event", stored.to_state())
            return stored

    def replace_event(self, event: Event) -> Event:
        with self.transaction():
            stored = self._local.replace_event(event)
            self._log.append("replace_event", stored.to_state())
            return stored

    def put_subscription(self, event_id: int, subscription: Subscription) -> Event:
        with self.transaction():
            event = self._local.put_subscription(event_id, subscription)
            self._log.append("put_subscription", {"event_id": event_id,
                                                  **subscription.to_state()})
            return event

    def remove_subscription(self, event_id: int, user_id: str) -> Subscription | None:
        with self.transaction():
            removed = self._local.remove_subscription(event_id, user_id)
            if removed is not None:
                self._log.append("remove_subscription", {"event_id": event_id,
                                                         "user_id": user_id})
            return removed

    def reset(self) -> None:
        with self.transaction():
            self._local.reset()
            self._log.append("reset", None)

    def import_state(self, state: Mapping[str, Any]) -> None:
        with self.transaction():
            self._local.import_state(state)  # RuleViolation before any change
            self._log.append("import_state", state)

    # -- replaying another process's writes --------------------------------------------------

    def _apply_add_user(self, body: dict[str, Any]) -> None:
        self._local.add_user(User.from_state(body))

    def _owner(self, body: dict[str, Any]) -> User:
        owner = self._local.get_user(body["owner_id"])
        if owner is None:
            raise RuntimeError(f"log replay: unknown owner {body['owner_id']}")
        return owner

    def _apply_add_event(self, body: dict[str, Any]) -> None:
        stored = self._local.add_event(Event.from_state(body, self._owner(body)))
        if stored.id != body["id"]:  # every process applies the same log in the same order
            raise RuntimeError(f"log replay: event {body['id']} got id {stored.id}")

    def _apply_replace_event(self, body: dict[str, Any]) -> None:
        current = self._local.get_event(body["id"])
        if current is None:
            raise RuntimeError(f"log replay: unknown event {body['id']}")
        self._local.replace_event(
            Event.from_state(body, self._owner(body), places_taken=current.places_taken))

    def _apply_put_subscription(self, body: dict[str, Any]) -> None:
        self._local.put_subscription(body["event_id"], Subscription.from_state(body))

    def _apply_remove_subscription(self, body: dict[str, Any]) -> None:
        self._local.remove_subscription(body["event_id"], body["user_id"])


class SharedActivities(TrackingActivities):
    """Tracking activities whose changes are logged, so every worker sees them.

    A change is logged as the activity's new state (and its thumbnail history), never as the
    call that made it: `update` reads the clock, and a replay must not read it again.
    """

    def __init__(self, activities: TrackingActivities, log: SharedLog) -> None:
        super().__init__(activities._initial, clock=activities._clock)
        self._log = log
        self._lock = log.lock
        log.register({
            "activity_put": self._apply_put,
            "activity_delete": lambda body: self._apply_delete(body["id"]),
            "activities_reset": lambda _: TrackingActivities.reset(self),
            "activities_import": lambda body: TrackingActivities.import_state(self, body),
        }, lambda: TrackingActivities.reset(self))

    def _logged(self, token: str) -> None:
        activity = self._by_id[token]
        self._log.append("activity_put", {"activity": _to_state(activity),
                                          "history": self._history.get(token, [])})

    def _apply_put(self, body: dict[str, Any]) -> None:
        activity: TrackingActivity = _from_state(body["activity"])
        self._by_id[activity.id] = activity
        if body["history"]:
            self._history[activity.id] = list(body["history"])

    def _apply_delete(self, token: str) -> None:
        self._by_id.pop(token, None)
        self._history.pop(token, None)

    def __len__(self) -> int:
        with self._log.lock:
            self._log.sync()
            return super().__len__()

    def get(self, token: str, caller_user_id: str | None = None) -> TrackingActivity:
        with self._log.lock:
            self._log.sync()
            return super().get(token, caller_user_id)

    def list_for_user(self, user_id: str, page: int = 1,
                      per_page: int = 30) -> list[TrackingActivity]:
        with self._log.lock:
            self._log.sync()
            return super().list_for_user(user_id, page, per_page)

    def count_for_user(self, user_id: str) -> int:
        with self._log.lock:
            self._log.sync()
            return super().count_for_user(user_id)

    def thumbnail_history(self, token: str) -> list[str]:
        with self._log.lock:
            self._log.sync()
            return super().thumbnail_history(token)

    def map_track(self, user_id: str, activity_id: str) -> list[tuple[float, float]] | None:
        with self._log.lock:
            self._log.sync()
            return super().map_track(user_id, activity_id)

    def export_state(self) -> dict[str, Any]:
        with self._log.lock:
            self._log.sync()
            return super().export_state()

    def add(self, activity: TrackingActivity) -> None:
        with self._log.transaction():
            super().add(activity)
            self._logged(activity.id)

    def update(self, token: str, caller_user_id: str, images: list[str] | None = None,
               thumbnail: str | None = None) -> TrackingActivity:
        with self._log.transaction():
            updated = super().update(token, caller_user_id, images=images, thumbnail=thumbnail)
            self._logged(token)
            return updated

    def delete(self, token: str, caller_user_id: str) -> None:
        with self._log.transaction():
            super().delete(token, caller_user_id)
            self._log.append("activity_delete", {"id": token})

    def reset(self) -> None:
        if not hasattr(self, "_log"):  # TrackingActivities.__init__ resets before _log exists
            super().reset()
            return
        with self._log.transaction():
            super().reset()
            self._log.append("activities_reset", None)

    def import_state(self, state: dict[str, Any]) -> None:
        with self._log.transaction():
            super().import_state(state)
            self._log.append("activities_import", state)


class SqliteBlobStore:
    """Uploads in the shared database: what one worker stored, every worker serves.

    Same contract as ``InMemoryBlobStore`` (content-addressed, capped, 507 when full).
    """

    def __init__(self, log: SharedLog, max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES) -> None:
        if max_total_bytes < 0:
            raise ValueError("max_total_bytes must be >= 0")
        self.max_total_bytes = max_total_bytes
        self._log = log

    def _query(self, sql: str, *args: Any) -> list[Any]:
        with self._log.lock:
            return self._log.connection.execute(sql, args).fetchall()

    @property
    def total_bytes(self) -> int:
        return int(self._query("SELECT COALESCE(SUM(LENGTH(data)), 0) FROM blobs")[0][0])

    def __len__(self) -> int:
        return int(self._query("SELECT COUNT(*) FROM blobs")[0][0])

    def __contains__(self, digest: object) -> bool:
        if not is_valid_digest(digest):
            return False
        return bool(self._query("SELECT 1 FROM blobs WHERE digest = ?", digest))

    def put(self, data: bytes, content_type: str) -> str:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError("data must be bytes")
        if not isinstance(content_type, str) or not _CONTENT_TYPE.fullmatch(content_type):
            raise ValueError(f"not a plain content type: {content_type!r}")
        payload = bytes(data)
        digest = hashlib.sha1(payload, usedforsecurity=False).hexdigest()
        with self._log.transaction():
            conn = self._log.connection
            if conn.execute("SELECT 1 FROM blobs WHERE digest = ?", (digest,)).fetchone():
                return digest
            total = conn.execute("SELECT COALESCE(SUM(LENGTH(data)), 0) FROM blobs").fetchone()[0]
            if total + len(payload) > self.max_total_bytes:
                raise UploadRejected(
                    507,
                    f"The mock's upload storage is full: it holds {total} of "
                    f"{self.max_total_bytes} bytes and this file needs {len(payload)} more. "
                    "Reset the mock's state to free it.",
                )
            conn.execute("INSERT INTO blobs (digest, content_type, data) VALUES (?, ?, ?)",
                         (digest, content_type, payload))
        return digest

    def get(self, digest: str) -> tuple[bytes, str] | None:
        if not is_valid_digest(digest):
            return None
        rows = self._query("SELECT data, content_type FROM blobs WHERE digest = ?", digest)
        return (bytes(rows[0][0]), rows[0][1]) if rows else None

    def reset(self) -> None:
        with self._log.transaction():
            self._log.connection.execute("DELETE FROM blobs")

    def export_state(self) -> dict[str, Any]:
        rows = self._query("SELECT digest, content_type, data FROM blobs ORDER BY digest")
        return {"blobs": {digest: {"content_type": content_type,
                                   "data": base64.b64encode(data).decode("ascii")}
                          for digest, content_type, data in rows}}

    def import_state(self, state: dict[str, Any]) -> None:
        from mock_server.domain.tracking.blobs import InMemoryBlobStore

        checked = InMemoryBlobStore(self.max_total_bytes)
        checked.import_state(state)  # every check, ValueError before any change
        with self._log.transaction():
            conn = self._log.connection
            conn.execute("BEGIN IMMEDIATE")  # readers see all the new blobs or none
            try:
                conn.execute("DELETE FROM blobs")
                for digest, entry in state["blobs"].items():
                    conn.execute(
                        "INSERT INTO blobs (digest, content_type, data) VALUES (?, ?, ?)",
                        (digest, entry["content_type"], base64.b64decode(entry["data"])))
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")


def share(store: InMemoryStore, activities: TrackingActivities, path: str | Path,
          max_blob_bytes: int) -> tuple[SharedStore, SharedActivities, SqliteBlobStore]:
    """The state parts of one mock, made shared through a fresh log at ``path``.

    Called once, in the parent, before the workers fork: they inherit the built fixtures and
    each opens its own connection to the log on first use.
    """
    log = SharedLog(path, fresh=True)
    return (SharedStore(store, log), SharedActivities(activities, log),
            SqliteBlobStore(log, max_blob_bytes))
