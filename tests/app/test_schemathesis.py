"""Schemathesis, with all its checks, over every operation of openapi.yaml against the app.

The rules schemathesis cannot read in the spec (the development credentials, where a valid
request may meet a documented 422, links instead of inferred ones) come from the repository's
`schemathesis.toml`, loaded with schemathesis' own loader: the same file a plain
`schemathesis run` finds by itself, so this test keeps no list of its own. Its credentials are
the documents' subscriber's, signed with the mock's development secret, which this app uses.

The spec's paths are relative to each API's root (`/v1/...` under `/activities`, `/v2/...`
under `/sportstrackingdata`); schemathesis' WSGI transport takes one root, so the document it
loads carries the mock's mounts in its paths. Example counts come from the hypothesis profile
(tests/conftest.py).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from mock_server.app import create_app
from mock_server.openapi.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]
APP = create_app({"SEED": 42, "EVENTS": 300})
SERVICES = APP.extensions["mock_server"]
CONFIG = SchemathesisConfig.from_path(ROOT / "schemathesis.toml")


def mounted_document() -> dict[str, Any]:
    document = copy.deepcopy(load_spec().document)
    spec = load_spec()
    mounts = {op.path: op.mount for op in spec.operations.values()}
    document["paths"] = {
        mounts[path] + path: {k: v for k, v in item.items() if k != "servers"}
        for path, item in document["paths"].items()
    }
    document["servers"] = [{"url": "http://localhost"}]
    return document


schema = schemathesis.openapi.from_dict(mounted_document(), config=CONFIG)
schema.app = APP


@pytest.mark.slow
@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_passes_every_schemathesis_check(case: schemathesis.Case) -> None:
    case.call_and_validate()


class APIWorkflows(schema.as_state_machine()):  # type: ignore[misc]
    """Sequences that follow the spec's links: create -> get/patch/cancel/duplicate, ...

    Each run starts from the seeded fixtures: hypothesis replays a failing sequence to shrink
    it, and a replay must meet the state the first run met.
    """

    def setup(self) -> None:
        SERVICES.reset()


TestAPIWorkflows = APIWorkflows.TestCase
TestAPIWorkflows.settings = settings(
    stateful_step_count=6, deadline=None, suppress_health_check=list(HealthCheck),
)
TestAPIWorkflows = pytest.mark.slow(TestAPIWorkflows)
