"""The mock's state and its lifecycle, built once per app from its settings.

What a client or a test engineer can change lives in one replicated state (``state.replica``):
events, subscriptions and users, tracking activities, uploads, the clock, and the fixtures'
seed and size. ``reset``, ``reseed`` and ``import_state`` are *base changes* in the log: they
reach every worker and replica before the call answers (each applies them at its next
request), and the log keeps nothing older than the latest one.

The parts here are the ports the handlers use (``store``, ``activities``, ``blobs``) and the
clock; the controls (fault rules, journal) register their own changes on ``replica``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mock_server.domain.clock import Clock, SteerableClock
from mock_server.domain.errors import RuleViolation
from mock_server.domain.ports import BlobStore
from mock_server.domain.tracking.activities import (
    TrackingActivities,
    activities_from_snapshot,
)
from mock_server.domain.tracking.blobs import blobs_from_snapshot
from mock_server.seed import build_fixtures, fixture_activities
from mock_server.settings import Settings
from mock_server.state.engine import Engine, WriteTxn
from mock_server.state.engines import open_engine
from mock_server.state.memory import InMemoryStore, StateDocument
from mock_server.state.memory_tracking import InMemoryActivityStore
from mock_server.state.replica import Change, Replica
from mock_server.state.replicated import EngineBlobStore, ReplicatedActivities, ReplicatedStore

#: Version tag of whole-mock state documents (``Services.export_state``).
MOCK_STATE_FORMAT = "mock-server-state/1"
#: The most fixture events a reseed may ask for (what ``mock-server serve --events`` allows).
MAX_FIXTURE_EVENTS = 1_000_000


@dataclass
class Services:
    settings: Settings
    engine: Engine
    replica: Replica
    clock: Clock
    store: ReplicatedStore
    activities: TrackingActivities
    activity_store: ReplicatedActivities
    blobs: BlobStore
    #: The fixtures ``reset`` returns to: the log's latest base change says which.
    fixture_seed: int = 42
    fixture_events: int = 300
    #: Runs when the engine is closed (a temporary database removes itself).
    on_close: Callable[[], None] = field(default=lambda: None, repr=False)

    # -- freshness -----------------------------------------------------------------------------

    def sync(self) -> None:
        """Apply what any process committed; at the start of every request."""
        self.replica.sync()

    async def sync_async(self) -> None:
        """``sync`` without blocking the event loop on the engine (the server's shared
        catch-up, ``api.freshness.SharedCatchUp``)."""
        await self.replica.sync_async()

    # -- whole-state lifecycle (base changes) ----------------------------------------------

    def reset(self) -> None:
        """Back to the seeded fixtures: events, subscriptions, users, uploads, activities."""
        self.reseed(self.fixture_seed, self.fixture_events)

    def reseed(self, seed: int, events: int) -> None:
        """Replace the data with the fixtures of another seed or size (the new reset target).

        Uploads are forgotten, as on a reset. Raises ``RuleViolation`` for a bad size.
        """
        _check_fixture_size(seed, events)
        self.replica.commit([Change("reset", {"seed": seed, "events": events})],
                            before_commit=_forget_uploads)

    def export_state(self) -> dict[str, Any]:
        """The whole mutable state as JSON-ready data; ``import_state`` restores it exactly.

        The fixtures' seed and size travel with it, so that after an import (or a restart on a
        persistent state) ``reset`` still returns to the fixtures the state was built on.
        """
        with self.replica.lock:
            document: dict[str, Any] = {
                "format": MOCK_STATE_FORMAT,
                "fixtures": {"seed": self.fixture_seed, "events": self.fixture_events},
                "store": self.store.export_state(),
                "blobs": self.blobs.export_state(),
                "activities": self.activity_store.export_state(),
            }
            if isinstance(self.clock, SteerableClock):
                document["clock"] = self.clock.export_state()
            return document

    def import_state(self, document: Any) -> None:
        """Replace the whole state with an ``export_state`` document, all or nothing.

        Every part is checked before anything changes, so a bad document raises
        ``RuleViolation`` (422, ``errors`` naming the part) and leaves the mock as it was.
        """
        checked = _check_document(document, self.blobs.max_total_bytes)
        body = {key: value for key, value in document.items() if key != "blobs"}

        def load_blobs(txn: WriteTxn) -> None:
            txn.blobs_replace(checked.blobs)

        self.replica.commit([Change("import", body)], before_commit=load_blobs,
                            apply_local=lambda: self._load(checked))

    def steer_clock(self, steer: Callable[[SteerableClock], Any]) -> SteerableClock:
        """Set, freeze, advance or release the one clock of the fleet; returns the clock.

        The step runs on a copy under the write lock, and the resulting setting is the change,
        so every process applies the same offset (or frozen instant).
        """
        if not isinstance(self.clock, SteerableClock):
            raise TypeError(f"{type(self.clock).__name__} cannot be steered")
        with self.replica.writing():
            scratch = self.clock.copy()
            steer(scratch)
            self.replica.commit([Change("clock", scratch.export_state())])
        return self.clock

    # -- applying base changes (here, or replayed from another process's commit) -----------

    def _apply_reset(self, body: Mapping[str, Any]) -> None:
        seed, events = body["seed"], body["events"]
        if (seed, events) == (self.fixture_seed, self.fixture_events):
            self.store.local.reset()
            self.activity_store.local.reset()
        else:
            self._rebuild_fixtures(seed, events)

    def _apply_import(self, body: Mapping[str, Any]) -> None:
        self._load(_check_document(body, None))

    def _load(self, checked: _CheckedDocument) -> None:
        if checked.fixtures != (self.fixture_seed, self.fixture_events):
            self._rebuild_fixtures(*checked.fixtures)
        self.store.local.install(checked.store)  # reset still returns to the fixtures
        self.activity_store.local.import_state(checked.activities)
        if checked.clock is not None and isinstance(self.clock, SteerableClock):
            self.clock.import_state(checked.clock)

    def _rebuild_fixtures(self, seed: int, events: int) -> None:
        store, activities = seeded_parts(seed, events)
        self.store.local = store
        self.activity_store.local = activities
        self.fixture_seed, self.fixture_events = seed, events

    def before_fork(self) -> None:
        """No thread running and no connection open: forked workers start their own."""
        self.replica.stop_following()
        if self.replica.group is not None:
            self.replica.group.close()
        self.engine.before_fork()

    def close(self) -> None:
        self.replica.stop_following()  # no follower left to use the engine being closed
        if self.replica.group is not None:
            self.replica.group.close()
        self.engine.close()
        self.on_close()


def _forget_uploads(txn: WriteTxn) -> None:
    txn.blobs_replace([])


@dataclass(frozen=True)
class _CheckedDocument:
    fixtures: tuple[int, int]
    store: StateDocument
    activities: dict[str, Any]
    blobs: list[tuple[str, str, bytes]]
    clock: dict[str, Any] | None


def _check_document(document: Any, blob_cap: int | None) -> _CheckedDocument:
    """Every part of a state document, checked (``blob_cap``: None when the blobs are not in
    it, as in the logged import, whose blobs went to the engine)."""
    if not isinstance(document, Mapping):
        raise RuleViolation("The state document is invalid.",
                            {"state": ["expected a JSON object"]})
    if document.get("format") != MOCK_STATE_FORMAT:
        raise RuleViolation("The state document is invalid.",
                            {"format": [f"expected {MOCK_STATE_FORMAT!r}"]})
    parts = ("fixtures", "store", "activities") + (("blobs",) if blob_cap is not None else ())
    problems = {part: [f"{part} must be an object"] for part in parts
                if not isinstance(document.get(part), Mapping)}
    if problems:
        raise RuleViolation("The state document is invalid.", problems)
    seed = document["fixtures"].get("seed")
    events = document["fixtures"].get("events")
    _check_fixture_size(seed, events)
    blobs: list[tuple[str, str, bytes]] = []
    clock_state = document.get("clock")
    checks: list[tuple[str, Callable[[], Any]]] = [
        ("activities", lambda: activities_from_snapshot(dict(document["activities"]))),
    ]
    if blob_cap is not None:
        checks.append(("blobs", lambda: blobs.extend(
            blobs_from_snapshot(dict(document["blobs"]), blob_cap))))
    if clock_state is not None:
        checks.append(("clock", lambda: SteerableClock().import_state(dict(clock_state))))
    for part, check in checks:
        try:
            check()
        except (ValueError, TypeError) as exc:
            problems.setdefault(part, []).append(str(exc))
    if problems:
        raise RuleViolation("The state document is invalid.", problems)
    store = InMemoryStore.read_state(document["store"])  # all or nothing, RuleViolation
    return _CheckedDocument((seed, events), store, dict(document["activities"]), blobs,
                            None if clock_state is None else dict(clock_state))


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


def seeded_parts(seed: int, events: int) -> tuple[InMemoryStore, InMemoryActivityStore]:
    """The in-memory state of the fixtures of ``seed`` with ``events`` events."""
    fixtures = build_fixtures(seed=seed, events=events)
    return InMemoryStore(fixtures), InMemoryActivityStore(fixture_activities(fixtures))


def build_services(settings: Settings) -> Services:
    """The engine the settings name, and this process's copy of its state, caught up.

    ``settings.extra["clock"]`` (tests) replaces the default steerable wall clock.
    """
    engine, on_close = open_engine(settings)
    replica = Replica(engine)
    clock: Clock = settings.extra.get("clock") or SteerableClock()
    activity_store = ReplicatedActivities(InMemoryActivityStore(), replica)
    services = Services(
        settings=settings,
        engine=engine,
        replica=replica,
        clock=clock,
        store=ReplicatedStore(InMemoryStore(), replica),
        activities=TrackingActivities(activity_store, clock),
        activity_store=activity_store,
        blobs=EngineBlobStore(engine, replica, settings.upload_storage_bytes),
        fixture_seed=-1,  # none yet: the log's base change builds them
        fixture_events=-1,
        on_close=on_close,
    )
    appliers: dict[str, Callable[[Any], None]] = {
        "reset": services._apply_reset,
        "import": services._apply_import,
    }
    if isinstance(clock, SteerableClock):
        appliers["clock"] = clock.import_state
    replica.register(appliers)
    replica.ensure_base(Change("reset", {"seed": settings.seed, "events": settings.events}))
    replica.sync()
    return services
