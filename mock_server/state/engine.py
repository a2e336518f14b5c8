"""The state engine's contract, and the engine for one process (memory).

Every process of the mock keeps the whole state in memory, with its indexes, and follows an
ordered log of changes held by an engine: nothing in memory for one process (``MemoryEngine``,
the default of ``create_app``), an SQLite file for the workers of one machine
(``state.sqlite``), a PostgreSQL database for replicas on many (``state.postgres``). The
engine also holds what is not worth copying into every process: uploaded files, the fault
rules' hit counters and the request journal.

Writes are serialised fleet-wide by the engine's write lock: ``Engine.writing()`` takes it and
opens a transaction in which the writer reads the changes it has not applied yet, appends its
own with the next sequence number, and commits. ``Replica`` (``state.replica``) builds the
rest on this contract, so every engine gives the same guarantees.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import NamedTuple, Protocol

from mock_server.errors import ApiError

#: Changes that replace the whole state: a reset (to the fixtures of a seed and size) or an
#: import. The log keeps nothing before the latest one.
BASE_KINDS = frozenset({"reset", "import"})


class StateUnavailable(ApiError):
    """The engine cannot be reached (a lost database): 503, and nothing was changed."""

    def __init__(self, message: str) -> None:
        super().__init__(503, f"The mock's state is unavailable: {message}. Retry shortly.")


class Row(NamedTuple):
    seq: int
    kind: str
    body: bytes  # JSON


class WriteTxn(Protocol):
    """One transaction under the fleet-wide write lock."""

    def read_after(self, seq: int) -> list[Row]: ...

    def last_seq(self) -> int:
        """The newest change's number (0: the log is empty)."""
        ...

    def append(self, row: Row) -> None:
        """Add a change (a base change drops every older one)."""
        ...

    def blob_put(self, digest: str, content_type: str, data: bytes) -> None: ...

    def blob_stats(self) -> tuple[int, int]: ...

    def blob_has(self, digest: str) -> bool: ...

    def blobs_replace(self, items: list[tuple[str, str, bytes]]) -> None: ...

    def commit(self) -> None: ...


class Engine(Protocol):
    kind: str  # "memory", "sqlite" or "postgresql"
    persistent: bool  # whether the state outlives the processes

    def describe(self) -> str:
        """Where the state lives, for the start-up banner (no password)."""
        ...

    def changed_since(self, seq: int) -> bool:
        """A cheap hint that ``read_after(seq)`` has something (True when unsure)."""
        ...

    def read_after(self, seq: int) -> list[Row]: ...

    async def read_after_async(self, seq: int) -> list[Row]:
        """``read_after`` on the caller's event loop, without blocking it on a round trip
        (PostgreSQL); engines whose read is local answer inline."""
        ...

    def writing(self) -> AbstractContextManager[WriteTxn]: ...

    def blob_get(self, digest: str) -> tuple[bytes, str] | None: ...

    def blob_stats(self) -> tuple[int, int]:
        """(how many files, how many bytes)."""
        ...

    def blob_all(self) -> list[tuple[str, str, bytes]]: ...

    def counter_take(self, key: str, limit: int | None) -> bool:
        """Add one to ``key`` unless it reached ``limit``; whether it did (atomic)."""
        ...

    def counter_values(self, keys: list[str]) -> dict[str, int]: ...

    def before_fork(self) -> None:
        """Let go of connections a forked worker must not share."""
        ...

    def close(self) -> None: ...


class _MemoryTxn:
    def __init__(self, engine: MemoryEngine) -> None:
        self._engine = engine

    def read_after(self, seq: int) -> list[Row]:
        return self._engine.read_after(seq)

    def last_seq(self) -> int:
        return self._engine.seq

    def append(self, row: Row) -> None:
        self._engine.rows.append(row)
        self._engine.seq = row.seq

    def blob_put(self, digest: str, content_type: str, data: bytes) -> None:
        self._engine.blobs[digest] = (data, content_type)

    def blob_stats(self) -> tuple[int, int]:
        return self._engine.blob_stats()

    def blob_has(self, digest: str) -> bool:
        return digest in self._engine.blobs

    def blobs_replace(self, items: list[tuple[str, str, bytes]]) -> None:
        self._engine.blobs = {digest: (data, ctype) for digest, ctype, data in items}

    def commit(self) -> None:
        pass


class MemoryEngine:
    """The state of one process: the log is the process's own memory.

    Its one replica applies its own commits as it makes them, so the engine keeps a row only
    until the replica has seen past it (the first base change, written but not yet applied).
    """

    kind = "memory"
    persistent = False

    def __init__(self) -> None:
        self.seq = 0
        self.rows: list[Row] = []
        self.blobs: dict[str, tuple[bytes, str]] = {}
        self._counters: dict[str, int] = {}
        self._lock = threading.RLock()

    def describe(self) -> str:
        return "memory (this process)"

    def changed_since(self, seq: int) -> bool:
        if self.rows:
            self.rows = [row for row in self.rows if row.seq > seq]
        return bool(self.rows)

    def read_after(self, seq: int) -> list[Row]:
        return [row for row in self.rows if row.seq > seq]

    async def read_after_async(self, seq: int) -> list[Row]:
        return self.read_after(seq)

    @contextmanager
    def writing(self) -> Iterator[WriteTxn]:
        with self._lock:
            yield _MemoryTxn(self)

    def blob_get(self, digest: str) -> tuple[bytes, str] | None:
        return self.blobs.get(digest)

    def blob_stats(self) -> tuple[int, int]:
        blobs = list(self.blobs.values())
        return len(blobs), sum(len(data) for data, _ in blobs)

    def blob_all(self) -> list[tuple[str, str, bytes]]:
        return [(digest, ctype, data) for digest, (data, ctype) in sorted(self.blobs.items())]

    def counter_take(self, key: str, limit: int | None) -> bool:
        with self._lock:
            value = self._counters.get(key, 0)
            if limit is not None and value >= limit:
                return False
            self._counters[key] = value + 1
            return True

    def counter_values(self, keys: list[str]) -> dict[str, int]:
        with self._lock:
            return {key: self._counters.get(key, 0) for key in keys}

    def before_fork(self) -> None:
        pass

    def close(self) -> None:
        pass
