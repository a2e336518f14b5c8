"""An idle journal writer leaves its database alone, and keeps the journal's guarantee: an
exchange answered before a query began is in that query's answer (``state.journal_sql``)."""

from __future__ import annotations

import time
from typing import Any

from mock_server.state.journal import JournalRecord
from mock_server.state.journal_sql import (
    HEARTBEAT,
    IDLE_MARK,
    QUERY_WAIT,
    QUIET,
    SqlJournal,
)


def _exchange(path: str) -> JournalRecord:
    return JournalRecord(0, time.time(), "GET", path, 200, "getEvent", False, False, False,
                         b"{}", b"", b"{}")


def _watermark(journal: SqlJournal) -> tuple[float, float]:
    with journal._connected() as connection:
        row = connection.execute(journal._sql(
            "SELECT flushed_through, seen FROM journal_writers WHERE writer = ?"),
            (journal.writer,)).fetchone()
    return float(row[0]), float(row[1])


def _wait_idle(journal: SqlJournal) -> None:
    deadline = time.monotonic() + QUIET * 4 + 2
    while not journal._idle:
        assert time.monotonic() < deadline, "the writer never went idle"
        time.sleep(HEARTBEAT / 5)


def test_an_idle_writer_says_so_once_and_then_writes_nothing(dialect: Any) -> None:
    journal = SqlJournal(dialect(), 10)
    journal.record(lambda: _exchange("/first"))  # registers and starts the flusher
    _wait_idle(journal)
    marked = _watermark(journal)
    assert marked[0] == IDLE_MARK
    time.sleep(HEARTBEAT * 3)
    assert _watermark(journal) == marked  # no heartbeat: `seen` stands still


def test_an_exchange_an_idle_writer_answers_is_in_the_next_query_of_any_process(
        dialect: Any) -> None:
    writer = SqlJournal(dialect(), 10)
    reader = SqlJournal(dialect(), 10)  # another process's view of the same journal
    writer.record(lambda: _exchange("/first"))
    _wait_idle(writer)
    writer.record(lambda: _exchange("/after-a-quiet-while"))  # "answered" once this returns
    assert not writer._idle
    flushed_through, _ = _watermark(writer)
    assert flushed_through < IDLE_MARK  # queries wait for this writer again
    paths = [record.path for record in reader.index()]
    assert paths == ["/first", "/after-a-quiet-while"]


def test_a_busy_writer_never_goes_idle(dialect: Any) -> None:
    journal = SqlJournal(dialect(), 1000)
    journal.record(lambda: _exchange("/0"))
    deadline = time.monotonic() + QUIET * 2
    count = 1
    while time.monotonic() < deadline:
        journal.record(lambda n=count: _exchange(f"/{n}"))  # type: ignore[misc]
        count += 1
        assert not journal._idle
        time.sleep(QUIET / 20)
    assert len(SqlJournal(dialect(), 1000).index()) == count


def test_a_process_that_served_nothing_yet_does_not_wait_for_itself(dialect: Any) -> None:
    reader = SqlJournal(dialect(), 10)  # never recorded: no flusher, its watermark only its own
    for _ in range(2):  # the second query finds the row the first one's flush wrote
        started = time.monotonic()
        assert reader.index() == []
        assert time.monotonic() - started < QUERY_WAIT / 2


def test_an_exchange_that_cannot_be_encoded_is_left_out_and_the_others_kept(
        dialect: Any) -> None:
    journal = SqlJournal(dialect(), 10)

    def broken() -> JournalRecord:
        raise ValueError("not encodable")

    journal.record(lambda: _exchange("/before"))
    journal.record(broken)
    journal.record(lambda: _exchange("/after"))
    assert [record.path for record in journal.index()] == ["/before", "/after"]
    assert [record.path for record in journal.index()] == ["/before", "/after"]  # once
