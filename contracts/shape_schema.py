"""The spec as schemathesis loads it: the checks, what each asserts, what a valid request may get.

Also which of schemathesis' coverage cases a run keeps (`bounded_coverage_cases`).

One loader for every schemathesis run of this repository: the kit's shape phases
(`shape.ShapeRunner`) and `tests/app/test_schemathesis.py` both call `build_schema`, and it
reads the repository's `schemathesis.toml`, the file plain `schemathesis run` finds by itself.
So the documented rules a request the schema allows may meet (the operations whose 422 names a
business rule, each with its citation), and the links the stateful phase follows (the spec's
own, none inferred), are written once, for vanilla schemathesis, the kit and the tests.
"""

from __future__ import annotations

import random
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .spec import ApiName, Spec

__all__ = [
    "SHAPE_CITES",
    "SHAPE_PHASES",
    "SHAPE_RULES",
    "RULES_PATH",
    "VALID_REQUEST_STATUSES",
    "bounded_coverage_cases",
    "build_schema",
    "enabled_checks",
    "load_rules",
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
#: why each status is not the server's fault: schemathesis' defaults, written out so the
#: reasons are next to them (a test holds them equal to schemathesis' own list). The
#: operations whose documented 422 names a business rule add "422" in schemathesis.toml.
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
#: The documented rules: schemathesis.toml beside openapi.yaml (see its comments).
RULES_PATH = Path(__file__).resolve().parent.parent / "schemathesis.toml"


def load_rules(*, path: Path = RULES_PATH, seed: int | None = None,
               max_examples: int | None = None,
               credentials: Mapping[str, str] | None = None) -> Any:
    """schemathesis.toml as schemathesis' own configuration, with this run's seed, example
    count and credentials (the file's are the mock's development ones: a run brings its own,
    or none, when the kit sends credentials with each request itself)."""
    from schemathesis.config import SchemathesisConfig

    data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    data.pop("auth", None)
    if credentials:
        auth: dict[str, Any] = {}
        if credentials.get("api_key"):
            auth["ApiKey"] = {"api_key": credentials["api_key"]}
        if credentials.get("bearer"):
            auth["BearerAuth"] = {"bearer": credentials["bearer"]}
        data["auth"] = {"openapi": auth}
    if seed is not None:
        data["seed"] = seed
    if max_examples is not None:
        data.setdefault("generation", {})["max-examples"] = max_examples
    return SchemathesisConfig.from_dict(data)


def build_schema(spec: Spec, urls: Mapping[ApiName, str], *, seed: int | None = None,
                 max_examples: int | None = None,
                 credentials: Mapping[str, str] | None = None) -> Any:
    """A schemathesis schema of the spec, each API pointed at its root in `urls`.

    `credentials` (`api_key`, `bearer`) go into schemathesis' own auth configuration, for a
    plain schemathesis test; the kit's runner sends them per request instead (tokens from a
    command may be refreshed during a run).
    """
    import schemathesis

    config = load_rules(seed=seed, max_examples=max_examples, credentials=credentials)
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
