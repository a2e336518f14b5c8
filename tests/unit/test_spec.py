"""Tests that catch a broken openapi.yaml before the mock or a partner's tool does."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from openapi_spec_validator import validate as validate_spec

ROOT = Path(__file__).resolve().parents[2]
SPEC = yaml.safe_load((ROOT / "openapi.yaml").read_text(encoding="utf-8"))
DOCUMENTS = ROOT / "fixtures" / "documents"
METHODS = ("get", "post", "put", "patch", "delete")

# Every operation the two documents describe (plus the ones the issue adds), by method and path.
DOCUMENTED_OPERATIONS = {
    ("get", "/v1/events"), ("post", "/v1/events"), ("get", "/v1/events/{id}"),
    ("patch", "/v1/events/{id}"), ("post", "/v1/events/{id}/cancel"),
    ("post", "/v1/events/{id}/duplicate"), ("get", "/v1/events/mine"),
    ("get", "/v1/events/{id}/subscribers"), ("post", "/v1/events/{id}/subscribers"),
    ("patch", "/v1/events/{id}/subscribers/{user}"),
    ("delete", "/v1/events/{id}/subscribers/{user}"),
    ("get", "/v1/events/{id}/subscribers/me"), ("get", "/v1/users/search_user_by_external_id"),
    ("get", "/v1/auth/me"), ("post", "/v2/upload"), ("put", "/v2/activities/{token}"),
    ("get", "/v2/activities/{token}"), ("get", "/v2/activities"),
}


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, item[method])
        for path, item in SPEC["paths"].items()
        for method in METHODS
        if method in item
    ]


def schema_validator(schema: dict[str, Any]) -> OAS30Validator:
    """A validator whose `#/components/...` references resolve inside the spec."""
    return OAS30Validator({**schema, "components": SPEC["components"]},
                          format_checker=oas30_format_checker)




def node_ref(ref: str) -> list[str]:
    return [p.replace("~1", "/") for p in ref[2:].split("/")]


def deref(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = SPEC
        for part in node_ref(node["$ref"]):
            target = target[part]
        node = target
    return node


def test_spec_is_valid_openapi_3_0_3() -> None:
    assert SPEC["openapi"] == "3.0.3"
    validate_spec(SPEC)


def test_every_documented_operation_is_present() -> None:
    present = {(method, path) for method, path, _ in operations()}
    assert DOCUMENTED_OPERATIONS <= present
    ids = [op["operationId"] for _, _, op in operations()]
    assert len(ids) == len(set(ids)), "operationIds must be unique"


@pytest.mark.parametrize(
    ("path", "name"),
    [("/v1/events", n) for n in ("latitude", "longitude", "sport", "start_date", "end_date",
                                  "distance", "age_min", "age_max", "level[]", "page",
                                  "X-Desired-Limit")]
    + [("/v1/events/mine", n) for n in ("type", "event", "page", "X-Desired-Limit")]
    + [("/v1/users/search_user_by_external_id", n) for n in ("external_id", "type")],
)
def test_documented_parameters_are_present(path: str, name: str) -> None:
    params = [deref(p) for p in SPEC["paths"][path]["get"].get("parameters", [])]
    assert name in {p["name"] for p in params}


def test_error_codes_and_security() -> None:
    for method, path, op in operations():
        codes = set(op["responses"])
        public = (method, path) == ("get", "/v1/events")
        assert {"400", "401", "500"} <= codes, (method, path)
        if not public:
            assert "498" in codes, (method, path)
            assert op["security"] == [{"ApiKey": [], "BearerAuth": []}], (method, path)
        else:
            assert op["security"] == [{"ApiKey": []}]
        if "requestBody" in op:
            assert {"415", "422"} <= codes, (method, path)
        for code, response in op["responses"].items():
            if code.startswith(("4", "5")):
                schema = deref(response)["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, (method, path, code)
    assert "413" in SPEC["paths"]["/v2/upload"]["post"]["responses"]
    for code in ("400", "401", "403", "404", "405", "413", "415", "422", "498", "500"):
        assert code in SPEC["info"]["description"]


def test_every_operation_has_request_and_response_examples() -> None:
    for method, path, op in operations():
        success = [c for c in op["responses"] if c.startswith("2")]
        assert success, (method, path)
        for code in success:
            media = deref(op["responses"][code])["content"]["application/json"]
            assert media.get("examples") or media.get("example"), (method, path, code)
        body = op.get("requestBody", {}).get("content", {}).get("application/json")
        if body is not None:
            assert body.get("examples"), (method, path)


def iter_examples() -> list[tuple[str, dict[str, Any], Any]]:
    found = []
    for method, path, op in operations():
        for media_type, media in op.get("requestBody", {}).get("content", {}).items():
            for name, example in (media.get("examples") or {}).items():
                found.append((f"{method} {path} request {media_type} {name}", media["schema"],
                              deref(example)["value"]))
        for code, response in op["responses"].items():
            for media in (deref(response).get("content") or {}).values():
                for name, example in (media.get("examples") or {}).items():
                    found.append((f"{method} {path} {code} {name}", media["schema"],
                                  deref(example)["value"]))
                if "example" in media:
                    found.append((f"{method} {path} {code} example", media["schema"],
                                  media["example"]))
    for path, item in SPEC["paths"].items():
        for param in item.get("parameters", []):
            param = deref(param)
            if "example" in param:
                found.append((f"{path} parameter {param['name']}", param["schema"],
                              param["example"]))
    return found


EXAMPLES = iter_examples()


@pytest.mark.parametrize(("where", "schema", "value"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_example_validates_against_its_schema(where: str, schema: dict, value: Any) -> None:
    errors = [e.message for e in schema_validator(schema).iter_errors(value)]
    assert errors == [], where


def test_a_broken_example_is_caught() -> None:
    """The example check can fail: a wrong type in a documented event is reported."""
    _, schema, value = next(e for e in EXAMPLES if e[0].startswith("get /v1/events/{id} 200"))
    broken = json.loads(json.dumps(value))
    broken["data"]["slots"] = "seven"
    assert list(schema_validator(schema).iter_errors(broken))


INDEX = json.loads((DOCUMENTS / "index.json").read_text(encoding="utf-8"))["examples"]


def operation_by_id(operation_id: str) -> dict[str, Any]:
    return next(op for _, _, op in operations() if op["operationId"] == operation_id)


@pytest.mark.parametrize("entry", INDEX, ids=[e["file"] for e in INDEX])
def test_documents_examples_validate_against_the_spec(entry: dict[str, Any]) -> None:
    value = json.loads((DOCUMENTS / entry["file"]).read_text(encoding="utf-8"))
    op = operation_by_id(entry["operationId"])
    if entry["direction"] == "request":
        schema = op["requestBody"]["content"]["application/json"]["schema"]
    else:
        response = deref(op["responses"][str(entry["status"])])
        schema = response["content"]["application/json"]["schema"]
    errors = [f"{list(e.absolute_path)}: {e.message}"
              for e in schema_validator(schema).iter_errors(value)]
    assert errors == [], entry["file"]


def link_targets(operation_id: str, status: str) -> set[str]:
    links = operation_by_id(operation_id)["responses"][status]["links"]
    return {deref(link)["operationId"] for link in links.values()}


def test_links_chain_the_lifecycles() -> None:
    assert link_targets("createEvent", "201") >= {
        "getEvent", "patchEvent", "cancelEvent", "duplicateEvent", "listSubscribers",
        "addSubscriber"}
    assert link_targets("addSubscriber", "201") >= {"updateSubscriber", "removeSubscriber"}
    assert link_targets("listActivities", "200") >= {"getActivity", "updateActivity"}
    ids = {op["operationId"] for _, _, op in operations()}
    for _, _, op in operations():
        for response in op["responses"].values():
            for link in deref(response).get("links", {}).values():
                assert deref(link)["operationId"] in ids


def test_no_link_leads_to_my_subscription() -> None:
    """`me` answers 200 only to a subscriber, whom no response can name as the caller: a link
    to it would not hold when an owner adds someone else (DECISIONS.md, Subscribers)."""
    for _, _, op in operations():
        for response in op["responses"].values():
            for link in deref(response).get("links", {}).values():
                assert deref(link)["operationId"] != "getMySubscription", op["operationId"]


def test_servers_keep_both_real_prefixes_reachable_on_one_mock_host() -> None:
    """Each API under its real prefix on the mock, and both at the mock's root, as written."""
    for path, item in SPEC["paths"].items():
        urls = [s["url"] for s in item["servers"]]
        if path.startswith("/v1/"):
            assert urls == ["https://api-eu.decathlon.net/activities",
                            "http://localhost:8000/activities", "http://localhost:8000"]
        else:
            assert urls == ["https://api.decathlon.net/sportstrackingdata",
                            "http://localhost:8000/sportstrackingdata", "http://localhost:8000"]
    assert [s["url"] for s in SPEC["servers"]][-1] == "http://localhost:8000"


def test_enumerations_and_formats_from_the_documents() -> None:
    schemas = SPEC["components"]["schemas"]
    assert schemas["Level"]["enum"] == [5, 10, 20]
    assert schemas["EventStatus"]["enum"] == ["PUBLISHED", "PENDING", "CANCELED"]
    assert schemas["UserType"]["enum"] == ["FED", "DKTCONNECT"]
    mine = deref(SPEC["paths"]["/v1/events/mine"]["get"]["parameters"][0])
    assert mine["schema"]["enum"] == ["created", "subscribed"]
    pattern = re.compile(schemas["DateTime"]["pattern"])
    assert pattern.match("2018-07-21T17:32:28Z")
    assert not pattern.match("2018-07-21T17:32:28.123Z")
    assert not pattern.match("2018-07-21T17:32:28+02:00")
    assert pattern.match("2018-07-21T17:32:28+00:00")  # UTC as generated clients write it
    assert schemas["Level"]["x-enum-varnames"] == ["BEGINNER", "GOOD", "EXPERT"]
    limit = SPEC["components"]["parameters"]["DesiredLimit"]["schema"]
    assert (limit["minimum"], limit["maximum"], limit["default"]) == (1, 100, 25)
