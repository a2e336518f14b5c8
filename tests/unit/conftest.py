"""State engines: the domain and store tests run against each one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mock_server.state.journal_sql import SqliteJournalDialect
from mock_server.state.memory import InMemoryStore
from mock_server.state.postgres import PostgresJournalDialect
from mock_server.state.replica import Replica
from mock_server.state.replicated import ReplicatedStore

StoreFactory = Callable[..., Any]


@pytest.fixture
def make_store(engine_factory: Callable[[], Any]) -> StoreFactory:
    """Builds a store from fixtures over each engine (memory, SQLite, PostgreSQL)."""

    def make(fixtures: Any = None) -> Any:
        return ReplicatedStore(InMemoryStore(fixtures), Replica(engine_factory()))

    return make


@pytest.fixture(params=["sqlite", "postgresql"])
def dialect(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """One journal database, as every process of a fleet sees it (each call: a dialect of
    one more process)."""
    if request.param == "sqlite":
        yield lambda: SqliteJournalDialect(str(tmp_path / "state.journal"))
    else:
        url = request.getfixturevalue("postgres").create_database()
        yield lambda: PostgresJournalDialect(url)
