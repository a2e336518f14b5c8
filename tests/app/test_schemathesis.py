"""Schemathesis, with all its checks, over every operation of openapi.yaml against the app.

The spec's paths are relative to each API's root (`/v1/...` under `/activities`, `/v2/...`
under `/sportstrackingdata`); schemathesis takes one base URL, so the document it loads
carries the mock's mounts in its paths. Operations with business rules beyond the schema
(end after start, full event, content sniffing, ...) document 422 for schema-valid input, so
positive data may be answered 422 there and nowhere else.

Both request paths are run (the fast path and, with ``FAST_PATH`` off, Flask's views): one
schema, and one app, per path.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from mock_server.app import create_app
from mock_server.openapi.spec import load_spec
from mock_server.settings import DEFAULT_API_KEY

DOCUMENTED_SUBSCRIBER = "4c68165b-3869-4c22-8098-a4a429c97509"
RULE_BOUND_OPERATIONS = [
    "createEvent", "patchEvent", "cancelEvent", "addSubscriber", "updateSubscriber",
    "uploadFile", "updateActivity",
]
APP = create_app({"SEED": 42, "EVENTS": 300})
FLASK_APP = create_app({"SEED": 42, "EVENTS": 300, "FAST_PATH": False})
# The caller is the documents' subscriber (4c68165b-...): the spec's examples subscribe that
# user, so following addSubscriber's GetMySubscription link asks about the caller's own
# subscription, the case the link describes.
TOKEN = APP.extensions["mock_server.credentials"].tokens.issue(DOCUMENTED_SUBSCRIBER, "DKTCONNECT")
# Credentials through schemathesis' own auth config, so its `ignored_auth` check knows which
# credentials are the valid ones and can try invalid ones.
CONFIG = SchemathesisConfig.from_str(f"""
[auth.openapi.ApiKey]
api_key = "{DEFAULT_API_KEY}"

[auth.openapi.BearerAuth]
bearer = "{TOKEN}"

[[operations]]
include-operation-id = {RULE_BOUND_OPERATIONS!r}
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "404", "409", "422"]

# `me` is the caller's subscription, not a view of the event just created: schemathesis'
# resource-availability heuristic would read its documented 404 (not subscribed) as a lost event.
[[operations]]
include-operation-id = ["getMySubscription"]
checks.ensure_resource_availability.enabled = false
""".replace("'", '"'))


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
flask_schema = schemathesis.openapi.from_dict(mounted_document(), config=CONFIG)
flask_schema.app = FLASK_APP
# The same tokens work on both apps: same secret, same seeded users.
assert FLASK_APP.extensions["mock_server.credentials"].tokens.verify(f"Bearer {TOKEN}")


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_passes_every_schemathesis_check(case: schemathesis.Case) -> None:
    case.call_and_validate()


@pytest.mark.slow
@flask_schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
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
    case.settings = settings(
        max_examples=15, stateful_step_count=6, deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    return pytest.mark.slow(case)


TestAPIWorkflows = workflows(schema, APP)
TestAPIWorkflowsThroughFlask = workflows(flask_schema, FLASK_APP)
