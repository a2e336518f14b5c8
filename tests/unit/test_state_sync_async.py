"""The request path's catch-up on the event loop (``Replica.sync_async``), on every engine."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from mock_server.state.engine import StateUnavailable
from mock_server.state.postgres import PostgresEngine
from mock_server.state.replica import Change, Replica


def _replica(engine: Any, seen: list[Any]) -> Replica:
    replica = Replica(engine)
    replica.register({"note": seen.append, "reset": lambda body: seen.clear()})
    return replica


def test_what_one_replica_commits_the_other_applies_awaiting_the_engine(
        engine_factory: Callable[[], Any]) -> None:
    place = engine_factory()
    writer_seen: list[Any] = []
    writer = _replica(place, writer_seen)
    writer.ensure_base(Change("reset", {}))
    writer.sync()
    reader_seen: list[Any] = []
    reader = _replica(place if place.kind == "memory" else engine_factory(), reader_seen)
    asyncio.run(reader.sync_async())
    assert reader.seq == writer.seq == 1

    writer.commit([Change("note", {"n": 1}), Change("note", {"n": 2})])
    asyncio.run(reader.sync_async())  # a new event loop: PostgreSQL opens a connection for it
    assert reader_seen == [{"n": 1}, {"n": 2}] and reader.seq == writer.seq == 3
    asyncio.run(reader.sync_async())  # nothing new: nothing applied twice
    assert reader_seen == [{"n": 1}, {"n": 2}]
    reader.stop_following()
    writer.stop_following()


def _postgres_replica(postgres: Any) -> tuple[str, PostgresEngine, Replica, list[Any]]:
    url = postgres.create_database()
    engine = PostgresEngine(url)
    seen: list[Any] = []
    replica = _replica(engine, seen)
    replica.ensure_base(Change("reset", {}))
    return url, engine, replica, seen


def test_a_lost_loop_connection_answers_unavailable_then_reconnects(postgres: Any) -> None:
    url, engine, replica, seen = _postgres_replica(postgres)

    async def scenario() -> None:
        await replica.sync_async()
        with psycopg.connect(url, autocommit=True) as admin:  # the database drops the link
            # with a timeout, it returns once they are gone (without, only signalled)
            admin.execute("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE "
                          "datname = current_database() AND pid <> pg_backend_pid()")
        with pytest.raises(StateUnavailable):
            await replica.sync_async()
        replica.commit([Change("note", {"after": "the outage"})])
        await replica.sync_async()  # a new connection, caught up

    try:
        asyncio.run(scenario())
        assert seen == [{"after": "the outage"}]
    finally:
        replica.stop_following()
        engine.close()


def _catch_up_backends(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as admin:
        return admin.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                             "current_database() AND pid <> pg_backend_pid()").fetchone()[0]


def test_a_cancelled_check_leaves_no_answer_behind_for_the_next(postgres: Any) -> None:
    url, engine, replica, seen = _postgres_replica(postgres)

    async def scenario() -> None:
        await replica.sync_async()
        with psycopg.connect(url) as blocker:  # the log's table locked: the query waits
            blocker.execute("LOCK TABLE changes IN ACCESS EXCLUSIVE MODE")
            check = asyncio.ensure_future(replica.sync_async())
            await asyncio.sleep(0.2)
            assert not check.done()
            check.cancel()
            with pytest.raises(asyncio.CancelledError):
                await check
        replica.commit([Change("note", {"n": 1})])
        replica.seq -= 1  # as if another replica had written it: the check must fetch it
        seen.clear()
        await replica.sync_async()

    try:
        asyncio.run(scenario())
        assert seen == [{"n": 1}]  # the cancelled query's answer was not taken for these
    finally:
        replica.stop_following()
        engine.close()


def test_checks_at_once_on_one_loop_take_turns(postgres: Any) -> None:
    url, engine, replica, seen = _postgres_replica(postgres)
    reader = PostgresEngine(url)

    async def scenario() -> list[list[int]]:
        replica.commit([Change("note", {"n": n}) for n in range(3)])
        answers = await asyncio.gather(*(reader.read_after_async(seq) for seq in range(5)))
        return [[row.seq for row in rows] for rows in answers]

    try:
        assert asyncio.run(scenario()) == [[1, 2, 3, 4], [2, 3, 4], [3, 4], [4], []]
    finally:
        replica.stop_following()
        engine.close()
        reader.close()


def test_a_check_under_way_when_the_engine_closes_fails_instead_of_hanging(
        postgres: Any) -> None:
    url, engine, replica, _ = _postgres_replica(postgres)

    async def scenario() -> None:
        await replica.sync_async()
        with psycopg.connect(url) as blocker:
            blocker.execute("LOCK TABLE changes IN ACCESS EXCLUSIVE MODE")
            check = asyncio.ensure_future(replica.sync_async())
            await asyncio.sleep(0.2)
            closing = threading.Thread(target=engine.close)  # as at shutdown, off the loop
            closing.start()
            with pytest.raises(StateUnavailable):
                await asyncio.wait_for(check, 5)
            closing.join()

    try:
        asyncio.run(scenario())
    finally:
        replica.stop_following()
        engine.close()


def test_each_new_loop_closes_the_connection_of_the_loops_gone_before(postgres: Any) -> None:
    url, engine, replica, _ = _postgres_replica(postgres)
    try:
        asyncio.run(replica.sync_async())
        before = _catch_up_backends(url)
        for _ in range(3):
            asyncio.run(replica.sync_async())
        assert _catch_up_backends(url) == before
    finally:
        replica.stop_following()
        engine.close()
