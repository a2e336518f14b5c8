"""The fast validators (jsonschema-rs) agree with the detailed ones (jsonschema, OAS 3.0).

The mock answers from the fast validator and asks the detailed one only for messages, so a
disagreement would let an invalid request or response through. Both are run here on the
documents' examples, on responses the mock really produces, and on many mutations of each
(every field removed, nulled, retyped; dates and ids made malformed; an unknown field added).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mock_server.app import create_app
from mock_server.openapi.spec import load_spec
from mock_server.openapi.validation import CompiledSchema, compile_validators, to_json_schema

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = ROOT / "fixtures" / "documents"
ODD_VALUES: tuple[Any, ...] = (
    None, "", "x", 0, -1, 1.0, 2.5, True, [], {}, [1], {"a": 1}, 10**30,
    "2018-07-21T17:32:28Z", "2018-07-21T17:32:28Z\n", "2018-13-21T17:32:28Z", "2018-07-21",
    "28cce8e0-2d57-4e54-8888-2fc69690aeeb", "28cce8e0-2d57-4e54-8888", "http://x.y/z",
    "not a url", "a" * 300, 5, 10, 20, "PUBLISHED", "CANCELED", "FED",
)


def mutations(instance: Any, depth: int = 0) -> Iterator[Any]:
    """The instance, then variants that differ in one place."""
    yield instance
    if depth > 3:
        return
    if isinstance(instance, dict):
        yield {**instance, "unknown_field": 1}
        for key, value in instance.items():
            rest = {k: v for k, v in instance.items() if k != key}
            yield rest
            for odd in ODD_VALUES:
                yield {**rest, key: odd}
            for variant in list(mutations(value, depth + 1))[1:8]:
                yield {**rest, key: variant}
    elif isinstance(instance, list) and instance:
        yield []
        yield instance + instance[:1]
        for odd in ODD_VALUES[:8]:
            yield [odd, *instance[1:]]
        for variant in list(mutations(instance[0], depth + 1))[1:20]:
            yield [variant, *instance[1:]]


def agree(schema: CompiledSchema, instance: Any) -> None:
    fast = schema.is_valid(instance)
    detailed = not list(schema.detailed.iter_errors(instance))
    assert fast == detailed, (fast, json.dumps(instance, default=str)[:400])


def examples() -> list[tuple[str, str, int | None, Any]]:
    index = json.loads((DOCUMENTS / "index.json").read_text(encoding="utf-8"))
    found = []
    for entry in index["examples"]:
        body = json.loads((DOCUMENTS / entry["file"]).read_text(encoding="utf-8"))
        found.append((entry["operationId"], entry["direction"], entry.get("status"), body))
    return found


@pytest.mark.parametrize("operation_id, direction, status, body", examples(),
                         ids=lambda value: value if isinstance(value, str) else "")
def test_fast_and_detailed_agree_on_the_documents_examples(
    operation_id: str, direction: str, status: int | None, body: Any
) -> None:
    validator = compile_validators(load_spec())[operation_id]
    if direction == "response":
        schema = validator._responses.get(int(status or 200))
    else:
        schema = validator._bodies.get("application/json")
    if schema is None:
        pytest.skip("no JSON schema")
    for instance in mutations(body):
        agree(schema, instance)


def test_fast_and_detailed_agree_on_real_responses() -> None:
    app = create_app({"SEED": 42, "EVENTS": 300})
    client = app.test_client()
    services = app.extensions["mock_server"]
    user = services.store.get_user("28cce8e0-2d57-4e54-8888-2fc69690aeeb")
    token = app.extensions["mock_server.credentials"].tokens.issue(user.id, user.type)
    headers = {"X-Api-Key": "aaa-bbb-ccc", "Authorization": f"Bearer {token}"}
    validators = compile_validators(load_spec())
    for operation_id, path in [
        ("listEvents", "/activities/v1/events?latitude=50.6292&longitude=3.0573&distance=500"),
        ("getEvent", "/activities/v1/events/2"),
        ("listSubscribers", "/activities/v1/events/2/subscribers"),
        ("getAuthenticatedUser", "/activities/v1/auth/me"),
        ("listActivities", "/sportstrackingdata/v2/activities"),
    ]:
        response = client.get(path, headers=headers)
        assert response.status_code == 200, response.data
        schema = validators[operation_id]._responses[200]
        assert schema is not None
        for instance in mutations(response.json):
            agree(schema, instance)


def test_parameters_agree() -> None:
    for validator in compile_validators(load_spec()).values():
        for _parameter, schema in validator._parameters:
            for value in ODD_VALUES:
                agree(schema, value)


def test_nullable_follows_oas_3_0_3() -> None:
    converted = to_json_schema({"type": "string", "nullable": True, "enum": ["a"]})
    assert converted["type"] == ["string", "null"]
    assert "nullable" not in converted
    schema = CompiledSchema({"type": "string", "nullable": True, "enum": ["a", None]})
    assert schema.is_valid(None) and schema.is_valid("a") and not schema.is_valid("b")
    strict = CompiledSchema({"type": "string", "nullable": True, "enum": ["a"]})
    agree(strict, None)  # an enum must still list null
