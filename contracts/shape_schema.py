"""The spec as schemathesis loads it: the checks, what each asserts, what a valid request may get.

Also which of schemathesis' coverage cases a run keeps (`bounded_coverage_cases`).

One loader for every schemathesis run of this repository: the kit's shape phases
(`shape.ShapeRunner`) and `tests/app/test_schemathesis.py` both call `build_schema`, so the
statuses a valid request may be answered, and the reason for each, live here only.

Issue 12 will put the documented 422 rules in a root `schemathesis.toml` that both vanilla
schemathesis and the kit read; until it lands, `WRITE_RULE_STATUSES` is the kit's one place
for that knowledge (422 on writes, for a business rule the schema cannot express).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from typing import Any

from .spec import ApiName, Spec

__all__ = [
    "SHAPE_CITES",
    "SHAPE_PHASES",
    "SHAPE_RULES",
    "VALID_REQUEST_STATUSES",
    "NOT_APPLICABLE",
    "WRITE_RULE_STATUSES",
    "bounded_coverage_cases",
    "build_schema",
    "enabled_checks",
]

SHAPE_PHASES: tuple[str, ...] = ("examples", "coverage", "fuzzing", "stateful")

#: What each schemathesis check asserts, in the words of the contract it enforces.
SHAPE_RULES: dict[str, str] = {
    "not_a_server_error": "No request, valid or not, makes the API answer 5xx.",
    "status_code_conformance": "Every answer has a status the operation documents.",
    "content_type_conformance": "Every answer has a Content-Type documented for its status.",
    "response_schema_conformance": "Every answer's body matches the schema of its status.",
    "response_headers_conformance": "Documented response headers are present and valid.",
    "positive_data_acceptance": (
        "A request valid per the spec is accepted; it may only be refused for a documented "
        "reason (credentials, not found, and on writes a business rule: 422)."
    ),
    "negative_data_rejection": (
        "A request that breaks the spec is refused with a documented 4xx, never accepted and "
        "never a 5xx."
    ),
    "use_after_free": "A removed resource cannot be used afterwards.",
    "ensure_resource_availability": "A resource just created can be reached through the links.",
    "missing_required_header": "A request missing a required header is refused with a 4xx.",
    "ignored_auth": "An operation that declares credentials refuses a request without them.",
    "object_level_authorization": "One identity cannot read what another identity created.",
    "unsupported_method": "An undocumented method on a known path answers 405 with Allow.",
    "allow_header_conformance": "A 405 answer lists the path's documented methods in Allow.",
    "max_response_time": "Answers arrive within the configured time.",
}
SHAPE_CITES = ("openapi.yaml (Errors, Authentication, Pagination; each operation's responses)",)

#: What `positive_data_acceptance` accepts as the answer to a request valid per the spec, and
#: why each status is not the server's fault. These are schemathesis' defaults, written out so
#: the reasons are next to them.
VALID_REQUEST_STATUSES: dict[str, str] = {
    "2xx": "accepted, as it should be",
    "3xx": "a redirect does not refuse the request",
    "401": "the schema says what a request looks like, not which credentials the target knows",
    "403": "a well-formed request by a user who may not act on that resource (not the owner)",
    "404": "a generated id names no existing resource",
    "409": "a conflict with the target's current state",
    "429": "a real deployment's rate limit",
    "5xx": "let through here because `not_a_server_error` reports it: one 5xx is one failure, "
           "of the check that names it",
}
#: Accepted besides `VALID_REQUEST_STATUSES` on writes (any method but GET): the documented
#: answer to business rules a schema cannot express (end after start, a full event, a canceled
#: event, an upload whose bytes do not match its extension). Reads have no such rules, so a
#: 422 to a schema-valid read is a failure.
WRITE_RULE_STATUSES: dict[str, str] = {
    "422": "a documented business rule the schema cannot express refused the write",
}
#: (operationId, schemathesis check) pairs that do not apply, and why: heuristics of a check
#: that the documented behaviour of this API contradicts. Neither run nor reported.
NOT_APPLICABLE: dict[tuple[str, str], str] = {
    ("getMySubscription", "ensure_resource_availability"): (
        "`subscribers/me` is the caller's own subscription, not a view of the event just "
        "created: its documented 404 (the caller is not subscribed) is not a lost resource"),
}


def build_schema(spec: Spec, urls: Mapping[ApiName, str], *, seed: int | None = None,
                 max_examples: int | None = None,
                 credentials: Mapping[str, str] | None = None) -> Any:
    """A schemathesis schema of the spec, each API pointed at its root in `urls`.

    `credentials` (`api_key`, `bearer`) go into schemathesis' own auth configuration, for a
    plain schemathesis test; the kit's runner sends them per request instead (tokens from a
    command may be refreshed during a run).
    """
    import schemathesis
    from schemathesis.config import SchemathesisConfig

    reads = list(VALID_REQUEST_STATUSES)
    writes = reads + list(WRITE_RULE_STATUSES)
    data: dict[str, Any] = {
        "checks": {"positive_data_acceptance": {"expected-statuses": reads}},
        "operations": [
            {"exclude-method": "GET",
             "checks": {"positive_data_acceptance": {"expected-statuses": writes}}},
            *({"include-operation-id": [operation_id], "checks": {check: {"enabled": False}}}
              for operation_id, check in NOT_APPLICABLE),
        ],
    }
    if seed is not None:
        data["seed"] = seed
    if max_examples is not None:
        data["generation"] = {"max-examples": max_examples}
    if credentials:
        auth: dict[str, Any] = {}
        if credentials.get("api_key"):
            auth["ApiKey"] = {"api_key": credentials["api_key"]}
        if credentials.get("bearer"):
            auth["BearerAuth"] = {"bearer": credentials["bearer"]}
        data["auth"] = {"openapi": auth}
    config = SchemathesisConfig.from_dict(data)
    return schemathesis.openapi.from_dict(spec.for_servers(dict(urls)), config=config)


def enabled_checks(schema: Any, names: frozenset[str] | None = None) -> list[Callable[..., Any]]:
    """The schemathesis check functions enabled for this schema (optionally by name)."""
    from schemathesis.checks import CHECKS, load_all_checks

    load_all_checks()
    config = schema.config.checks_config_for()
    found = []
    for check in CHECKS.get_all():
        if isinstance(check, type):
            continue
        name = check.__name__
        if names is not None and name not in names:
            continue
        if config.get_by_name(name=name).enabled:
            found.append(check)
    return found


#: Coverage scenarios at the edges of what the spec allows, where servers most often break.
_BOUNDARY_PREFIXES = ("Minimum value", "Maximum value", "Minimum length", "Maximum length",
                      "Minimum items", "Maximum items", "Default positive")


def _description(case: Any) -> str:
    phase = getattr(getattr(case, "meta", None), "phase", None)
    return str(getattr(getattr(phase, "data", None), "description", "") or "")


def bounded_coverage_cases(cases: list[Any], limit: int, rng: random.Random) -> list[Any]:
    """At most `limit` coverage cases: the boundaries first, then a seeded sample of the rest.

    Schemathesis makes hundreds of cases for a rich operation; boundaries (minimum, maximum,
    longest, ...) of valid inputs are kept before the others because that is where a server
    most often fails, and the same seed picks the same sample.
    """
    if len(cases) <= limit:
        return cases
    boundaries = [i for i, case in enumerate(cases)
                  if _description(case).startswith(_BOUNDARY_PREFIXES)][: limit // 2]
    rest = [i for i in range(len(cases)) if i not in set(boundaries)]
    chosen = set(boundaries) | set(rng.sample(rest, limit - len(boundaries)))
    return [cases[i] for i in sorted(chosen)]
