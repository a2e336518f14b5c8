"""`mock-server postman`'s own part: the fix-ups of the converter's collection, the
environment, and what it says without npm. The converter itself runs in tests/tools."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mock_server.openapi.spec import load_spec
from mock_server.postman import PHOTO, adapt, environment, requests_of
from tests.conftest import ROOT

SPEC = load_spec()


def converted(method: str, path: list[str], auth: str, **request: Any) -> dict[str, Any]:
    """A collection as the converter writes one, with one request."""
    item = {"name": "r", "request": {"method": method, "url": {"path": path},
                                     "auth": {"type": auth}, "header": [], **request}}
    return {"item": [{"name": "folder", "item": [item]}], "variable": []}


def headers_of(collection: dict[str, Any]) -> dict[str, str]:
    request = next(requests_of(collection["item"]))["request"]
    return {h["key"]: h["value"] for h in request["header"]}


def test_the_scheme_postman_dropped_comes_back_as_a_header() -> None:
    collection = adapt(converted("GET", ["v1", "auth", "me"], "apikey"), SPEC,
                       base_url="http://127.0.0.1:9/")
    assert headers_of(collection) == {"Authorization": "Bearer {{bearerToken}}"}
    other_way = adapt(converted("GET", ["v1", "auth", "me"], "bearer"), SPEC, base_url="x")
    assert headers_of(other_way) == {"X-Api-Key": "{{apiKey}}"}
    variables = {v["key"]: v["value"] for v in collection["variable"]}
    assert variables == {"baseUrl": "http://127.0.0.1:9", "apiKey": "", "bearerToken": ""}


def test_the_public_list_keeps_its_key_only() -> None:
    collection = adapt(converted("GET", ["v1", "events"], "apikey"), SPEC, base_url="x")
    assert headers_of(collection) == {}


def test_the_upload_gets_the_photo_and_the_type_of_the_file() -> None:
    part = {"key": "file", "type": "file", "contentType": "image/jpeg, application/gpx+xml"}
    collection = adapt(converted("POST", ["v2", "upload"], "apikey",
                                 body={"mode": "formdata", "formdata": [part]}), SPEC,
                       base_url="x")
    request = next(requests_of(collection["item"]))["request"]
    assert request["body"]["formdata"] == [{"key": "file", "type": "file", "src": PHOTO}]


def test_a_request_the_spec_does_not_have_is_refused() -> None:
    with pytest.raises(ValueError, match="GET /v1/nowhere"):
        adapt(converted("GET", ["v1", "nowhere"], "apikey"), SPEC, base_url="x")


def test_the_environment_holds_the_three_variables() -> None:
    env = environment(base_url="http://127.0.0.1:8000/", api_key="k", token="t", name="n")
    assert env["_postman_variable_scope"] == "environment"
    assert {v["key"]: v["value"] for v in env["values"]} == {
        "baseUrl": "http://127.0.0.1:8000", "apiKey": "k", "bearerToken": "t"}


def test_postman_without_npm_says_what_it_needs(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "mock_server", "postman", "--out",
                           str(tmp_path)], capture_output=True, text=True, cwd=ROOT,
                          env={"PATH": "/nonexistent"}, timeout=60)
    assert done.returncode == 2
    assert "needs Node.js and npm" in done.stderr
    assert not list(tmp_path.iterdir())
