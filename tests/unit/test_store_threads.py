"""Readers on other threads of one process never see half of a write (a threaded server
runs requests side by side in one process; ``state.replicated``)."""

from __future__ import annotations

import sys
import threading
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from mock_server.app import SERVICES, create_app
from mock_server.domain.activities.events import EventQuery
from mock_server.domain.activities.models import CANCELED, PUBLISHED


def test_the_public_list_never_shows_an_event_being_cancelled_on_another_thread() -> None:
    services: Any = create_app({"SEED": 42, "EVENTS": 300}).extensions[SERVICES]
    store = services.store
    now = datetime.now(UTC)
    world = EventQuery(latitude=0.0, longitude=0.0, distance=20_000)
    targets = [e for e in store.public_events(world, now)[1] if e.status == PUBLISHED]
    assert len(targets) > 100
    seen: list[str] = []
    done = threading.Event()

    def cancel_them() -> None:
        for event in targets:
            store.replace_event(replace(event, status=CANCELED))
        done.set()

    def list_them() -> None:
        while not done.is_set():
            seen.extend(e.status for e in store.public_events(world, now)[1]
                        if e.status != PUBLISHED)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # hand the GIL over as often as possible
    try:
        readers = [threading.Thread(target=list_them) for _ in range(2)]
        for reader in readers:
            reader.start()
        cancel_them()
        for reader in readers:
            reader.join()
    finally:
        sys.setswitchinterval(interval)
        services.close()
    assert seen == []  # every list showed each event wholly before or wholly after its cancel
