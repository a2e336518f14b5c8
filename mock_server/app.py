"""`create_app(config)`: the one place that wires spec, validation, routing, auth and handlers.

The request pipeline of an API operation, in this order (as connexion documents its own):
route -> API key -> bearer token -> request validation (compiled from the spec) -> handler
(domain and store) -> response validation (optional, on by default) -> JSON. Every failure on
the way becomes the spec's one error body with the documented status.

Routing: API operations are dispatched by `dispatch.ApiDispatcher`, a WSGI layer in front of
Flask (Flask's request context, URL adapter and response object cost about a third of a
request's time); Flask serves everything else with its own URL rules, generated from the spec
too: the Swagger UI, files, the admin API, uploads (multipart) and every 404, 405 and 413.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import orjson
from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.routing import BaseConverter, Map

from mock_server.auth import AuthError
from mock_server.calls import Call, Reply
from mock_server.dispatch import Answer, ApiDispatcher, Incoming, Pipeline
from mock_server.handlers import HANDLERS
from mock_server.matching import segment_pattern
from mock_server.services import Services, build_services
from mock_server.settings import Settings
from mock_server.shaping import error_body
from mock_server.spec import Operation, Spec, load_spec
from mock_server.upload_compat import DocumentedCurlUpload
from mock_server.validation import OperationValidator, RequestInvalid, compile_validators

log = logging.getLogger("mock_server")
JSON = "application/json"
# JSON bodies of this API are small; uploads are capped at 3 MiB plus multipart overhead.
MAX_CONTENT_LENGTH = 4 * 1024 * 1024


def json_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status=status, headers=dict(headers or {}), mimetype=JSON)


def error_response(status: int, message: str, errors: Mapping[str, list[str]] | None = None,
                   headers: Mapping[str, str] | None = None) -> Response:
    return json_response(status, error_body(status, message, errors), headers)


def error_answer(status: int, message: str,
                 errors: Mapping[str, list[str]] | None = None) -> Answer:
    return Answer(status, orjson.dumps(error_body(status, message, errors)), {})


def _log_unhandled(method: str, path: str, exc: BaseException) -> Answer:
    """What Flask's `server_error` handler answers, for the fast path."""
    log.error("unhandled error on %s %s", method, path, exc_info=exc)
    return error_answer(500, f"Internal server error: {type(exc).__name__}.")


class FlaskRequestView:
    """Adapts Flask's request to what validation needs (validation never imports Flask)."""

    def query_names(self) -> list[str]:
        return list(request.args.keys())

    def query_values(self, name: str) -> list[str]:
        return request.args.getlist(name)

    def header_value(self, name: str) -> str | None:
        return request.headers.get(name)

    @property
    def content_type(self) -> str | None:
        return request.content_type

    def body_bytes(self) -> bytes:
        return request.get_data(cache=True)


class SchemaConverter(BaseConverter):
    """Matches a path segment only when it can be the parameter the spec declares.

    So `/v1/events/mine` or `/v1/events/1/subscribers/me` never fall into `{id}` or `{user}`:
    an unsupported method on them answers 405 (not a 422 about a malformed id), and a segment
    that cannot be an id answers 404, like any unknown path.
    """

    part_isolating = True

    def __init__(self, url_map: Map, regex: str) -> None:
        super().__init__(url_map)
        self.regex = regex


def _flask_rule(operation: Operation) -> str:
    rule = operation.mock_path
    for parameter in operation.parameters:
        if parameter.location == "path":
            regex = segment_pattern(parameter.schema)  # werkzeug takes it verbatim
            rule = rule.replace(f"{{{parameter.name}}}", f'<schema("{regex}"):{parameter.name}>')
    return rule


def _resolve_caller(services: Services, authorization: str | None) -> Any:
    claims = services.tokens.verify(authorization)
    user = services.users.caller_for(claims)
    if user is None:
        raise AuthError(401, f"Invalid bearer token: user {claims.user_id} is unknown to the mock.")
    return user


def _make_pipeline(operation: Operation, validator: OperationValidator,
                   handler: Callable[[Services, Call], Reply], services: Services,
                   settings: Settings) -> Pipeline:
    """The request pipeline of one operation, whichever way the request arrived.

    Flask's view (below) and the WSGI fast path (`dispatch.py`) both call it, so the two
    answer byte for byte the same.
    """

    def run(incoming: Incoming) -> Answer:
        try:
            services.api_keys.check(incoming.view.header_value("X-Api-Key"))
            caller = (_resolve_caller(services, incoming.view.header_value("Authorization"))
                      if operation.needs_bearer else None)
            valid = validator.validate_request(incoming.view, incoming.path_values)
            call = Call(
                operation=operation,
                path=valid.path,
                query=valid.query,
                headers=valid.headers,
                body=valid.body,
                caller=caller,
                now=services.clock.now(),
                base_url=incoming.base_url,
                api_path=incoming.path[len(operation.mount):],
                query_string=incoming.query_string,
                files=incoming.files,
            )
            reply = handler(services, call)
        except (AuthError, RequestInvalid) as exc:
            return error_answer(exc.status, exc.message, getattr(exc, "errors", None))
        except HTTPException:
            raise
        except Exception as exc:  # domain errors carry their documented status
            status = getattr(exc, "status", None)
            if isinstance(status, int) and 400 <= status < 600:
                return error_answer(status, str(getattr(exc, "message", exc)),
                                    getattr(exc, "errors", None))
            raise
        if settings.validate_responses:
            problems = validator.response_errors(reply.status, reply.body)
            if problems:
                log.error("%s answered off-spec: %s", operation.operation_id, problems)
                return error_answer(500, "The mock produced a response that breaks the spec: "
                                    + "; ".join(problems[:5]))
        return Answer(reply.status, orjson.dumps(reply.body), dict(reply.headers))

    return run


def _make_view(operation: Operation, pipeline: Pipeline) -> Callable[..., Response]:
    takes_files = "multipart/form-data" in operation.body_schemas  # parse forms only there

    def view(**path_values: str) -> Response:
        answer = pipeline(Incoming(
            view=FlaskRequestView(),
            path_values=path_values,
            # scheme://host, not request.host_url: that one rebuilds and re-encodes the whole
            # URL (an IRI round trip), ~30 us of every request for the same answer.
            base_url=f"{request.scheme}://{request.host}",
            path=request.path,
            query_string=request.query_string.decode("latin-1"),
            files=request.files if takes_files else None,
        ))
        return Response(answer.body, status=answer.status, headers=answer.headers,
                        mimetype=JSON)

    view.__name__ = operation.operation_id
    return view


def _http_error_message(exc: HTTPException) -> str:
    """The message of an HTTP error with no route-specific wording (404 and 405 have theirs)."""
    if exc.code == 413:
        return "Request body too large: the limit for an upload is 3145728 bytes (3 MB)."
    return str(exc.description or exc.name)


def _register_errors(app: Flask, spec: Spec) -> None:
    roots = (f"{op.mount}/{op.path.split('/')[1]}/..." for op in spec.operations.values())
    known = ", ".join(dict.fromkeys(roots))  # from the spec, in its order, each once

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        headers = {}
        if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
            allowed = sorted(set(exc.valid_methods) - {"HEAD", "OPTIONS"}) or exc.valid_methods
            headers["Allow"] = ", ".join(allowed)
            message = (f"Method {request.method} not allowed on {request.path}; "
                       f"allowed: {headers['Allow']}.")
        elif status == 404:
            message = f"No operation at {request.path}. The APIs live under {known}."
        else:
            message = _http_error_message(exc)
        return error_response(status, message, headers=headers)

    @app.errorhandler(Exception)
    def server_error(exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, f"Internal server error: {type(exc).__name__}.")


def create_app(config: Mapping[str, Any] | Settings | None = None) -> Flask:
    """A fresh app with a fresh store: every test can have its own."""
    settings = config if isinstance(config, Settings) else Settings.from_mapping(config)
    spec = load_spec(settings.spec_path)
    validators = compile_validators(spec)
    services = build_services(settings)

    app = Flask("mock_server")
    app.url_map.converters["schema"] = SchemaConverter
    app.config["MAX_CONTENT_LENGTH"] = MAX_CONTENT_LENGTH
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["mock_server"] = services
    app.extensions["mock_server.settings"] = settings
    app.extensions["mock_server.spec"] = spec

    missing = set(spec.operations) - set(HANDLERS)
    if missing:
        raise RuntimeError(f"operations without a handler: {sorted(missing)}")
    pipelines: dict[str, Pipeline] = {}
    for operation in spec.operations.values():
        pipeline = pipelines[operation.operation_id] = _make_pipeline(
            operation, validators[operation.operation_id], HANDLERS[operation.operation_id],
            services, settings)
        app.add_url_rule(
            _flask_rule(operation),
            endpoint=operation.operation_id,
            view_func=_make_view(operation, pipeline),
            methods=[operation.method],
        )

    from mock_server.files import files_blueprint
    from mock_server.swagger import swagger_blueprint

    app.register_blueprint(files_blueprint(services))
    app.register_blueprint(swagger_blueprint(spec.document, api_key_hint=settings.api_keys[0]))
    _register_errors(app, spec)
    if not settings.cors_origins:  # CORS headers are added by a Flask hook (cors.py)
        app.wsgi_app = ApiDispatcher(  # type: ignore[method-assign]
            app.wsgi_app, spec.operations.values(), pipelines,
            max_content_length=MAX_CONTENT_LENGTH, on_error=_log_unhandled,
            on_http_error=lambda exc: error_answer(exc.code or 500, _http_error_message(exc)))
    app.wsgi_app = DocumentedCurlUpload(app.wsgi_app)  # type: ignore[method-assign]
    # Admin API, journal, faults, CORS, state file: around the app (see controls.py).
    from mock_server.controls import install_controls

    install_controls(app, settings, spec, services)
    return app
