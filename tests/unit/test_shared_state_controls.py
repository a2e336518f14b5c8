"""With several workers sharing state, controls that swap the whole store are refused."""

from __future__ import annotations

import pytest

from mock_server.domain.errors import RuleViolation
from mock_server.services import build_services
from mock_server.settings import Settings


def test_reseed_and_import_are_refused_when_state_is_shared(tmp_path) -> None:
    services = build_services(Settings(seed=1, events=10,
                                       shared_state=str(tmp_path / "state.sqlite")))
    exported = services.export_state()
    with pytest.raises(RuleViolation, match="--workers"):
        services.reseed(2, 10)
    with pytest.raises(RuleViolation, match="--workers"):
        services.import_state(exported)


def test_reseed_works_in_one_process() -> None:
    services = build_services(Settings(seed=1, events=10))
    services.reseed(2, 12)
    assert services.store.event_count() == 12
