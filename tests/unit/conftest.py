"""State engines: the domain and store tests run against each one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from mock_server.state.memory import InMemoryStore
from mock_server.state.replica import Replica
from mock_server.state.replicated import ReplicatedStore

StoreFactory = Callable[..., Any]


@pytest.fixture
def make_store(engine_factory: Callable[[], Any]) -> StoreFactory:
    """Builds a store from fixtures over each engine (memory, SQLite, PostgreSQL)."""

    def make(fixtures: Any = None) -> Any:
        return ReplicatedStore(InMemoryStore(fixtures), Replica(engine_factory()))

    return make
