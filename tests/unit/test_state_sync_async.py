"""The request path's catch-up on the event loop (``Replica.sync_async``), on every engine."""

from __future__ import annotations

import asyncio
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


def test_a_lost_loop_connection_answers_unavailable_then_reconnects(postgres: Any) -> None:
    url = postgres.create_database()
    engine = PostgresEngine(url)
    seen: list[Any] = []
    replica = _replica(engine, seen)
    replica.ensure_base(Change("reset", {}))

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
