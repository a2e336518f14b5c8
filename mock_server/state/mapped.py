"""An 8-byte counter in a small file every process of one machine maps, and the file's lock.

SQLite's engine publishes the number of its last committed change in one (a request asks "did
anything change?" by reading 8 bytes instead of a query), and its ``flock`` is the writers'
lock; the SQLite journal counts its queries' demands in another, which busy writers read.
"""

from __future__ import annotations

import fcntl
import mmap
import os
import struct


class MappedCounter:
    """Open it once per process: a descriptor inherited through a fork shares its parent's
    ``flock``, so the lock would exclude nobody."""

    def __init__(self, path: str) -> None:
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        if os.fstat(self._fd).st_size < 8:
            os.ftruncate(self._fd, 8)
        self._map = mmap.mmap(self._fd, 8)

    def read(self) -> int:
        value: int = struct.unpack_from("q", self._map)[0]
        return value

    def write(self, value: int) -> None:
        """Only while holding ``lock()``."""
        struct.pack_into("q", self._map, 0, value)

    def increment(self) -> None:
        self.lock()
        try:
            self.write(self.read() + 1)
        finally:
            self.unlock()

    def lock(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def unlock(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        self._map.close()
        os.close(self._fd)


class ProcessCounter:
    """The ``MappedCounter`` at ``path``, opened once in each process that uses it (a forked
    worker opens its own on first use, as ``MappedCounter`` requires)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._pid = -1
        self._counter: MappedCounter | None = None

    def get(self) -> MappedCounter:
        pid = os.getpid()
        if self._pid != pid or self._counter is None:
            self._counter, self._pid = MappedCounter(self.path), pid
        return self._counter

    def close(self) -> None:
        """Close this process's counter (a forked child leaves its parent's alone)."""
        counter, self._counter = self._counter, None
        if counter is not None and self._pid == os.getpid():
            counter.close()
