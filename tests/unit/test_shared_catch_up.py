"""One catch-up with the log serves every request that arrived before it began."""

from __future__ import annotations

import asyncio
import threading
import time
from types import SimpleNamespace
from typing import Any

from mock_server.api.freshness import SharedCatchUp
from mock_server.state.engine import StateUnavailable


class Log:
    """A remote engine's log as seen by one worker: commits land at times; a check sees what
    was committed before it began."""

    def __init__(self, delay: float = 0.02, fail: bool = False) -> None:
        self.delay = delay
        self.fail = fail
        self.checks: list[tuple[float, float]] = []  # (began, ended)
        self.lock = threading.Lock()

    async def sync_async(self) -> None:
        began = time.monotonic()
        await asyncio.sleep(self.delay)  # the round trip, awaited on the worker's loop
        with self.lock:
            self.checks.append((began, time.monotonic()))
        if self.fail:
            raise StateUnavailable("postgresql: the server closed the connection")


def shared(log: Log) -> SharedCatchUp:
    services: Any = SimpleNamespace(engine=SimpleNamespace(kind="postgresql"),
                                    sync_async=log.sync_async)
    return SharedCatchUp(services)


def test_concurrent_requests_share_checks_and_each_waits_for_one_that_began_after_it() -> None:
    log = Log()
    catch_up = shared(log)
    arrivals: list[float] = []
    finished: list[float] = []

    async def request(after: float) -> bool:
        await asyncio.sleep(after)
        arrivals.append(time.monotonic())
        mine = arrivals[-1]
        ok = await catch_up.wait()
        finished.append(time.monotonic())
        # a check that began after this request arrived has ended
        assert any(began >= mine and ended <= finished[-1] for began, ended in log.checks)
        return ok

    async def main() -> list[bool]:
        return await asyncio.gather(*(request(i * 0.004) for i in range(30)))

    assert all(asyncio.run(main()))
    assert 2 <= len(log.checks) < 15  # shared: far fewer checks than requests


def test_a_failed_check_says_so_and_the_request_checks_again_itself() -> None:
    catch_up = shared(Log(fail=True))

    async def main() -> list[bool]:
        return await asyncio.gather(*(catch_up.wait() for _ in range(5)))

    assert asyncio.run(main()) == [False] * 5


def test_local_engines_are_checked_inline_by_the_request_itself() -> None:
    services: Any = SimpleNamespace(engine=SimpleNamespace(kind="sqlite"), sync_async=None)
    assert asyncio.run(SharedCatchUp(services).wait()) is False


def test_a_request_cancelled_while_waiting_leaves_the_check_to_the_others() -> None:
    checks: list[str] = []

    async def main() -> list[Any]:
        release = asyncio.Event()

        async def sync_async() -> None:  # a check that ends when the test says so
            checks.append("began")
            await release.wait()

        services: Any = SimpleNamespace(engine=SimpleNamespace(kind="postgresql"),
                                        sync_async=sync_async)
        catch_up = SharedCatchUp(services)
        waiting = [asyncio.ensure_future(catch_up.wait()) for _ in range(3)]
        while not checks:  # all three joined the one check, which is under way
            await asyncio.sleep(0)
        waiting[0].cancel()  # its client went away
        await asyncio.sleep(0)
        release.set()
        return await asyncio.gather(*waiting, return_exceptions=True)

    outcomes = asyncio.run(main())
    assert isinstance(outcomes[0], asyncio.CancelledError)
    assert outcomes[1:] == [True, True] and checks == ["began"]
