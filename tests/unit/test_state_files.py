"""Files the mock writes: atomic replacement, debounced writes, and the SQLite state file."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from mock_server.app import create_app
from mock_server.state.engine import StateUnavailable
from mock_server.state.files import DebouncedWriter, atomic_write

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


def test_changes_are_kept_in_the_state_file_and_resumed_by_the_next_app(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    app = create_app({"SEED": 42, "EVENTS": 10, "STATE_FILE": str(path)})
    client = app.test_client()
    client.post("/__admin/reseed", json={"events": 7}, headers=ADMIN)
    client.put("/__admin/clock", json={"now": "2027-01-01T00:00:00Z", "frozen": True},
               headers=ADMIN)
    saved = client.get("/__admin/state", headers=ADMIN).json
    assert saved["fixtures"] == {"seed": 42, "events": 7}
    app.extensions["mock_server"].close()  # nothing to flush: every commit is on disk

    again = create_app({"SEED": 42, "EVENTS": 10, "STATE_FILE": str(path)}).test_client()
    assert again.get("/__admin/state", headers=ADMIN).json == saved
    assert again.get("/__admin/clock", headers=ADMIN).json["now"] == (
        "2027-01-01T00:00:00.000000Z")


def test_a_missing_file_starts_from_the_fixtures(tmp_path: Path) -> None:
    app = create_app({"SEED": 42, "EVENTS": 10, "STATE_FILE": str(tmp_path / "new.sqlite")})
    assert app.extensions["mock_server"].store.event_count() == 10
    assert (tmp_path / "new.sqlite").exists()


@pytest.mark.parametrize("content", [b"{not a database", b"SQLite format 3\x00garbage" * 40])
def test_an_unusable_file_stops_the_start_and_is_left_alone(tmp_path: Path,
                                                            content: bytes) -> None:
    path = tmp_path / "state.sqlite"
    path.write_bytes(content)
    with pytest.raises(StateUnavailable, match="state.sqlite"):
        create_app({"SEED": 42, "EVENTS": 10, "STATE_FILE": str(path)})
    assert path.read_bytes() == content
