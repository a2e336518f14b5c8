"""Schemathesis, with all its checks, over every operation of openapi.yaml against the app.

The rules schemathesis cannot read in the spec (the development credentials, where a valid
request may meet a documented 422, links instead of inferred ones) come from the repository's
`schemathesis.toml`, loaded with schemathesis' own loader: the same file a plain
`schemathesis run` finds by itself, so this test keeps no list of its own. Its credentials are
the documents' subscriber's, signed with the mock's development secret, which these apps use.

The document is the spec at one base URL, the spec's paths as written (`/v1/...`, `/v2/...`),
which the mock serves at its root: schemathesis' WSGI transport takes one root for every
operation. Both request paths are run (the fast path and, with ``FAST_PATH`` off, Flask's
views): one schema, and one app, per path. Example counts come from the hypothesis profile
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
FLASK_APP = create_app({"SEED": 42, "EVENTS": 300, "FAST_PATH": False})
CONFIG = SchemathesisConfig.from_path(ROOT / "schemathesis.toml")
SETTINGS = settings(deadline=None, suppress_health_check=list(HealthCheck))


def root_document() -> dict[str, Any]:
    """The spec with one server, the app's root, in place of each path item's own."""
    document = copy.deepcopy(load_spec().document)
    for item in document["paths"].values():
        item.pop("servers", None)
    document["servers"] = [{"url": "http://localhost"}]
    return document


def schema_for(app: Any) -> schemathesis.BaseSchema:
    loaded = schemathesis.openapi.from_dict(root_document(), config=CONFIG)
    loaded.app = app
    return loaded


schema = schema_for(APP)
flask_schema = schema_for(FLASK_APP)


@pytest.mark.slow
@schema.parametrize()
@SETTINGS
def test_every_operation_passes_every_schemathesis_check(case: schemathesis.Case) -> None:
    case.call_and_validate()


@pytest.mark.slow
@flask_schema.parametrize()
@SETTINGS
def test_every_operation_passes_every_schemathesis_check_through_flask(
        case: schemathesis.Case) -> None:
    case.call_and_validate()


def workflows(on: schemathesis.BaseSchema, app: Any) -> type:
    services = app.extensions["mock_server"]

    class APIWorkflows(on.as_state_machine()):  # type: ignore[misc]
        """Sequences that follow the spec's links: create -> get/patch/cancel/duplicate, ...

        Each run starts from the seeded fixtures: hypothesis replays a failing sequence to
        shrink it, and a replay must meet the state the first run met.
        """

        def setup(self) -> None:
            services.reset()

    case = APIWorkflows.TestCase
    case.settings = settings(SETTINGS, stateful_step_count=6)
    return pytest.mark.slow(case)


TestAPIWorkflows = workflows(schema, APP)
TestAPIWorkflowsThroughFlask = workflows(flask_schema, FLASK_APP)
