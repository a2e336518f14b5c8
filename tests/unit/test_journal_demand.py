"""A busy journal writer holds its exchanges until a query asks for them, and the journal's
guarantee holds: an exchange answered before a query began is in that query's answer,
whichever process answered it (``state.journal_sql``)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from mock_server.state.journal import JournalRecord
from mock_server.state.journal_sql import HEARTBEAT, QUERY_WAIT, QUIET, WRITER_LIVENESS, SqlJournal


def _exchange(path: str, *, started: float | None = None,
              unmatched: bool = False) -> JournalRecord:
    return JournalRecord(0, time.time() if started is None else started, "GET", path,
                         404 if unmatched else 200, None if unmatched else "getEvent",
                         unmatched, False, False, b"{}", b"", b"{}")


def _rows_written(journal: SqlJournal) -> int:
    with journal._connected() as connection:
        return int(connection.execute("SELECT COUNT(*) FROM exchanges").fetchone()[0])


def _busy(journal: SqlJournal, count: int, prefix: str = "/busy") -> None:
    """Record ``count`` exchanges, the first one waiting until the writer's flusher has
    listened (its first turn flushes once, in case a query asked before it could hear)."""
    journal.record(lambda: _exchange(f"{prefix}/0"))
    deadline = time.monotonic() + 10
    while _rows_written(journal) == 0:
        assert time.monotonic() < deadline, "the flusher never started"
        time.sleep(0.01)
    for n in range(1, count):
        journal.record(lambda n=n: _exchange(f"{prefix}/{n}"))  # type: ignore[misc]


def test_a_busy_writer_writes_nothing_until_a_query_of_another_process_asks(
        dialect: Any) -> None:
    writer = SqlJournal(dialect(), 100)
    _busy(writer, 50)
    time.sleep(HEARTBEAT)  # heartbeats meanwhile, no flush (QUIET is longer)
    assert HEARTBEAT < QUIET
    assert _rows_written(writer) == 1  # only the flusher's first turn
    reader = SqlJournal(dialect(), 100)
    started = time.monotonic()
    paths = [record.path for record in reader.index()]
    assert time.monotonic() - started < QUERY_WAIT / 2  # asked, not waited out
    assert paths == [f"/busy/{n}" for n in range(50)]
    assert reader.stats()["recorded"] == 50


def test_a_writer_holds_only_its_newest_exchanges_and_its_misses_apart(dialect: Any) -> None:
    writer = SqlJournal(dialect(), 10)
    writer.record(lambda: _exchange("/miss/early", unmatched=True))
    _busy(writer, 30)  # pushes the early miss out of the newest ten
    with writer._buffer_lock:
        assert len(writer._held) == 10  # memory stays bounded by the journal's size
    reader = SqlJournal(dialect(), 10)
    assert [r.path for r in reader.index()] == [f"/busy/{n}" for n in range(20, 30)]
    assert [r.path for r in reader.index(unmatched=True)] == ["/miss/early"]
    assert reader.stats() == {"size": 10, "kept": 10, "unmatched_kept": 1, "recorded": 31,
                              "evicted": 21}


def test_the_journal_is_in_the_order_exchanges_began_whichever_process_wrote_them(
        dialect: Any) -> None:
    first, second = SqlJournal(dialect(), 10), SqlJournal(dialect(), 10)
    now = time.time()
    first.record(lambda: _exchange("/a", started=now + 1))
    second.record(lambda: _exchange("/b", started=now + 2))
    first.record(lambda: _exchange("/c", started=now + 3))
    second.flush()  # "/b" written before "/a" and "/c"
    reader = SqlJournal(dialect(), 10)
    assert [r.path for r in reader.index()] == ["/a", "/b", "/c"]
    assert [r.path for r in SqlJournal(dialect(), 2).index()] == ["/b", "/c"]


def test_a_failed_flush_holds_what_it_took_for_the_next_one(dialect: Any,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    journal = SqlJournal(dialect(), 10)
    journal._register = lambda: None  # type: ignore[method-assign]  # no flusher thread
    journal.record(lambda: _exchange("/miss", unmatched=True), unmatched=True)
    journal.record(lambda: _exchange("/kept"))

    def lost(*args: Any) -> None:
        raise journal.dialect.errors[0]("the database went away")

    monkeypatch.setattr(journal.dialect, "commit_with", lost)
    with pytest.raises(journal.dialect.errors[0]):
        journal.flush()
    journal.record(lambda: _exchange("/meanwhile"))
    monkeypatch.undo()
    journal.flush()
    assert [r.path for r in journal.index()] == ["/miss", "/kept", "/meanwhile"]
    assert [r.path for r in journal.index(unmatched=True)] == ["/miss"]
    assert journal.stats()["recorded"] == 3


def test_a_query_waits_for_a_live_writer_and_not_for_a_dead_one(dialect: Any) -> None:
    reader = SqlJournal(dialect(), 10)
    with reader._connected() as connection:
        now = reader.dialect.now(connection)
        connection.execute(reader._sql(
            "INSERT INTO journal_writers (writer, flushed_through, seen) VALUES (?, 0, ?)"),
            ("killed", now - WRITER_LIVENESS - 1))
    started = time.monotonic()
    reader.index()
    assert time.monotonic() - started < QUERY_WAIT / 2  # not seen for too long: gone
    with reader._connected() as connection:
        connection.execute(reader._sql("UPDATE journal_writers SET seen = ? WHERE writer = ?"),
                           (reader.dialect.now(connection), "killed"))
    started = time.monotonic()
    reader.index()
    assert time.monotonic() - started >= QUERY_WAIT  # alive, yet it never flushed
