"""The request pipeline of one API operation, written once for every way a request arrives.

In this order, as connexion documents its own: API key -> bearer token -> request validation
(compiled from the spec) -> handler (domain and state) -> response validation (on by default)
-> JSON. Every refusal on the way is an ``ApiError`` and becomes the spec's one error body with
its status (``answers``).

``make_responder`` is the one entry of both API paths: the Flask view (``flask_adapter``) and
the WSGI fast path (``fastpath``) hand it the environ and the matched operation; it reads the
request (``requests.read_incoming``), runs the pipeline and maps whatever is raised on the
way, so the two answer byte for byte the same.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from mock_server.api.answers import answer_for, answer_for_exception, error_answer
from mock_server.api.auth import Credentials
from mock_server.api.callers import caller_for
from mock_server.api.calls import Call, Reply
from mock_server.api.requests import (
    Answer,
    BodyLimits,
    Incoming,
    Pipeline,
    Responder,
    read_incoming,
)
from mock_server.errors import ApiError
from mock_server.openapi.matching import OperationMatch
from mock_server.openapi.spec import Operation
from mock_server.openapi.validation import OperationValidator
from mock_server.services import Services

log = logging.getLogger("mock_server")
Handler = Callable[[Services, Call], Reply]


def make_pipeline(operation: Operation, validator: OperationValidator, handler: Handler,
                  services: Services, credentials: Credentials, *,
                  validate_responses: bool) -> Pipeline:
    """The pipeline of one operation, compiled once at start."""

    def run(incoming: Incoming) -> Answer:
        try:
            credentials.api_keys.check(incoming.view.header_value("X-Api-Key"))
            caller = None
            if operation.needs_bearer:
                claims = credentials.tokens.verify(incoming.view.header_value("Authorization"))
                caller = caller_for(services.store, claims,
                                    register_unknown=credentials.register_unknown_users)
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
                api_path=operation.api_path(incoming.path),
                query_string=incoming.query_string,
                files=incoming.files,
                form_fields=incoming.form_fields,
            )
            reply = handler(services, call)
        except ApiError as exc:
            return answer_for(exc)
        if validate_responses:
            problems = validator.response_errors(reply.status, reply.body)
            if problems:
                log.error("%s answered off-spec: %s", operation.operation_id, problems)
                return error_answer(500, "The mock produced a response that breaks the spec: "
                                    + "; ".join(problems[:5]))
        return Answer(reply.status, orjson.dumps(reply.body), dict(reply.headers))

    return run


def make_responder(pipelines: Mapping[str, Pipeline], limits: BodyLimits) -> Responder:
    """Answers an API request whose operation is matched, whichever path it came by."""

    def respond(environ: dict[str, Any], match: OperationMatch) -> Answer:
        try:
            return pipelines[match.operation.operation_id](read_incoming(environ, match, limits))
        except Exception as exc:  # a body over the limits, a client gone, or a bug
            return answer_for_exception(exc, environ)

    return respond
