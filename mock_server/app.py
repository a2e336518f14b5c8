"""`create_app(config)`: the composition root, the one module that knows every package.

It builds the parts from the settings and wires them, outermost last:

    openapi   the spec, its compiled validators        (mock_server.openapi)
    services  the state engine and its lifecycle      (mock_server.services, .state, .seed)
    api       one pipeline per operation, served by the WSGI fast path and by Flask's views
    web       uploaded files, thumbnails, the Swagger UI, the documents' upload fix
    controls  admin API, journal, faults, CORS, state file, wrapped around the whole app

Routing: the journal (outermost) matches each request to its operation once
(``openapi.matching.operation_of``); API operations are then answered by
`api.fastpath.ApiDispatcher`, a WSGI layer in front of Flask (Flask's request context, URL
adapter and response object cost about a third of a request's time). Flask serves everything
else with its own URL rules, generated from the spec too: the Swagger UI, files, the admin API
and every 404 and 405; with ``Settings.fast_path`` off, the API operations too, through views
that call the very same responder (``api.pipeline.make_responder``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from mock_server.api.auth import ApiKeys, Credentials, Tokens
from mock_server.api.fastpath import ApiDispatcher
from mock_server.api.flask_adapter import add_operation_routes, register_error_handlers
from mock_server.api.handlers import HANDLERS
from mock_server.api.pipeline import make_pipeline, make_responder
from mock_server.api.requests import BodyLimits, Pipeline
from mock_server.controls.admin.state_routes import STATE_IMPORT_LIMIT
from mock_server.controls.install import install_controls
from mock_server.controls.journal import ADMIN_PREFIX
from mock_server.openapi.matching import OperationMatcher
from mock_server.openapi.spec import load_spec
from mock_server.openapi.validation import compile_validators
from mock_server.services import Services, build_services
from mock_server.settings import Settings
from mock_server.web.files import files_blueprint
from mock_server.web.swagger import swagger_blueprint
from mock_server.web.upload_compat import DocumentedCurlUpload

# JSON bodies of this API are small; uploads are capped at 3 MiB plus multipart overhead.
MAX_CONTENT_LENGTH = 4 * 1024 * 1024
SERVICES = "mock_server"
CREDENTIALS = "mock_server.credentials"
SETTINGS = "mock_server.settings"
SPEC = "mock_server.spec"


def body_limit(method: str, path: str) -> int:
    """The most a request body may hold, for the server to stop reading past it (413)."""
    return STATE_IMPORT_LIMIT if path == f"{ADMIN_PREFIX}/state" else MAX_CONTENT_LENGTH


def build_credentials(settings: Settings, services: Services) -> Credentials:
    return Credentials(
        api_keys=ApiKeys(settings.api_keys),
        tokens=Tokens(settings.token_secret, services.clock,
                      verify_signature=settings.verify_token_signature),
        register_unknown_users=not settings.verify_token_signature,
    )


def create_app(config: Mapping[str, Any] | Settings | None = None) -> Flask:
    """A fresh app with a fresh store: every test can have its own."""
    settings = config if isinstance(config, Settings) else Settings.from_mapping(config)
    spec = load_spec(settings.spec_path)
    validators = compile_validators(spec)
    services = build_services(settings)
    credentials = build_credentials(settings, services)

    app = Flask("mock_server")
    app.config["MAX_CONTENT_LENGTH"] = MAX_CONTENT_LENGTH
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions[SERVICES] = services
    app.extensions[CREDENTIALS] = credentials
    app.extensions[SETTINGS] = settings
    app.extensions[SPEC] = spec

    missing = set(spec.operations) - set(HANDLERS)
    if missing:
        raise RuntimeError(f"operations without a handler: {sorted(missing)}")
    pipelines: dict[str, Pipeline] = {
        op_id: make_pipeline(operation, validators[op_id], HANDLERS[op_id], services,
                             credentials, validate_responses=settings.validate_responses)
        for op_id, operation in spec.operations.items()
    }
    respond = make_responder(pipelines, BodyLimits(max_content_length=MAX_CONTENT_LENGTH))
    add_operation_routes(app, spec, respond)
    app.register_blueprint(files_blueprint(services))
    app.register_blueprint(swagger_blueprint(spec.document, api_key_hint=settings.api_keys[0]))
    matcher = OperationMatcher(spec.operations.values())  # one per app: the journal's is this
    register_error_handlers(app, spec, matcher)
    if settings.fast_path:
        app.wsgi_app = ApiDispatcher(app.wsgi_app, matcher, respond)  # type: ignore[method-assign]
    app.wsgi_app = DocumentedCurlUpload(app.wsgi_app)  # type: ignore[method-assign]
    install_controls(app, settings, spec, services, credentials, matcher=matcher)
    return app
