"""Group commit on PostgreSQL: writes that arrive together share one COMMIT, nobody is answered
before it, and a failed commit answers 503 to all of them and leaves no trace in any memory.

The server's RSGI bridge is driven directly on an event loop, as granian drives it in a
worker, with a second app on the same database as another replica.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest
from flask import Flask

from mock_server.api.freshness import SharedCatchUp
from mock_server.app import CREDENTIALS, SERVICES, body_limit, create_app
from mock_server.rsgi import RsgiBridge
from mock_server.seed import DEFAULT_USER_ID
from mock_server.state.postgres import WRITE_LOCK

KEY = "aaa-bbb-ccc"
#: The documents' create request (the benchmark's body too).
NEW_EVENT = orjson.loads(
    (Path(__file__).resolve().parents[2] / "fixtures/documents/createEvent.request.json")
    .read_bytes())


class Scope:
    proto = "http"
    scheme = "http"
    server = "127.0.0.1:8000"
    client = "127.0.0.1:40000"

    def __init__(self, method: str, path: str, headers: dict[str, str]) -> None:
        self.method, self.path, self.query_string, self.headers = method, path, "", headers


class Protocol:
    def __init__(self, body: bytes = b"") -> None:
        self.body = body
        self.status = 0
        self.data = b""

    async def __call__(self) -> bytes:  # the whole body at once (a Content-Length was sent)
        return self.body

    def __aiter__(self) -> Any:
        return self._chunks()

    async def _chunks(self) -> Any:
        yield self.body

    def response_bytes(self, status: int, headers: list[tuple[str, str]], data: bytes) -> None:
        self.status, self.data = status, data

    def response_empty(self, status: int, headers: list[tuple[str, str]]) -> None:
        self.status = status


@pytest.fixture
def url(postgres: Any) -> str:
    return postgres.create_database()


@pytest.fixture
def replicas(url: str) -> Iterator[tuple[Flask, Flask]]:
    apps = [create_app({"SEED": 42, "EVENTS": 20, "STATE_URL": url}) for _ in range(2)]
    yield apps[0], apps[1]
    for app in apps:
        app.extensions[SERVICES].close()


def bridge(app: Flask) -> RsgiBridge:
    services = app.extensions[SERVICES]
    return RsgiBridge(app, body_limit=body_limit, catch_up=SharedCatchUp(services).wait,
                      group=services.replica.group)


def headers(app: Flask, body: bytes | None = None) -> dict[str, str]:
    user = app.extensions[SERVICES].store.get_user(DEFAULT_USER_ID)
    token = app.extensions[CREDENTIALS].tokens.issue(user.id, user.type)
    found = {"x-api-key": KEY, "authorization": f"Bearer {token}"}
    if body is not None:
        found.update({"content-type": "application/json", "content-length": str(len(body))})
    return found


async def create_many(app: Flask, count: int) -> list[Protocol]:
    server = bridge(app)
    body = orjson.dumps(NEW_EVENT)
    calls = [Protocol(body) for _ in range(count)]
    await asyncio.gather(*(server(Scope("POST", "/activities/v1/events", headers(app, body)),
                                  call) for call in calls))
    return calls


def count_commits(app: Flask, monkeypatch: pytest.MonkeyPatch, *, fail: bool = False,
                  delay: float = 0.0) -> list[int]:
    """How many statements each COMMIT carried (``fail``: the COMMIT's link breaks after
    ``delay`` seconds)."""
    engine = app.extensions[SERVICES].engine
    sent: list[int] = []
    original = engine.send_batch

    def send_batch(connection: Any, statements: list[Any], *, commit: bool) -> None:
        if commit:
            sent.append(len(statements))
            time.sleep(delay)
            if fail:
                raise psycopg.OperationalError("server closed the connection unexpectedly")
        original(connection, statements, commit=commit)

    monkeypatch.setattr(engine, "send_batch", send_batch)
    return sent


def test_concurrent_writes_share_commits_and_all_reach_the_other_replica(
        replicas: tuple[Flask, Flask], monkeypatch: pytest.MonkeyPatch) -> None:
    one, two = replicas
    commits = count_commits(one, monkeypatch)
    calls = asyncio.run(create_many(one, 12))
    assert [call.status for call in calls] == [201] * 12
    ids = sorted(orjson.loads(call.data)["data"]["id"] for call in calls)
    assert len(set(ids)) == 12
    assert sum(commits) == 12 and len(commits) < 12  # grouped: fewer COMMITs than writes
    two.extensions[SERVICES].sync()
    store = two.extensions[SERVICES].store
    assert all(store.get_event(event_id) is not None for event_id in ids)


def test_a_failed_commit_answers_503_to_the_whole_batch_and_memory_forgets_it(
        replicas: tuple[Flask, Flask], monkeypatch: pytest.MonkeyPatch) -> None:
    one, two = replicas
    services = one.extensions[SERVICES]
    before = services.store.event_count()
    commits = count_commits(one, monkeypatch, fail=True)
    calls = asyncio.run(create_many(one, 6))
    assert commits and [call.status for call in calls] == [503] * 6
    assert all(orjson.loads(call.data)["code"] == 503 for call in calls)
    assert services.replica.poisoned  # memory held the batch: rebuilt before the next answer
    monkeypatch.undo()
    services.sync()
    assert not services.replica.poisoned and services.store.event_count() == before
    two.extensions[SERVICES].sync()
    assert two.extensions[SERVICES].store.event_count() == before  # nothing reached the log
    again = asyncio.run(create_many(one, 2))
    assert [call.status for call in again] == [201, 201]


def test_a_read_computed_over_an_uncommitted_write_waits_for_its_commit(
        replicas: tuple[Flask, Flask], monkeypatch: pytest.MonkeyPatch) -> None:
    one, _ = replicas
    commits = count_commits(one, monkeypatch, fail=True, delay=0.3)
    server = bridge(one)
    body = orjson.dumps(NEW_EVENT)
    write, read = Protocol(body), Protocol()
    next_id = one.extensions[SERVICES].store.event_count() + 1

    async def read_while_committing() -> None:
        writing = asyncio.ensure_future(
            server(Scope("POST", "/activities/v1/events", headers(one, body)), write))
        while not commits:  # the COMMIT is on its way: memory holds the new event
            await asyncio.sleep(0.01)
        assert one.extensions[SERVICES].store.get_event(next_id) is not None
        await server(Scope("GET", f"/activities/v1/events/{next_id}", headers(one)), read)
        await writing

    asyncio.run(read_while_committing())
    assert write.status == 503
    assert read.status == 503  # held for the commit, which failed: never a 200 of a lost event


@contextlib.contextmanager
def write_lock_held(url: str) -> Iterator[None]:
    """Another session holds the fleet-wide write lock: no batch opens until the block ends,
    so the writers started in it all wait for one, however the opening thread is scheduled.
    (A batch that opens fast would let a writer that comes later straight in.)"""
    with psycopg.connect(url) as holder:
        holder.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
        yield


async def until_waiting(group: Any, count: int) -> None:
    for _ in range(250):
        if group.waiting == count:
            break
        await asyncio.sleep(0.02)
    assert group.waiting == count and group.batch is None


def test_a_reset_among_concurrent_writes_commits_before_it_is_applied(
        replicas: tuple[Flask, Flask], url: str) -> None:
    one, two = replicas
    base = one.extensions[SERVICES].store.event_count()
    server = bridge(one)
    body = orjson.dumps(NEW_EVENT)
    creates = [Protocol(body) for _ in range(4)]
    reset = Protocol(b"{}")
    calls = [server(Scope("POST", "/activities/v1/events", headers(one, body)), call)
             for call in creates[:2]]
    calls.append(server(Scope("POST", "/__admin/reset", {
        "x-admin-key": "admin-dev-key", "content-type": "application/json",
        "content-length": "2"}), reset))
    calls += [server(Scope("POST", "/activities/v1/events", headers(one, body)), call)
              for call in creates[2:]]

    async def wave() -> None:
        with write_lock_held(url):  # admitted in the order given
            running = asyncio.gather(*calls)
            await until_waiting(one.extensions[SERVICES].replica.group, len(calls))
        await running

    asyncio.run(wave())
    assert reset.status == 200 and [call.status for call in creates] == [201] * 4
    for app in (one, two):
        app.extensions[SERVICES].sync()
    counts = {app.extensions[SERVICES].store.event_count() for app in (one, two)}
    assert counts == {base + 2}  # the two created after the reset, on both replicas


def test_a_batch_whose_writers_all_went_away_is_closed_and_releases_the_lock(
        replicas: tuple[Flask, Flask], url: str) -> None:
    one, two = replicas
    group = one.extensions[SERVICES].replica.group
    server = bridge(one)
    body = orjson.dumps(NEW_EVENT)

    async def cancelled_while_opening() -> None:
        with write_lock_held(url):
            calls = [asyncio.ensure_future(server(
                Scope("POST", "/activities/v1/events", headers(one, body)), Protocol(body)))
                for _ in range(3)]
            await until_waiting(group, 3)
            for call in calls:
                call.cancel()
            await asyncio.sleep(0.05)
        # the batch opens now, with nobody left to run in it
        for _ in range(250):
            await asyncio.sleep(0.02)
            if group.batch is None and group._busy is not None and group._busy.done():
                return

    asyncio.run(cancelled_while_opening())
    assert group.batch is None and group.members == group.waiting == 0
    other = two.test_client().post("/activities/v1/events", json=NEW_EVENT,
                                   headers=headers(two))
    assert other.status_code == 201  # the fleet-wide lock is free
