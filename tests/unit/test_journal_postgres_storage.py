"""The PostgreSQL journal's table: unlogged, its bodies lz4-compressed, new or migrated."""

from __future__ import annotations

import os
from typing import Any

import psycopg

from mock_server.state.journal import JournalRecord
from mock_server.state.journal_sql import SCHEMA, SqlJournal
from mock_server.state.postgres import PostgresJournalDialect


def _storage(url: str) -> tuple[str, list[tuple[str, str]]]:
    with psycopg.connect(url) as connection:
        persistence = connection.execute(
            "SELECT relpersistence FROM pg_class WHERE oid = 'exchanges'::regclass").fetchone()
        columns = connection.execute(
            "SELECT attname, attcompression FROM pg_attribute WHERE attrelid = "
            "'exchanges'::regclass AND attname IN ('doc', 'request_body', 'response_body') "
            "ORDER BY attname").fetchall()
    assert persistence is not None
    return persistence[0], columns


LZ4_BODIES = [("doc", "l"), ("request_body", "l"), ("response_body", "l")]


def test_the_journal_table_is_unlogged_with_lz4_bodies_new_or_migrated(postgres: Any) -> None:
    fresh = postgres.create_database()
    SqlJournal(PostgresJournalDialect(fresh), 10)
    assert _storage(fresh) == ("u", LZ4_BODIES)

    older = postgres.create_database()  # a database a previous version made: logged, pglz
    with psycopg.connect(older, autocommit=True) as connection:
        for statement in SCHEMA:
            connection.execute(statement.format(serial="BIGSERIAL PRIMARY KEY", blob="BYTEA"))
        connection.execute("INSERT INTO exchanges (started, method, path, unmatched, faulted, "
                           "violating, doc, request_body, response_body) VALUES "
                           "(1, 'GET', '/kept', false, false, false, '', '', '')")
    assert _storage(older)[0] == "p"
    journal = SqlJournal(PostgresJournalDialect(older), 10)
    assert _storage(older) == ("u", LZ4_BODIES)
    assert [record.path for record in journal.index()] == ["/kept"]  # rows kept
    journal.record(lambda: JournalRecord(0, 2.0, "GET", "/new", 200, "getEvent", False, False,
                                         False, b"{}", b"", b"x" * 20_000))
    journal.flush()
    assert [record.path for record in journal.index()] == ["/kept", "/new"]
    assert journal.fetch([journal.index()[-1].id])[0].response_body == b"x" * 20_000


def test_trims_leave_no_dead_rows_to_pile_up(postgres: Any) -> None:
    """Autovacuum looks at a database once a minute: without the journal's own vacuum after a
    trim, a busy minute left the table hundreds of MB of dead rows that every trim walked."""
    url = postgres.create_database()
    journal = SqlJournal(PostgresJournalDialect(url), 10)
    for flush in range(60):
        for n in range(20):
            record = JournalRecord(0, float(flush), "GET", f"/{flush}/{n}", 200, None, False,
                                   False, False, b"{}", b"", os.urandom(4096))  # incompressible
            journal.record(lambda record=record: record)  # type: ignore[misc]
        journal.flush()
    with psycopg.connect(url) as connection:
        size = connection.execute(
            "SELECT pg_total_relation_size('exchanges')").fetchone()[0]  # type: ignore[index]
    written = 60 * 20 * 4096
    assert size < written / 4, f"{size} bytes held for {written} written, 10 kept"
    assert [record.path for record in journal.index()][-1] == "/59/19"
