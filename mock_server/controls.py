"""Wires the test-engineer controls around an app: admin API, journal, faults, CORS, state file.

Kept out of `app.py` so the request pipeline stays readable there; `create_app` calls
``install_controls`` once, last. The WSGI layers, outermost first:

    JournalMiddleware   records what the client saw (injected faults included), access log
    FaultMiddleware     fault rules and `Prefer` overrides, before anything else runs
    StateFile marking   marks the state dirty after a request that may change it (--state-file)
    DocumentedCurlUpload, Flask (routing, auth, validation, handlers, admin blueprint, CORS)
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, request

from mock_server.admin import admin_blueprint
from mock_server.cors import init_cors
from mock_server.faults import FaultMiddleware, FaultRules, SpecAnswers
from mock_server.journal import ADMIN_PREFIX, ENV_ROUTED, Journal, JournalMiddleware
from mock_server.matching import OperationMatcher
from mock_server.services import Services
from mock_server.settings import Settings
from mock_server.spec import Spec
from mock_server.state_file import StateFile

EXTENSION = "mock_server.controls"


@dataclass(frozen=True)
class Controls:
    """The controls of one app, for tests and the CLI: ``app.extensions[EXTENSION]``."""

    journal: Journal
    faults: FaultRules
    matcher: OperationMatcher
    state_file: StateFile | None


def install_controls(app: Flask, settings: Settings, spec: Spec, services: Services) -> Controls:
    matcher = OperationMatcher(spec.operations.values())
    journal = Journal(settings.journal_size, settings.journal_body_bytes, matcher)
    faults = FaultRules(SpecAnswers(spec))
    if settings.admin_enabled:
        app.register_blueprint(admin_blueprint(settings.admin_key, journal=journal,
                                               services=services, faults=faults))
    init_cors(app, settings.cors_origins)

    @app.before_request
    def tell_the_journal_a_route_matched() -> None:
        """The journal lists requests nothing served apart; the app's own routes did serve."""
        if request.url_rule is not None:
            request.environ[ENV_ROUTED] = True

    wsgi = app.wsgi_app
    state_file = None
    if settings.state_file:
        state_file = StateFile(settings.state_file, services,
                               debounce=settings.state_file_debounce)
        state_file.load()
        wsgi = state_file.middleware(wsgi)
        state_file.start()
    wsgi = FaultMiddleware(wsgi, faults, matcher=matcher, cors_origins=settings.cors_origins)
    wsgi = JournalMiddleware(wsgi, journal,
                             skip_prefix=None if settings.journal_admin else ADMIN_PREFIX)
    app.wsgi_app = wsgi  # type: ignore[method-assign]
    controls = Controls(journal, faults, matcher, state_file)
    app.extensions[EXTENSION] = controls
    return controls
