"""Flask as an adapter: URL rules generated from the spec, a view per operation, JSON errors.

Flask serves what the fast path leaves to it (every 404 and 405, HEAD, and every request when
the fast path is off), and the non-API routes registered beside it. Its view hands the environ
to the very responder the fast path calls (``pipeline.make_responder``); its error handlers
answer from the same error mapping (``answers``), with the same status lines (``http_status``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.routing import BaseConverter, Map

from mock_server.api.answers import error_answer, http_error_message, unhandled_answer
from mock_server.api.headers import JSON
from mock_server.api.http_status import status_line
from mock_server.api.requests import Answer, Responder
from mock_server.openapi.matching import OperationMatch, OperationMatcher, segment_pattern
from mock_server.openapi.spec import Operation, Spec

#: How close (``NearMiss.similarity``, 0..1) a path must be for a 404 to name an operation: a
#: typo or a wrong mount scores 0.8 to 0.97, a path of another service about 0.5.
NEAR_ENOUGH = 0.6


def flask_response(answer: Answer, headers: Mapping[str, str] | None = None) -> Response:
    """An answer as Flask's response, with the mock's status line (werkzeug's would be
    ``498 UNKNOWN``)."""
    return Response(answer.body, status=status_line(answer.status),
                    headers={**answer.headers, **(headers or {})}, mimetype=JSON)


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


def flask_rule(operation: Operation, path: str) -> str:
    """The URL rule of one path the mock serves ``operation`` at (under its mount, or root)."""
    rule = path
    for parameter in operation.parameters:
        if parameter.location == "path":
            regex = segment_pattern(parameter.schema)  # werkzeug takes it verbatim
            rule = rule.replace(f"{{{parameter.name}}}", f'<schema("{regex}"):{parameter.name}>')
    return rule


def make_view(operation: Operation, respond: Responder) -> Callable[..., Response]:
    def view(**path_values: str) -> Response:
        # Flask's routing is this path's match (same regular expressions as the fast path's).
        match = OperationMatch(operation, MappingProxyType(path_values))
        return flask_response(respond(request.environ, match))

    view.__name__ = operation.operation_id
    return view


def add_operation_routes(app: Flask, spec: Spec, respond: Responder) -> None:
    app.url_map.converters["schema"] = SchemaConverter
    for operation in spec.operations.values():
        view = make_view(operation, respond)
        for path in operation.mock_paths:
            app.add_url_rule(flask_rule(operation, path), endpoint=operation.operation_id,
                             view_func=view, methods=[operation.method])


def not_found_message(method: str, path: str, spec: Spec, matcher: OperationMatcher) -> str:
    """What a client needs after a 404: the operation the mock would serve nearest to the path
    (the journal's near miss), and where the APIs live."""
    roots = list(dict.fromkeys(f"{root}/{op.path.split('/')[1]}"  # from the spec, in its order
                               for op in spec.operations.values() for root in op.roots))
    known = ", ".join(roots[:-1]) + f" and {roots[-1]}" if len(roots) > 1 else roots[0]
    message = f"No operation at {method} {path}."
    miss = matcher.nearest(method, path)
    if miss is not None and miss.similarity >= NEAR_ENOUGH:
        message += (f" Nearest: {miss.method} {miss.path} ({miss.operation_id}): "
                    f"{'; '.join(miss.reasons)}.")
    return f"{message} The APIs live under {known}."


def register_error_handlers(app: Flask, spec: Spec, matcher: OperationMatcher) -> None:

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        headers = {}
        if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
            allowed = sorted(set(exc.valid_methods) - {"HEAD", "OPTIONS"}) or exc.valid_methods
            headers["Allow"] = ", ".join(allowed)
            message = (f"Method {request.method} not allowed on {request.path}; "
                       f"allowed: {headers['Allow']}.")
        elif status == 404 and request.url_rule is None:
            message = not_found_message(request.method, request.path, spec, matcher)
        elif status == 404:  # a route of the mock's own (a file) with nothing at that path
            message = f"Nothing at {request.path}."
        else:
            message = http_error_message(exc)
        return flask_response(error_answer(status, message), headers)

    @app.errorhandler(Exception)
    def server_error(exc: Exception) -> Response:
        return flask_response(unhandled_answer(request.method, request.path, exc))
