"""The error mapping, written once: any exception met while answering becomes the spec's error.

A refusal is an ``ApiError`` (``mock_server.errors``) and keeps its status; an HTTP error of
werkzeug's (a client that hung up mid-body, say) keeps its code; anything else is a bug, logged
with its traceback and answered with the JSON 500. The fast path, the Flask adapter and the
validation proxy all answer from here, so no bad request ever meets a plain-text page.
Imports neither Flask nor the state, so the proxy can use it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import orjson
from werkzeug.exceptions import HTTPException

from mock_server.api.requests import BODY_TOO_LARGE, Answer
from mock_server.api.shaping import error_body
from mock_server.errors import ApiError
from mock_server.openapi.matching import request_path

log = logging.getLogger("mock_server")


def error_answer(status: int, message: str,
                 errors: Mapping[str, list[str]] | None = None) -> Answer:
    return Answer(status, orjson.dumps(error_body(status, message, errors)), {})


def answer_for(error: ApiError) -> Answer:
    """The spec's error body for a refusal, whichever layer raised it."""
    return error_answer(error.status, error.message, error.errors)


def http_error_message(exc: HTTPException) -> str:
    """The message of an HTTP error with no route-specific wording (404 and 405 have theirs)."""
    if exc.code == 413:
        return BODY_TOO_LARGE
    return str(exc.description or exc.name)


def unhandled_answer(method: str, path: str, exc: BaseException) -> Answer:
    """A bug, never a refusal: logged with its traceback, answered with the JSON 500."""
    log.error("unhandled error on %s %s", method, path, exc_info=exc)
    return error_answer(500, f"Internal server error: {type(exc).__name__}.")


def answer_for_exception(exc: Exception, environ: Mapping[str, Any]) -> Answer:
    if isinstance(exc, ApiError):
        return answer_for(exc)
    if isinstance(exc, HTTPException):
        return error_answer(exc.code or 500, http_error_message(exc))
    return unhandled_answer(environ.get("REQUEST_METHOD", "GET"), request_path(environ), exc)
