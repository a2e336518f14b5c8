"""Wires the test-engineer controls around an app: admin API, journal, faults, CORS.

Kept out of `app.py` so the request pipeline stays readable there; `create_app` calls
``install_controls`` once, last. The WSGI layers, outermost first:

    JournalMiddleware   records what the client saw (injected faults included), access log
    FreshState          the state caught up with every committed change (503 if it cannot be)
    FaultMiddleware     fault rules and `Prefer` overrides, before anything else runs
    DocumentedCurlUpload, Flask (routing, auth, validation, handlers, admin blueprint, CORS)
"""

from __future__ import annotations

from collections.abc import Sequence
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
from mock_server.controls.cors import ALLOWED_HEADERS, CORS_PATHS, EXPOSED_HEADERS
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


def init_cors(app: Flask, origins: Sequence[str]) -> None:
    """Answer CORS (preflights included) for ``origins`` (``"*"``: any) on the API paths."""
    if not origins:
        return
    from flask_cors import CORS

    allowed: str | list[str] = "*" if "*" in origins else list(origins)
    CORS(app, resources={path: {} for path in CORS_PATHS}, origins=allowed,
         allow_headers=list(ALLOWED_HEADERS), expose_headers=list(EXPOSED_HEADERS),
         max_age=600)


def install_controls(app: Flask, settings: Settings, spec: Spec, services: Services,
                     credentials: Credentials) -> Controls:
    matcher = OperationMatcher(spec.operations.values())
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
    init_cors(app, settings.cors_origins)

    @app.before_request
    def tell_the_journal_a_route_matched() -> None:
        """The journal lists requests nothing served apart; the app's own routes did serve."""
        if request.url_rule is not None:
            request.environ[ENV_ROUTED] = True

    wsgi = FaultMiddleware(app.wsgi_app, faults, matcher=matcher,
                           cors_origins=settings.cors_origins)
    wsgi = FreshState(wsgi, services)  # the state caught up before faults and handlers
    skipped = (HEALTH_PATH,) if settings.journal_admin else (ADMIN_PREFIX, HEALTH_PATH)
    wsgi = JournalMiddleware(wsgi, journal, skip_prefix=skipped)
    app.wsgi_app = wsgi  # type: ignore[method-assign]
    controls = Controls(journal, faults, matcher)
    app.extensions[EXTENSION] = controls
    return controls
