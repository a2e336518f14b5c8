"""The state's admin routes: reset, reseed, export and import, tokens, the clock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, request

from mock_server.api.auth import Tokens
from mock_server.controls.admin.blueprint import (
    AdminError,
    json_answer,
    json_body,
    refuse_unknown_fields,
)
from mock_server.controls.faults import FaultRules
from mock_server.controls.journal import Journal
from mock_server.domain.activities.models import User
from mock_server.domain.clock import SteerableClock, format_instant, parse_instant
from mock_server.seed import DEFAULT_USER_ID
from mock_server.services import Services

#: A whole-state import may be far larger than an API body (1e6 events: a few hundred MB).
STATE_IMPORT_LIMIT = 2 * 1024 ** 3
MAX_TOKEN_TTL = timedelta(days=3650)
RESET_PARTS = ("data", "journal", "faults", "clock")


def _summary(services: Services) -> dict[str, Any]:
    return {
        "fixtures": {"seed": services.fixture_seed, "events": services.fixture_events},
        "events": services.store.event_count(),
        "users": len(services.store.users()),
        "uploads": len(services.blobs),
        "activities": len(services.activities),
    }


def add_state_routes(blueprint: Blueprint, services: Services, journal: Journal | None,
                  faults: FaultRules | None) -> None:
    @blueprint.post("/reset")
    def reset() -> Response:
        body = json_body(required=False)
        refuse_unknown_fields(body, set(RESET_PARTS))
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
            services.steer_clock(SteerableClock.follow_wall)
        return json_answer({"reset": parts, **_summary(services)})

    @blueprint.post("/reseed")
    def reseed() -> Response:
        body = json_body(required=False)
        refuse_unknown_fields(body, {"seed", "events"})
        services.reseed(body.get("seed", services.fixture_seed),
                        body.get("events", services.fixture_events))
        return json_answer(_summary(services))

    @blueprint.get("/state")
    def export_state() -> Response:
        return json_answer(services.export_state())

    @blueprint.put("/state")
    def import_state() -> Response:
        request.max_content_length = STATE_IMPORT_LIMIT
        services.import_state(json_body())
        return json_answer(_summary(services))


def _find_user(services: Services, wanted: str) -> User | None:
    user = services.store.get_user(wanted)
    if user is not None:
        return user
    for user_type in ("FED", "DKTCONNECT"):
        user = services.store.get_user_by_external_id(user_type, wanted)
        if user is not None:
            return user
    return None


def add_token_routes(blueprint: Blueprint, services: Services, tokens: Tokens) -> None:
    @blueprint.post("/tokens")
    def mint_token() -> Response:
        body = json_body(required=False)
        refuse_unknown_fields(body, {"user", "ttl_seconds"})
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
        token = tokens.issue(user.id, user.type, ttl=timedelta(seconds=ttl),
                                      name=user.name)
        return json_answer({
            "token": token,
            "user": {"id": user.id, "type": user.type, "name": user.name,
                     "external_id": user.external_id},
            "issued_at": format_instant(now),
            "expires_at": format_instant(now + timedelta(seconds=ttl)),
        }, 201)


def add_clock_routes(blueprint: Blueprint, services: Services) -> None:
    def steerable() -> SteerableClock:
        clock = services.clock
        if not isinstance(clock, SteerableClock):
            raise AdminError(409, f"This mock's clock ({type(clock).__name__}) cannot be "
                                  "steered through the admin API.")
        return clock

    def describe(clock: SteerableClock) -> Response:
        return json_answer({
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
        body = json_body()
        refuse_unknown_fields(body, {"now", "frozen"})
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
            services.steer_clock(lambda c: c.set(moment, frozen=frozen))
        elif frozen:
            services.steer_clock(SteerableClock.freeze)
        else:
            services.steer_clock(SteerableClock.unfreeze)
        return describe(clock)

    @blueprint.post("/clock/advance")
    def clock_advance() -> Response:
        clock = steerable()
        body = json_body()
        refuse_unknown_fields(body, {"seconds"})
        seconds = body.get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or (
                abs(seconds) > 100 * 365 * 86400):
            raise AdminError(422, "The given data was invalid.",
                             {"seconds": ["a number of seconds (negative goes back)"]})
        services.steer_clock(lambda c: c.advance(seconds))
        return describe(clock)

    @blueprint.delete("/clock")
    def clock_wall() -> Response:
        clock = steerable()
        services.steer_clock(SteerableClock.follow_wall)
        return describe(clock)
