"""Schemathesis, with all its checks, over every operation of openapi.yaml against the app.

The schema comes from the contract kit's own loader (`contracts.shape_schema.build_schema`),
so what a request valid per the spec may be answered, and the reason for each status, is
written in one place for the kit and for this test. The app is served on a loopback port
(`Target.from_wsgi`): each path item of the spec names its own API root, which schemathesis
honours over HTTP (its WSGI transport takes one root for every operation).

Both request paths are run: the fast path, and Flask's views (``FAST_PATH`` off), one app and
one schema each.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings

from contracts import Spec, Target
from contracts.shape_schema import build_schema
from mock_server.app import CREDENTIALS, SERVICES, create_app
from mock_server.settings import DEFAULT_API_KEY

DOCUMENTED_SUBSCRIBER = "4c68165b-3869-4c22-8098-a4a429c97509"
APP = create_app({"SEED": 42, "EVENTS": 300})
FLASK_APP = create_app({"SEED": 42, "EVENTS": 300, "FAST_PATH": False})
# The caller is the documents' subscriber (4c68165b-...): the spec's examples subscribe that
# user, so following addSubscriber's GetMySubscription link asks about the caller's own
# subscription, the case the link describes. Same secret, same seeded users: one token for both.
TOKEN = APP.extensions[CREDENTIALS].tokens.issue(DOCUMENTED_SUBSCRIBER, "DKTCONNECT")
# Example counts come from the hypothesis profile (tests/conftest.py), not from here.
SETTINGS = settings(deadline=None, suppress_health_check=list(HealthCheck))

# The schema needs the app's URL when the tests are collected, so each server starts with the
# module (schemathesis' `from_fixture` loader fails on pytest 9: `Function._nodeid`) and the
# fixture below stops it after the module's tests. Credentials go through schemathesis' own
# auth config, so its `ignored_auth` check knows the valid ones and can try invalid ones.
TARGETS = {"fast path": Target.from_wsgi(APP), "flask": Target.from_wsgi(FLASK_APP)}
CREDENTIALS_ = {"api_key": DEFAULT_API_KEY, "bearer": TOKEN}
schema = build_schema(Spec.load(), TARGETS["fast path"].urls, credentials=CREDENTIALS_)
flask_schema = build_schema(Spec.load(), TARGETS["flask"].urls, credentials=CREDENTIALS_)


@pytest.fixture(scope="module", autouse=True)
def served_apps() -> Iterator[None]:
    yield
    for target in TARGETS.values():
        target.close()


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


@pytest.mark.slow
@pytest.mark.parametrize(("on", "app"), [(schema, APP), (flask_schema, FLASK_APP)],
                         ids=["fast path", "flask"])
def test_sequences_following_the_links_pass_every_check(on: schemathesis.BaseSchema,
                                                         app: Flask) -> None:
    """Sequences that follow the spec's links: create -> get/patch/cancel/duplicate, ...

    Each run starts from the seeded fixtures: hypothesis replays a failing sequence to shrink
    it, and a replay must meet the state the first run met.
    """
    services = app.extensions[SERVICES]

    class APIWorkflows(on.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            services.reset()

    APIWorkflows.run(settings=settings(SETTINGS, stateful_step_count=6))
