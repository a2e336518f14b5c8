"""The state file: atomic writes, debounced saves, loading at start, refusing a bad file."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from mock_server.app import create_app
from mock_server.controls.install import EXTENSION
from mock_server.state.state_file import DebouncedWriter, StateFileError, atomic_write

ADMIN = {"X-Admin-Key": "admin-dev-key"}


def test_atomic_write_replaces_the_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "state.json"
    atomic_write(target, b"first")
    atomic_write(target, b"second")
    assert target.read_bytes() == b"second"
    assert [p.name for p in target.parent.iterdir()] == ["state.json"]


def test_a_failed_write_keeps_the_previous_file(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "state.json"
    atomic_write(target, b"good")

    def broken(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("mock_server.state.files.os.replace", broken)
    with pytest.raises(OSError):
        atomic_write(target, b"bad")
    assert target.read_bytes() == b"good"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_the_debounced_writer_writes_once_after_a_burst() -> None:
    writes: list[float] = []
    done = threading.Event()

    def write() -> None:
        writes.append(time.monotonic())
        done.set()

    writer = DebouncedWriter(write, delay=0.05)
    writer.start()
    for _ in range(20):
        writer.touch()
    assert done.wait(2)
    time.sleep(0.1)
    assert len(writes) == 1 and not writer.dirty
    assert writer.flush() is False
    writer.touch()
    writer.stop()
    assert len(writes) == 2


def test_changes_are_saved_and_loaded_by_the_next_app(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    app = create_app({"SEED": 42, "EVENTS": 10, "STATE_FILE": str(path),
                      "STATE_FILE_DEBOUNCE": 60})
    client = app.test_client()
    client.post("/__admin/reseed", json={"events": 7}, headers=ADMIN)
    client.put("/__admin/clock", json={"now": "2027-01-01T00:00:00Z", "frozen": True},
               headers=ADMIN)
    state_file = app.extensions[EXTENSION].state_file
    assert state_file is not None and state_file.writer.dirty
    state_file.close()  # what shutdown and SIGTERM do
    saved = json.loads(path.read_text())
    assert saved["fixtures"] == {"seed": 42, "events": 7}

    again = create_app({"SEED": 42, "EVENTS": 10, "STATE_FILE": str(path)}).test_client()
    assert again.get("/__admin/state", headers=ADMIN).json == saved
    assert again.get("/__admin/clock", headers=ADMIN).json["now"] == (
        "2027-01-01T00:00:00.000000Z")


def test_a_missing_file_starts_from_the_fixtures(tmp_path: Path) -> None:
    app = create_app({"SEED": 42, "EVENTS": 10, "STATE_FILE": str(tmp_path / "new.json")})
    assert app.extensions["mock_server"].store.event_count() == 10
    app.extensions[EXTENSION].state_file.close()
    assert not (tmp_path / "new.json").exists()  # nothing changed, nothing written


@pytest.mark.parametrize("content", [b"{not json", b'{"format": "other"}'])
def test_an_unusable_file_stops_the_start(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "state.json"
    path.write_bytes(content)
    with pytest.raises(StateFileError, match="state.json"):
        create_app({"SEED": 42, "EVENTS": 10, "STATE_FILE": str(path)})
    assert path.read_bytes() == content
