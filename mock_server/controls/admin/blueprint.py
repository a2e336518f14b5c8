"""The admin API under `/__admin/`: its skeleton, shared by the mock and the validation proxy.

Described by `mock_server/admin-openapi.yaml` (served at `/__admin/openapi.yaml`); the decisions
are written there and in README.md ("Test-engineer controls (admin API)"). Every route needs the
admin key in `X-Admin-Key` (401 without it); `mock-server serve --no-admin` does not register
the blueprint at all, so everything under the prefix answers 404 like any unknown path.

The blueprint is assembled from the parts it is given, so the validation proxy reuses it with
only a journal (and adds its report route), while the mock gets state, clock, tokens and faults.
Admin requests are left out of the journal and are never subject to faults.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson
from flask import Blueprint, Response, request

from mock_server.api.headers import JSON
from mock_server.api.http_status import status_line
from mock_server.api.shaping import error_body
from mock_server.controls.journal import ADMIN_PREFIX
from mock_server.errors import ApiError

ADMIN_SPEC_PATH = Path(__file__).with_name("admin-openapi.yaml")
ADMIN_KEY_HEADER = "X-Admin-Key"


class AdminError(ApiError):
    """An admin request the API refuses, with its status and per-field messages."""


def json_answer(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status=status_line(status), mimetype=JSON)


def error_answer(status: int, message: str,
                 errors: Mapping[str, list[str]] | None = None) -> Response:
    return json_answer(error_body(status, message, errors), status)


def json_body(*, required: bool = True) -> dict[str, Any]:
    """The request's JSON object (an empty object for an empty optional body)."""
    data = request.get_data(cache=True)
    if not data.strip():
        if required:
            raise AdminError(422, "A JSON object body is required.")
        return {}
    try:
        body = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise AdminError(400, f"Malformed JSON body: {exc}.") from None
    if not isinstance(body, dict):
        raise AdminError(422, "The body must be a JSON object.")
    return body


def refuse_unknown_fields(body: Mapping[str, Any], known: set[str]) -> None:
    unknown = sorted(set(body) - known)
    if unknown:
        raise AdminError(422, "The given data was invalid.",
                         {name: [f"Unknown field {name!r}."] for name in unknown})


def admin_blueprint(key: str) -> Blueprint:
    """The admin API's skeleton: the key check, its errors, its own spec. Routes are added by
    the parts that have them (journal, faults, state) before the blueprint is registered."""
    blueprint = Blueprint("admin", __name__, url_prefix=ADMIN_PREFIX)
    expected = key.encode()

    @blueprint.before_request
    def require_key() -> Response | None:
        presented = request.headers.get(ADMIN_KEY_HEADER)
        if not presented:
            return error_answer(401, "Missing admin key: send it in the "
                                     f"{ADMIN_KEY_HEADER} header.")
        if not hmac.compare_digest(presented.encode(), expected):
            return error_answer(401, f"Unknown admin key in the {ADMIN_KEY_HEADER} header.")
        return None

    @blueprint.errorhandler(ApiError)
    def refused(exc: ApiError) -> Response:  # the admin API's own, or a domain rule's
        return error_answer(exc.status, exc.message, exc.errors)

    @blueprint.get("/openapi.yaml")
    def admin_spec() -> Response:
        return Response(ADMIN_SPEC_PATH.read_bytes(), mimetype="application/yaml")

    return blueprint
