"""The mock's stateful parts, built once per app from its settings, and their whole-state
lifecycle (reset, reseed, export, import) that the admin API and the state file drive.

Handlers read ``services.store`` (and the others) afresh on every request, so a reseed or an
import swaps whole parts in place under ``Services.lock``: a request already running finishes
on the state it started with, the next one sees the new state. Admin operations serialise on
the lock; API requests never take it.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mock_server.domain.clock import Clock, SteerableClock
from mock_server.domain.errors import RuleViolation
from mock_server.domain.ports import Store
from mock_server.domain.tracking.activities import TrackingActivities
from mock_server.domain.tracking.blobs import BlobStore, InMemoryBlobStore
from mock_server.seed import build_fixtures, fixture_activities
from mock_server.settings import Settings
from mock_server.state.memory import InMemoryStore

#: Version tag of whole-mock state documents (``Services.export_state``).
MOCK_STATE_FORMAT = "mock-server-state/1"
#: The most fixture events a reseed may ask for (what ``mock-server serve --events`` allows).
MAX_FIXTURE_EVENTS = 1_000_000


@dataclass
class Services:
    settings: Settings
    clock: Clock
    store: Store
    blobs: BlobStore
    activities: TrackingActivities
    #: The fixtures ``reset`` returns to: the settings' seed and size until a reseed.
    fixture_seed: int = 42
    fixture_events: int = 300
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)

    def reset(self) -> None:
        """Back to the seeded fixtures: events, subscriptions, users, uploads, activities."""
        with self.lock:
            self.store.reset()
            self.blobs.reset()
            self.activities.reset()

    def _refuse_when_shared(self, action: str) -> None:
        """Several workers share one state through SQLite; swapping in a new store in one of
        them would leave the others on the old one, so these controls need a restart instead."""
        if self.settings.shared_state:
            raise RuleViolation(
                f"{action} is not available with --workers > 1: restart the mock with the "
                "--seed/--events (or --state-file) you want.", {"workers": [
                    "state is shared between worker processes"]})

    def reseed(self, seed: int, events: int) -> None:
        """Replace the data with the fixtures of another seed or size (the new reset target).

        Uploads are forgotten, as on a reset. Raises ``RuleViolation`` for a bad size.
        """
        self._refuse_when_shared("reseed")
        _check_fixture_size(seed, events)
        store, activities = _seeded_parts(seed, events, self.clock)
        with self.lock:
            self._swap(store, activities, seed, events)
            self.blobs.reset()

    def export_state(self) -> dict[str, Any]:
        """The whole mutable state as JSON-ready data; ``import_state`` restores it exactly.

        The fixtures' seed and size travel with it, so that after an import (or a restart on a
        state file) ``reset`` still returns to the fixtures the state was built on.
        """
        with self.lock:
            document: dict[str, Any] = {
                "format": MOCK_STATE_FORMAT,
                "fixtures": {"seed": self.fixture_seed, "events": self.fixture_events},
                "store": self.store.export_state(),
                "blobs": self.blobs.export_state(),
                "activities": self.activities.export_state(),
            }
            if isinstance(self.clock, SteerableClock):
                document["clock"] = self.clock.export_state()
            return document

    def import_state(self, document: Any) -> None:
        """Replace the whole state with an ``export_state`` document, all or nothing.

        Every part is checked on a scratch copy before anything changes, so a bad document
        raises ``RuleViolation`` (422, ``errors`` naming the part) and leaves the mock as it was.
        """
        self._refuse_when_shared("import")
        if not isinstance(document, Mapping):
            raise RuleViolation("The state document is invalid.",
                                {"state": ["expected a JSON object"]})
        if document.get("format") != MOCK_STATE_FORMAT:
            raise RuleViolation("The state document is invalid.",
                                {"format": [f"expected {MOCK_STATE_FORMAT!r}"]})
        problems: dict[str, list[str]] = {}
        for part in ("fixtures", "store", "blobs", "activities"):
            if not isinstance(document.get(part), Mapping):
                problems[part] = [f"{part} must be an object"]
        if problems:
            raise RuleViolation("The state document is invalid.", problems)
        seed = document["fixtures"].get("seed")
        events = document["fixtures"].get("events")
        checks: list[tuple[str, Any]] = [
            ("blobs", lambda: InMemoryBlobStore(self.blobs.max_total_bytes).import_state(
                dict(document["blobs"]))),
            ("activities", lambda: TrackingActivities().import_state(
                dict(document["activities"]))),
        ]
        clock_state = document.get("clock")
        if clock_state is not None:
            checks.append(("clock", lambda: SteerableClock().import_state(dict(clock_state))))
        for part, check in checks:
            try:
                check()
            except (ValueError, TypeError) as exc:
                problems.setdefault(part, []).append(str(exc))
        if problems:
            raise RuleViolation("The state document is invalid.", problems)
        with self.lock:
            fresh = None
            if (seed, events) != (self.fixture_seed, self.fixture_events):
                _check_fixture_size(seed, events)
                fresh = _seeded_parts(seed, events, self.clock)
            store = fresh[0] if fresh else self.store
            store.import_state(document["store"])  # all or nothing, RuleViolation
            if fresh:
                self._swap(*fresh, seed, events)
            self.blobs.import_state(dict(document["blobs"]))
            self.activities.import_state(dict(document["activities"]))
            if clock_state is not None and isinstance(self.clock, SteerableClock):
                self.clock.import_state(dict(clock_state))

    def _swap(self, store: Store, activities: TrackingActivities, seed: int,
              events: int) -> None:
        self.store = store
        self.activities = activities
        self.fixture_seed, self.fixture_events = seed, events


def _check_fixture_size(seed: Any, events: Any) -> None:
    problems: dict[str, list[str]] = {}
    if isinstance(seed, bool) or not isinstance(seed, int):
        problems["seed"] = ["seed must be an integer."]
    if isinstance(events, bool) or not isinstance(events, int) or not (
        0 <= events <= MAX_FIXTURE_EVENTS
    ):
        problems["events"] = [f"events must be an integer in 0..{MAX_FIXTURE_EVENTS}."]
    if problems:
        raise RuleViolation(errors=problems)


def _seeded_parts(seed: int, events: int, clock: Clock) -> tuple[Store, TrackingActivities]:
    fixtures = build_fixtures(seed=seed, events=events)
    activities = TrackingActivities(fixture_activities(fixtures), clock=clock)
    return InMemoryStore(fixtures), activities


def build_services(settings: Settings) -> Services:
    """``settings.extra["clock"]`` (tests) replaces the default steerable wall clock."""
    clock: Clock = settings.extra.get("clock") or SteerableClock()
    store, activities = _seeded_parts(settings.seed, settings.events, clock)
    blobs: Any = InMemoryBlobStore(settings.upload_storage_bytes)
    if settings.shared_state:  # several worker processes: see store_sqlite.py
        from mock_server.state.memory import InMemoryStore as _Local
        from mock_server.state.sqlite import share

        assert isinstance(store, _Local)
        store, activities, blobs = share(store, activities, settings.shared_state,
                                         settings.upload_storage_bytes)
    return Services(
        settings=settings,
        clock=clock,
        store=store,
        blobs=blobs,
        activities=activities,
        fixture_seed=settings.seed,
        fixture_events=settings.events,
    )
