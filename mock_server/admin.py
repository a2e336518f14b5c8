"""The test-engineer controls under `/__admin/`, kept apart from the two public APIs.

Described by `mock_server/admin-openapi.yaml` (served at `/__admin/openapi.yaml`); the decisions
are written there and in README.md ("Test-engineer controls (admin API)"). Every route needs the
admin key in `X-Admin-Key` (401 without it); `mock-server serve --no-admin` does not register
the blueprint at all, so everything under the prefix answers 404 like any unknown path.

The blueprint is assembled from the parts it is given, so the validation proxy reuses it with
only a journal (and adds its report route), while the mock gets state, clock, tokens and faults.
Admin requests are left out of the journal and are never subject to faults.
"""

from __future__ import annotations

import dataclasses
import hmac
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
from flask import Blueprint, Response, request

from mock_server.data import DEFAULT_USER_ID
from mock_server.domain.clock import SteerableClock, format_instant, parse_instant
from mock_server.domain.errors import RuleViolation
from mock_server.domain.models import User
from mock_server.faults import FaultInvalid, FaultRules
from mock_server.journal import ADMIN_PREFIX, Journal, JournalFilter
from mock_server.services import Services
from mock_server.shaping import error_body

ADMIN_SPEC_PATH = Path(__file__).with_name("admin-openapi.yaml")
ADMIN_KEY_HEADER = "X-Admin-Key"
#: A whole-state import may be far larger than an API body (1e6 events: a few hundred MB).
STATE_IMPORT_LIMIT = 2 * 1024 ** 3
MAX_TOKEN_TTL = timedelta(days=3650)
RESET_PARTS = ("data", "journal", "faults", "clock")
JSON = "application/json"


class AdminError(Exception):
    """An admin request the API refuses, with its status and per-field messages."""

    def __init__(self, status: int, message: str,
                 errors: Mapping[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status=status, mimetype=JSON)


def _error(status: int, message: str, errors: Mapping[str, list[str]] | None = None) -> Response:
    return _json(error_body(status, message, errors), status)


def _body(*, required: bool = True) -> dict[str, Any]:
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


def _unknown_fields(body: Mapping[str, Any], known: set[str]) -> None:
    unknown = sorted(set(body) - known)
    if unknown:
        raise AdminError(422, "The given data was invalid.",
                         {name: [f"Unknown field {name!r}."] for name in unknown})


def admin_blueprint(key: str, *, journal: Journal | None = None,
                    services: Services | None = None,
                    faults: FaultRules | None = None) -> Blueprint:
    """The admin routes for the parts given; the caller may add more before registering."""
    blueprint = Blueprint("admin", __name__, url_prefix=ADMIN_PREFIX)
    expected = key.encode()

    @blueprint.before_request
    def require_key() -> Response | None:
        presented = request.headers.get(ADMIN_KEY_HEADER)
        if not presented:
            return _error(401, f"Missing admin key: send it in the {ADMIN_KEY_HEADER} header.")
        if not hmac.compare_digest(presented.encode(), expected):
            return _error(401, f"Unknown admin key in the {ADMIN_KEY_HEADER} header.")
        return None

    @blueprint.errorhandler(AdminError)
    def refused(exc: AdminError) -> Response:
        return _error(exc.status, exc.message, exc.errors)

    @blueprint.errorhandler(RuleViolation)
    def invalid(exc: RuleViolation) -> Response:
        return _error(422, exc.message, exc.errors)

    @blueprint.get("/openapi.yaml")
    def admin_spec() -> Response:
        return Response(ADMIN_SPEC_PATH.read_bytes(), mimetype="application/yaml")

    if journal is not None:
        _journal_routes(blueprint, journal)
    if faults is not None:
        _fault_routes(blueprint, faults)
    if services is not None:
        _state_routes(blueprint, services, journal, faults)
        _token_routes(blueprint, services)
        _clock_routes(blueprint, services)
    return blueprint


# --- journal --------------------------------------------------------------------------------

def _journal_routes(blueprint: Blueprint, journal: Journal) -> None:
    def criteria() -> tuple[JournalFilter, int | None]:
        try:
            selected = JournalFilter.from_query(request.args)
        except ValueError as exc:
            name, _, message = str(exc).partition(": ")
            raise AdminError(422, "The given data was invalid.", {name: [message]}) from None
        limit = request.args.get("limit")
        if limit is not None and (not limit.isdigit() or int(limit) < 1):
            raise AdminError(422, "The given data was invalid.",
                             {"limit": ["a positive integer"]})
        return selected, None if limit is None else int(limit)

    def listing(selected: JournalFilter, limit: int | None) -> Response:
        found = journal.select(selected, limit)
        return _json({"exchanges": [ex.to_json(journal.matcher) for ex in found],
                      "count": len(found), "stats": journal.stats()})

    @blueprint.get("/journal")
    def journal_list() -> Response:
        return listing(*criteria())

    @blueprint.get("/journal/count")
    def journal_count() -> Response:
        selected, _ = criteria()
        return _json({"count": journal.count(selected)})

    @blueprint.get("/journal/unmatched")
    def journal_unmatched() -> Response:
        selected, limit = criteria()
        return listing(dataclasses.replace(selected, unmatched=True), limit)

    @blueprint.get("/journal/<int:id>")
    def journal_entry(id: int) -> Response:  # named as in admin-openapi.yaml
        found = journal.select(JournalFilter(since=id - 1), None)
        entry = next((ex for ex in found if ex.id == id), None)
        if entry is None:
            raise AdminError(404, f"No exchange {id} in the journal (it keeps the "
                                  f"last {journal.size}).")
        return _json(entry.to_json(journal.matcher))

    @blueprint.delete("/journal")
    def journal_clear() -> Response:
        return _json({"cleared": journal.clear()})


# --- faults ---------------------------------------------------------------------------------

def _fault_routes(blueprint: Blueprint, faults: FaultRules) -> None:
    @blueprint.get("/faults")
    def fault_list() -> Response:
        return _json({"faults": [rule.to_json() for rule in faults.active]})

    @blueprint.post("/faults")
    def fault_add() -> Response:
        try:
            rule = faults.add(_body())
        except FaultInvalid as exc:
            raise AdminError(422, "The fault rule is invalid.", exc.errors) from None
        return _json(rule.to_json(), 201)

    @blueprint.get("/faults/<id>")
    def fault_get(id: str) -> Response:  # named as in admin-openapi.yaml
        rule_id = id
        rule = faults.get(rule_id)
        if rule is None:
            raise AdminError(404, f"No fault rule {rule_id!r}.")
        return _json(rule.to_json())

    @blueprint.delete("/faults/<id>")
    def fault_remove(id: str) -> Response:  # named as in admin-openapi.yaml
        rule_id = id
        if not faults.remove(rule_id):
            raise AdminError(404, f"No fault rule {rule_id!r}.")
        return _json({"removed": 1})

    @blueprint.delete("/faults")
    def fault_clear() -> Response:
        return _json({"removed": faults.clear()})


# --- state ----------------------------------------------------------------------------------

def _summary(services: Services) -> dict[str, Any]:
    return {
        "fixtures": {"seed": services.fixture_seed, "events": services.fixture_events},
        "events": services.store.event_count(),
        "users": len(services.store.users()),
        "uploads": len(services.blobs),
        "activities": len(services.activities),
    }


def _state_routes(blueprint: Blueprint, services: Services, journal: Journal | None,
                  faults: FaultRules | None) -> None:
    @blueprint.post("/reset")
    def reset() -> Response:
        body = _body(required=False)
        _unknown_fields(body, set(RESET_PARTS))
        for name, value in body.items():
            if not isinstance(value, bool):
                raise AdminError(422, "The given data was invalid.",
                                 {name: ["true or false"]})
        parts = [part for part in RESET_PARTS if body.get(part, True)]
        if "data" in parts:
            services.reset()
        if "journal" in parts and journal is not None:
            journal.clear()
        if "faults" in parts and faults is not None:
            faults.clear()
        if "clock" in parts and isinstance(services.clock, SteerableClock):
            services.clock.follow_wall()
        return _json({"reset": parts, **_summary(services)})

    @blueprint.post("/reseed")
    def reseed() -> Response:
        body = _body(required=False)
        _unknown_fields(body, {"seed", "events"})
        services.reseed(body.get("seed", services.fixture_seed),
                        body.get("events", services.fixture_events))
        return _json(_summary(services))

    @blueprint.get("/state")
    def export_state() -> Response:
        return _json(services.export_state())

    @blueprint.put("/state")
    def import_state() -> Response:
        request.max_content_length = STATE_IMPORT_LIMIT
        services.import_state(_body())
        return _json(_summary(services))


# --- tokens ---------------------------------------------------------------------------------

def _find_user(services: Services, wanted: str) -> User | None:
    user = services.store.get_user(wanted)
    if user is not None:
        return user
    for user_type in ("FED", "DKTCONNECT"):
        user = services.store.get_user_by_external_id(user_type, wanted)
        if user is not None:
            return user
    return None


def _token_routes(blueprint: Blueprint, services: Services) -> None:
    @blueprint.post("/tokens")
    def mint_token() -> Response:
        body = _body(required=False)
        _unknown_fields(body, {"user", "ttl_seconds"})
        wanted = body.get("user", DEFAULT_USER_ID)
        ttl = body.get("ttl_seconds", 3600)
        problems: dict[str, list[str]] = {}
        if not isinstance(wanted, str):
            problems["user"] = ["a user id or external id"]
        if isinstance(ttl, bool) or not isinstance(ttl, int | float) or (
                abs(ttl) > MAX_TOKEN_TTL.total_seconds()):
            problems["ttl_seconds"] = ["seconds (negative: already expired), at most 10 years"]
        if problems:
            raise AdminError(422, "The given data was invalid.", problems)
        user = _find_user(services, wanted)
        if user is None:
            raise AdminError(422, "The given data was invalid.",
                             {"user": [f"no user {wanted!r} (by id or external id)"]})
        now = services.clock.now()
        token = services.tokens.issue(user.id, user.type, ttl=timedelta(seconds=ttl),
                                      name=user.name)
        return _json({
            "token": token,
            "user": {"id": user.id, "type": user.type, "name": user.name,
                     "external_id": user.external_id},
            "issued_at": format_instant(now),
            "expires_at": format_instant(now + timedelta(seconds=ttl)),
        }, 201)


# --- clock ----------------------------------------------------------------------------------

def _clock_routes(blueprint: Blueprint, services: Services) -> None:
    def steerable() -> SteerableClock:
        clock = services.clock
        if not isinstance(clock, SteerableClock):
            raise AdminError(409, f"This mock's clock ({type(clock).__name__}) cannot be "
                                  "steered through the admin API.")
        return clock

    def describe(clock: SteerableClock) -> Response:
        return _json({
            "now": format_instant(clock.now()),
            "frozen": clock.frozen,
            "offset_seconds": round(clock.offset.total_seconds(), 6),
        })

    @blueprint.get("/clock")
    def clock_get() -> Response:
        return describe(steerable())

    @blueprint.put("/clock")
    def clock_set() -> Response:
        clock = steerable()
        body = _body()
        _unknown_fields(body, {"now", "frozen"})
        frozen = body.get("frozen")
        problems: dict[str, list[str]] = {}
        if frozen is not None and not isinstance(frozen, bool):
            problems["frozen"] = ["true or false"]
        moment = None
        if body.get("now") is not None:
            try:
                moment = parse_instant(body["now"])
            except ValueError:
                problems["now"] = ["an ISO 8601 date-time with an offset, e.g. "
                                   "2027-02-01T09:00:00Z"]
        if not problems and moment is None and frozen is None:
            problems["now"] = ["give now, frozen, or both"]
        if problems:
            raise AdminError(422, "The given data was invalid.", problems)
        if moment is not None:
            clock.set(moment, frozen=frozen)
        elif frozen:
            clock.freeze()
        else:
            clock.unfreeze()
        return describe(clock)

    @blueprint.post("/clock/advance")
    def clock_advance() -> Response:
        clock = steerable()
        body = _body()
        _unknown_fields(body, {"seconds"})
        seconds = body.get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or (
                abs(seconds) > 100 * 365 * 86400):
            raise AdminError(422, "The given data was invalid.",
                             {"seconds": ["a number of seconds (negative goes back)"]})
        clock.advance(seconds)
        return describe(clock)

    @blueprint.delete("/clock")
    def clock_wall() -> Response:
        clock = steerable()
        clock.follow_wall()
        return describe(clock)
