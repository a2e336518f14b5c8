"""Taking turns: one thread works at a time, the network waits overlap, budgets are shared."""

from __future__ import annotations

import threading
import time

from contracts.concurrency import TURNS, Turns, run_in_turns


def test_only_one_thread_works_at_a_time_but_waits_overlap() -> None:
    working = 0
    most = 0
    lock = threading.Lock()

    def unit(deadline: float | None) -> float:
        nonlocal working, most
        with lock:
            working += 1
            most = max(most, working)
        with lock:
            working -= 1
        started = time.monotonic()
        with TURNS.waiting():  # as TargetSession.send does around the network
            time.sleep(0.2)
        return time.monotonic() - started

    started = time.monotonic()
    waits = run_in_turns([unit] * 8, workers=8)
    elapsed = time.monotonic() - started
    assert most == 1
    assert len(waits) == 8 and all(wait >= 0.2 for wait in waits)
    assert elapsed < 8 * 0.2 * 0.6, elapsed  # the eight waits overlapped


def test_results_come_back_in_the_order_of_the_units() -> None:
    units = [lambda deadline, n=n: (time.sleep(0.01 * (5 - n)), n)[1] for n in range(5)]
    assert run_in_turns(units, workers=3) == [0, 1, 2, 3, 4]


def test_each_unit_gets_a_share_of_what_is_left_of_the_budget() -> None:
    deadline = time.monotonic() + 10
    given: list[float] = []
    run_in_turns([lambda d: given.append(d)] * 4, workers=1, deadline=deadline)
    shares = [d - deadline for d in given]
    # One worker, four units: the first may use a quarter of the budget, the last all of it.
    assert shares[0] < -7 and abs(shares[-1]) < 0.5


def test_a_turn_is_reentrant_and_waiting_without_one_changes_nothing() -> None:
    turns = Turns()
    with turns.waiting():
        assert not turns.held
    with turns.turn():
        with turns.turn():
            assert turns.held
        assert turns.held
        with turns.waiting():
            assert not turns.held
        assert turns.held
    assert not turns.held
