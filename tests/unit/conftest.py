"""Store backends: the domain and store tests run against each one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mock_server.state.memory import InMemoryStore
from mock_server.state.sqlite import SharedLog, SharedStore

StoreFactory = Callable[..., Any]


@pytest.fixture(params=["memory", "sqlite"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> StoreFactory:
    """Builds a store from fixtures: in memory, or shared through an SQLite log."""

    def make(fixtures: Any = None) -> Any:
        local = InMemoryStore(fixtures)
        if request.param == "memory":
            return local
        return SharedStore(local, SharedLog(tmp_path / "state.sqlite"))

    return make
