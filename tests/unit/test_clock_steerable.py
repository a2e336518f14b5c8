"""SteerableClock: the wall clock, shifted or frozen, thread-safe, exported exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mock_server.domain.clock import SteerableClock, format_instant, parse_instant

START = datetime(2026, 1, 1, tzinfo=UTC)


class FakeWall:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def wall() -> FakeWall:
    return FakeWall()


def test_follows_the_wall_clock_until_steered(wall: FakeWall) -> None:
    clock = SteerableClock(wall)
    wall.now += timedelta(minutes=5)
    assert clock.now() == wall.now and not clock.frozen and clock.offset == timedelta(0)


def test_set_keeps_time_flowing_from_the_new_instant(wall: FakeWall) -> None:
    clock = SteerableClock(wall)
    clock.set(datetime(2030, 1, 1, tzinfo=UTC))
    wall.now += timedelta(seconds=10)
    assert clock.now() == datetime(2030, 1, 1, 0, 0, 10, tzinfo=UTC)


def test_freeze_advance_unfreeze(wall: FakeWall) -> None:
    clock = SteerableClock(wall)
    frozen_at = clock.freeze()
    wall.now += timedelta(hours=1)
    assert clock.now() == frozen_at == START
    assert clock.advance(90) == START + timedelta(seconds=90)
    assert clock.advance(timedelta(days=-1)) == START + timedelta(seconds=90, days=-1)
    clock.unfreeze()
    wall.now += timedelta(seconds=5)
    assert clock.now() == START + timedelta(seconds=95, days=-1)
    clock.follow_wall()
    assert clock.now() == wall.now


def test_set_can_freeze_and_naive_instants_are_refused(wall: FakeWall) -> None:
    clock = SteerableClock(wall)
    clock.set(datetime(2027, 5, 5, 12, tzinfo=UTC), frozen=True)
    wall.now += timedelta(days=3)
    assert clock.now() == datetime(2027, 5, 5, 12, tzinfo=UTC)
    with pytest.raises(ValueError):
        clock.set(datetime(2027, 5, 5))


@pytest.mark.parametrize("steer", [
    lambda c: None, lambda c: c.advance(123.456789), lambda c: c.set(START, frozen=True),
    lambda c: c.advance(-10 ** 7),
])
def test_export_and_import_are_exact(wall: FakeWall, steer) -> None:
    clock = SteerableClock(wall)
    steer(clock)
    twin = SteerableClock(wall)
    twin.import_state(clock.export_state())
    assert twin.export_state() == clock.export_state() and twin.now() == clock.now()


@pytest.mark.parametrize("state", [[], {"offset_microseconds": 1.5},
                                   {"offset_microseconds": True}, {"frozen_at": "soon"},
                                   {"offset_microseconds": 10 ** 20}])
def test_a_bad_snapshot_is_refused_and_changes_nothing(wall: FakeWall, state: object) -> None:
    clock = SteerableClock(wall)
    clock.advance(60)
    with pytest.raises(ValueError):
        clock.import_state(state)
    assert clock.offset == timedelta(seconds=60)


def test_instants_are_written_in_one_utc_form() -> None:
    moment = parse_instant("2027-02-01T10:00:00+01:00")
    assert format_instant(moment) == "2027-02-01T09:00:00.000000Z"
    assert parse_instant(format_instant(moment)) == moment
