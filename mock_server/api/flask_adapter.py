"""Flask as an adapter: URL rules generated from the spec, a view per operation, JSON errors.

Flask serves what the fast path leaves to it (every 404, 405 and 413, HEAD, chunked bodies, and
every request when the fast path is off), and the non-API routes registered beside it. Its view
hands the request to the very pipeline the fast path runs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import orjson
from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.routing import BaseConverter, Map

from mock_server.api.requests import Incoming, Pipeline
from mock_server.api.shaping import error_body
from mock_server.openapi.matching import segment_pattern
from mock_server.openapi.spec import Operation, Spec

log = logging.getLogger("mock_server")
JSON = "application/json"


def json_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status=status, headers=dict(headers or {}), mimetype=JSON)


def error_response(status: int, message: str, errors: Mapping[str, list[str]] | None = None,
                   headers: Mapping[str, str] | None = None) -> Response:
    return json_response(status, error_body(status, message, errors), headers)


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


def flask_rule(operation: Operation) -> str:
    rule = operation.mock_path
    for parameter in operation.parameters:
        if parameter.location == "path":
            regex = segment_pattern(parameter.schema)  # werkzeug takes it verbatim
            rule = rule.replace(f"{{{parameter.name}}}", f'<schema("{regex}"):{parameter.name}>')
    return rule


def make_view(operation: Operation, pipeline: Pipeline) -> Callable[..., Response]:
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
            form_fields=tuple(request.form) if takes_files else (),
        ))
        return Response(answer.body, status=answer.status, headers=answer.headers,
                        mimetype=JSON)

    view.__name__ = operation.operation_id
    return view


def add_operation_routes(app: Flask, spec: Spec, pipelines: Mapping[str, Pipeline]) -> None:
    app.url_map.converters["schema"] = SchemaConverter
    for operation in spec.operations.values():
        app.add_url_rule(flask_rule(operation), endpoint=operation.operation_id,
                         view_func=make_view(operation, pipelines[operation.operation_id]),
                         methods=[operation.method])


def http_error_message(exc: HTTPException) -> str:
    """The message of an HTTP error with no route-specific wording (404 and 405 have theirs)."""
    if exc.code == 413:
        return "Request body too large: the limit for an upload is 3145728 bytes (3 MB)."
    return str(exc.description or exc.name)


def register_error_handlers(app: Flask, spec: Spec) -> None:
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
            message = http_error_message(exc)
        return error_response(status, message, headers=headers)

    @app.errorhandler(Exception)
    def server_error(exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, f"Internal server error: {type(exc).__name__}.")
