"""Where the request journal's records live, and the journal of one process (memory).

Only the last ``size`` exchanges are kept, and apart from them the last ``size`` that matched
no operation, so a flood of good traffic cannot push the misses out. With several processes
the records live in the database they share (``state.journal_sql``), with the same contract.
"""

from __future__ import annotations

import collections
import itertools
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol


@dataclass(frozen=True)
class JournalRecord:
    """One exchange as stored; the journal (``controls.journal``) encodes ``doc``."""

    id: int
    started: float
    method: str
    path: str
    status: int | None
    operation_id: str | None
    unmatched: bool
    faulted: bool
    violating: bool
    doc: bytes = b""
    request_body: bytes = b""
    response_body: bytes = b""


class JournalStore(Protocol):
    size: int

    def record(self, make: Callable[[], JournalRecord], unmatched: bool = False) -> None:
        """Keep an exchange: ``make`` encodes it, called when the store needs the record (off
        the request's thread, and only if it is written, where the store holds exchanges
        until they are read). ``unmatched``: it matched no operation (kept apart)."""
        ...

    def index(self, *, unmatched: bool = False) -> list[JournalRecord]:
        """The kept records without their bodies, oldest first: every exchange answered
        before this call is among them. ``unmatched``: the kept misses instead."""
        ...

    def fetch(self, ids: Sequence[int]) -> list[JournalRecord]:
        """The records with these ids, whole, in id order."""
        ...

    def clear(self) -> int: ...

    def stats(self) -> dict[str, int]: ...

    def before_fork(self) -> None:
        """Let go of connections and threads a forked worker must not share."""
        ...


class MemoryJournal:
    """The journal of one process: two bounded deques."""

    def __init__(self, size: int) -> None:
        if size < 0:
            raise ValueError("journal size must be >= 0")
        self.size = size
        self._lock = threading.Lock()
        self._records: collections.deque[JournalRecord] = collections.deque(maxlen=size)
        self._unmatched: collections.deque[JournalRecord] = collections.deque(maxlen=size)
        self._ids = itertools.count(1)
        self._recorded = 0

    def record(self, make: Callable[[], JournalRecord], unmatched: bool = False) -> None:
        if self.size == 0:
            return
        record = make()
        with self._lock:
            stored = replace(record, id=next(self._ids))
            self._recorded += 1
            self._records.append(stored)
            if stored.unmatched:
                self._unmatched.append(stored)

    def index(self, *, unmatched: bool = False) -> list[JournalRecord]:
        with self._lock:
            return list(self._unmatched if unmatched else self._records)

    def fetch(self, ids: Sequence[int]) -> list[JournalRecord]:
        wanted = set(ids)
        with self._lock:
            found = {r.id: r for r in (*self._records, *self._unmatched) if r.id in wanted}
        return [found[i] for i in sorted(found)]

    def before_fork(self) -> None:
        """Nothing to let go of: one process's memory."""

    def clear(self) -> int:
        with self._lock:
            dropped = len(self._records)
            self._records.clear()
            self._unmatched.clear()
            self._recorded = 0  # `stats` counts since start or clear, as the admin API says
            return dropped

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {"size": self.size, "kept": len(self._records),
                    "unmatched_kept": len(self._unmatched), "recorded": self._recorded,
                    "evicted": self._recorded - len(self._records)}


