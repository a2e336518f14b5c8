"""schemathesis.toml, openapi.yaml and the mock say the same rules.

The configuration holds only what a schema cannot say (DECISIONS.md, Tools); these tests keep
it in step with the spec it complements and with the mock it is run against, so that a rule
added to one without the others fails here rather than as a puzzling schemathesis run.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import yaml
from hypothesis import given
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig

from mock_server.api.auth import Tokens
from mock_server.domain.activities.fields import NON_BLANK_PATTERN, FieldInvalid, read_text
from mock_server.domain.clock import SystemClock
from mock_server.openapi.validation import CompiledSchema
from mock_server.settings import DEFAULT_API_KEY, DEFAULT_TOKEN_SECRET

ROOT = Path(__file__).resolve().parents[2]
CONFIG = SchemathesisConfig.from_path(ROOT / "schemathesis.toml")
SCHEMA = schemathesis.openapi.from_path(ROOT / "openapi.yaml", config=CONFIG)
SPEC = yaml.safe_load((ROOT / "openapi.yaml").read_text(encoding="utf-8"))
SCHEMAS = SPEC["components"]["schemas"]
DOCUMENTED_SUBSCRIBER = "4c68165b-3869-4c22-8098-a4a429c97509"
GENERIC_422 = "#/components/responses/UnprocessableEntity"


def operations() -> list[Any]:
    return [result.ok() for result in SCHEMA.get_all_operations()]


def documented_422(operation: Any) -> str:
    """The 422 response an operation refers to (none: it has no 422 at all, no rule)."""
    return str(operation.definition.raw["responses"].get("422", {}).get("$ref", GENERIC_422))


def accepted_for_valid_requests(operation: Any) -> list[str]:
    checks = CONFIG.projects.default.checks_config_for(operation=operation, phase="fuzzing")
    return checks.positive_data_acceptance.expected_statuses


@pytest.mark.parametrize("operation", operations(), ids=lambda op: op.definition.raw["operationId"])
def test_422_is_accepted_for_a_valid_request_exactly_where_the_spec_documents_a_rule(
        operation: Any) -> None:
    """A 422 response other than the generic one names a rule beyond the schema; only there
    may a request the schema allows be refused with 422."""
    documented = documented_422(operation)
    accepted = accepted_for_valid_requests(operation)
    assert ("422" in accepted) == (documented != GENERIC_422), operation.label
    # Otherwise schemathesis' own list: the configuration adds 422 and nothing else.
    assert set(accepted) - {"422"} == {"2xx", "3xx", "401", "403", "404", "409", "429", "5xx"}


def test_every_rule_response_says_its_rules() -> None:
    responses = SPEC["components"]["responses"]
    rules = {documented_422(op).rsplit("/", 1)[1] for op in operations()}
    rules.discard("UnprocessableEntity")
    assert rules == {"EventRulesBroken", "EventChangeRefused", "CancelRefused",
                     "SubscriptionRefused", "SubscriptionChangeRefused", "UploadRefused"}
    for name in rules:
        assert len(responses[name]["description"]) > 80, name
        assert responses[name]["content"]["application/json"]["example"]["code"] == 422


def test_the_stateful_phase_follows_the_specs_links_only() -> None:
    assert CONFIG.projects.default.phases.stateful.inference.algorithms == []


def test_the_credentials_are_the_mocks_development_ones() -> None:
    schemes = CONFIG.projects.default.auth.openapi.schemes
    assert schemes["ApiKey"].api_key == DEFAULT_API_KEY
    claims = Tokens(DEFAULT_TOKEN_SECRET, SystemClock()).verify(
        f"Bearer {schemes['BearerAuth'].bearer}")
    assert (claims.user_id, claims.user_type) == (DOCUMENTED_SUBSCRIBER, "DKTCONNECT")
    assert claims.expires_at is not None
    # A year's notice: mint a new one as the file says before this starts failing.
    assert claims.expires_at > datetime.now(UTC) + timedelta(days=365)


def test_required_texts_carry_the_domains_non_blank_pattern() -> None:
    texts = [SCHEMAS["EventCreate"]["properties"]["title"],
             SCHEMAS["EventCreate"]["properties"]["description"],
             SCHEMAS["Child"]["properties"]["name"]]
    assert {text["pattern"] for text in texts} == {NON_BLANK_PATTERN}


TITLE = CompiledSchema(SCHEMAS["EventCreate"]["properties"]["title"])


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=8)
       | st.sampled_from([" ", "\u001d", "\x85", "\ufeff", "\u2028", "\x1c a"]))
def test_the_mocks_validator_and_its_domain_agree_on_every_title(text: str) -> None:
    """What the spec allows, the domain accepts; what the domain refuses as blank, the spec
    refuses too (an empty string is the schema's `minLength`)."""
    try:
        read_text("title", text)
        domain_accepts = True
    except FieldInvalid:
        domain_accepts = False
    assert (not TITLE.iter_errors(text)) == domain_accepts
    assert bool(re.search(NON_BLANK_PATTERN, text)) == domain_accepts
