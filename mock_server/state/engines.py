"""Which engine runs: chosen by the settings, as SQLAlchemy picks a dialect by URL.

    --state-url postgresql://...   PostgreSQL: replicas on any number of machines
    --state-file PATH              SQLite at PATH: the workers of one machine, kept on disk
    (the CLI's default)            SQLite in a temporary file, removed at exit
    (create_app's default)         memory: one process, nothing written anywhere
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from mock_server.state.engine import Engine, MemoryEngine
from mock_server.state.journal import JournalStore

ENGINES = ("memory", "sqlite", "postgresql")


class EngineSettings(Protocol):
    state_engine: str
    state_file: str | None
    state_url: str | None


def open_engine(settings: EngineSettings) -> tuple[Engine, Callable[[], None]]:
    """The engine, opened (schema created or migrated), and what to run when it is closed."""
    if settings.state_url:
        if not settings.state_url.startswith(("postgresql://", "postgres://")):
            raise ValueError("--state-url must be a postgresql:// URL")
        from mock_server.state.postgres import PostgresEngine

        return PostgresEngine(settings.state_url), lambda: None
    if settings.state_file or settings.state_engine == "sqlite":
        from mock_server.state.sqlite import SqliteEngine, remove_database

        if settings.state_file:
            return SqliteEngine(settings.state_file, persistent=True), lambda: None
        # mkdtemp, not TemporaryDirectory: a forked worker exits through the same stack and
        # its finalizers, and must not delete the database the others still use.
        folder = tempfile.mkdtemp(prefix="mock-server-")
        path = str(Path(folder) / "state.sqlite")

        def remove() -> None:
            remove_database(path)
            shutil.rmtree(folder, ignore_errors=True)

        return SqliteEngine(path, persistent=False), remove
    if settings.state_engine != "memory":
        raise ValueError(f"unknown state engine {settings.state_engine!r}: one of {ENGINES}")
    return MemoryEngine(), lambda: None


def open_journal(engine: Engine, size: int) -> JournalStore:
    """The journal beside the engine: in memory, or in the database every process shares
    (a file of its own next to an SQLite state, so its writes never wait on the state's)."""
    from mock_server.state.journal import MemoryJournal
    from mock_server.state.journal_sql import SqliteJournalDialect, SqlJournal

    if engine.kind == "sqlite":
        from mock_server.state.sqlite import SqliteEngine

        assert isinstance(engine, SqliteEngine)
        return SqlJournal(SqliteJournalDialect(engine.path + ".journal"), size)
    if engine.kind == "postgresql":
        from mock_server.state.postgres import PostgresEngine, PostgresJournalDialect

        assert isinstance(engine, PostgresEngine)
        return SqlJournal(PostgresJournalDialect(engine.url), size)
    return MemoryJournal(size)
