"""Wires the test-engineer controls around an app: admin API, journal, faults, CORS.

Kept out of `app.py` so the request pipeline stays readable there; `create_app` calls
``install_controls`` once, last. The WSGI layers, outermost first:

    JournalMiddleware   records what the client saw (injected faults included), access log
    JournalMiddleware   records what the client saw (injected faults included), access log
    CorsMiddleware      CORS headers on every answer but the admin API's; preflights
    FreshState          the state caught up with every committed change (503 if it cannot be)
    FaultMiddleware     fault rules and `Prefer` overrides, before anything else runs
    DocumentedCurlUpload, the API fast path, Flask (routing, auth, validation, handlers, admin)
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, request

from mock_server.api.auth import Credentials
from mock_server.api.freshness import HEALTH_PATH, FreshState
from mock_server.controls.admin.blueprint import admin_blueprint
from mock_server.controls.admin.fault_routes import add_fault_routes
from mock_server.controls.admin.journal_routes import add_journal_routes
from mock_server.controls.admin.state_routes import (
    add_clock_routes,
    add_state_routes,
    add_token_routes,
)
from mock_server.controls.cors import CorsMiddleware
from mock_server.controls.faults import FaultMiddleware, FaultRules, SpecAnswers
from mock_server.controls.journal import ADMIN_PREFIX, ENV_ROUTED, Journal, JournalMiddleware
from mock_server.openapi.matching import OperationMatcher
from mock_server.openapi.spec import Spec
from mock_server.services import Services
from mock_server.settings import Settings
from mock_server.state.engines import open_journal

EXTENSION = "mock_server.controls"


@dataclass(frozen=True)
class Controls:
    """The controls of one app, for tests and the CLI: ``app.extensions[EXTENSION]``."""

    journal: Journal
    faults: FaultRules
    matcher: OperationMatcher


def install_controls(app: Flask, settings: Settings, spec: Spec, services: Services,
                     credentials: Credentials, *,
                     matcher: OperationMatcher | None = None) -> Controls:
    """``matcher``: the app's own, so that the journal's match is the one the fast path uses."""
    matcher = matcher or OperationMatcher(spec.operations.values())
    journal = Journal(open_journal(services.engine, settings.journal_size),
                      settings.journal_body_bytes, matcher)
    faults = FaultRules(SpecAnswers(spec), services.replica, services.engine)
    if settings.admin_enabled:
        admin = admin_blueprint(settings.admin_key)
        add_journal_routes(admin, journal)
        add_fault_routes(admin, faults)
        add_state_routes(admin, services, journal, faults)
        add_token_routes(admin, services, credentials.tokens)
        add_clock_routes(admin, services)
        app.register_blueprint(admin)

    @app.before_request
    def tell_the_journal_a_route_matched() -> None:
        """The journal lists requests nothing served apart; the app's own routes did serve."""
        if request.url_rule is not None:
            request.environ[ENV_ROUTED] = True

    wsgi = FaultMiddleware(app.wsgi_app, faults, matcher=matcher)
    wsgi = FreshState(wsgi, services)  # the state caught up before faults and handlers
    if settings.cors_origins:  # outside FreshState: its 503 is readable by a browser too
        wsgi = CorsMiddleware(wsgi, settings.cors_origins, skip_prefix=ADMIN_PREFIX)
    skipped = (HEALTH_PATH,) if settings.journal_admin else (ADMIN_PREFIX, HEALTH_PATH)
    wsgi = JournalMiddleware(wsgi, journal, skip_prefix=skipped)
    app.wsgi_app = wsgi  # type: ignore[method-assign]
    controls = Controls(journal, faults, matcher)
    app.extensions[EXTENSION] = controls
    return controls
