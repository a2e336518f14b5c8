"""Overlapping requests safely: one thread at a time does Python work, many wait on the network.

A run sends its requests from several threads so that a distant target's latency overlaps,
but everything else (hypothesis and schemathesis generating cases, validating answers, a
check's own logic) takes turns: a thread holds the one `TURNS` lock while it works and lets
go of it only while a request is on the wire (`TargetSession.send` calls `waiting()`).

Why not let the threads run freely: CPython 3.11 before 3.11.8 can corrupt its AST state
when two threads parse or compile at once (`SystemError: AST constructor recursion depth
mismatch`), and hypothesis and schemathesis parse source while generating. Taking turns
costs nothing that the GIL would have given: Python work does not run in parallel anyway;
the network waits do, and they are the point.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

__all__ = ["TURNS", "Turns", "run_in_turns"]

T = TypeVar("T")


class Turns:
    """A lock that its holder gives up while it waits on the network."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._local = threading.local()

    @property
    def held(self) -> bool:
        """Whether the calling thread has the turn."""
        return bool(getattr(self._local, "held", False))

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Work in turn with the other threads (re-entrant: a nested turn changes nothing)."""
        if self.held:
            yield
            return
        self._lock.acquire()
        self._local.held = True
        try:
            yield
        finally:
            self._local.held = False
            self._lock.release()

    @contextmanager
    def waiting(self) -> Iterator[None]:
        """Let the others work while this thread waits (a no-op for a thread without a turn)."""
        if not self.held:
            yield
            return
        self._local.held = False
        self._lock.release()
        try:
            yield
        finally:
            self._lock.acquire()
            self._local.held = True


#: The turns of this process: every run shares them, so two runs never parse at once either.
TURNS = Turns()


def run_in_turns(units: Sequence[Callable[[float | None], T]], *, workers: int,
                 deadline: float | None = None) -> list[T]:
    """Run each unit on one of `workers` threads, in turns, and answer their results in order.

    A unit is called with its own deadline: an equal share of what is left of `deadline`
    among the units not started yet (times the workers that run them side by side), so a
    budget that runs short still reaches every unit instead of starving the last ones.
    Units are started in the order given.
    """
    if not units:
        return []
    started = 0
    lock = threading.Lock()

    def share() -> float | None:
        nonlocal started
        with lock:
            waiting = len(units) - started
            started += 1
        if deadline is None:
            return None
        left = deadline - time.monotonic()
        return time.monotonic() + max(0.0, left) * min(1.0, workers / max(1, waiting))

    def job(unit: Callable[[float | None], T]) -> T:
        unit_deadline = share()
        with TURNS.turn():
            return unit(unit_deadline)

    if workers <= 1 or len(units) == 1:
        return [job(unit) for unit in units]
    with ThreadPoolExecutor(max_workers=min(workers, len(units)),
                            thread_name_prefix="contracts") as pool:
        return list(pool.map(job, units))
