"""The Swagger UI blueprint on a bare Flask app: offline page, same-origin spec, asset types.

A bare app (not `create_app`) keeps these checks about the blueprint alone; the browser test in
`tests/e2e/` covers the page inside the real server.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient

from mock_server.web.swagger import DEVELOPMENT_API_KEY, same_origin_spec, swagger_blueprint

SPEC_PATH = Path(__file__).resolve().parents[2] / "openapi.yaml"
PAGE_URLS = ("/activities/api/swagger", "/activities/api/swagger/")
YAML_URLS = ("/openapi.yaml", "/activities/api/openapi.yaml")
MOUNTS = {"/v1/": "/activities", "/v2/": "/sportstrackingdata"}
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


@pytest.fixture(scope="module")
def spec_document() -> dict[str, Any]:
    with SPEC_PATH.open(encoding="utf-8") as handle:
        document: dict[str, Any] = yaml.safe_load(handle)
    return document


@pytest.fixture()
def client(spec_document: dict[str, Any]) -> Iterator[FlaskClient]:
    app = Flask(__name__)
    app.register_blueprint(swagger_blueprint(spec_document))
    with app.test_client() as client:
        yield client


class _PageParser(HTMLParser):
    """Collects what a browser would load from the page, and any inline script."""

    def __init__(self) -> None:
        super().__init__()
        self.loaded: list[str] = []
        self.inline_scripts: list[str] = []
        self._in_script_without_src = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "script":
            if attributes.get("src"):
                self.loaded.append(attributes["src"] or "")
            else:
                self._in_script_without_src = True
        elif tag == "link" and attributes.get("href"):
            self.loaded.append(attributes["href"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script_without_src = False

    def handle_data(self, data: str) -> None:
        if self._in_script_without_src and data.strip():
            self.inline_scripts.append(data)


def _parse_page(client: FlaskClient, url: str) -> _PageParser:
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    parser = _PageParser()
    parser.feed(response.get_data(as_text=True))
    return parser


@pytest.mark.parametrize("url", PAGE_URLS)
def test_page_loads_only_local_assets(client: FlaskClient, url: str) -> None:
    page = _parse_page(client, url)
    assert any(src.endswith("swagger-ui-bundle.js") for src in page.loaded)
    assert any(href.endswith("swagger-ui.css") for href in page.loaded)
    for reference in page.loaded:
        assert not reference.startswith(("http://", "https://", "//")), reference
        response = client.get(reference)
        assert response.status_code == 200, reference
        response.close()


def test_page_has_no_inline_script_and_a_strict_script_policy(client: FlaskClient) -> None:
    assert _parse_page(client, PAGE_URLS[0]).inline_scripts == []
    policy = client.get(PAGE_URLS[0]).headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy.split("; ")


def test_page_says_where_to_get_the_key_and_a_token(client: FlaskClient) -> None:
    html = client.get(PAGE_URLS[0]).get_data(as_text=True)
    assert DEVELOPMENT_API_KEY in html
    assert "mock-server token" in html
    assert "/activities/api/openapi.json" in html


def test_page_shows_the_key_it_is_given(spec_document: dict[str, Any]) -> None:
    app = Flask(__name__)
    app.register_blueprint(swagger_blueprint(spec_document, api_key_hint="my-team-key"))
    html = app.test_client().get(PAGE_URLS[0]).get_data(as_text=True)
    assert "my-team-key" in html
    assert DEVELOPMENT_API_KEY not in html


def test_spec_json_puts_the_relative_mount_first_on_every_path(
    client: FlaskClient, spec_document: dict[str, Any]
) -> None:
    response = client.get("/activities/api/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    served = response.get_json()
    assert served["servers"][0]["url"] == "/activities"
    assert set(served["paths"]) == set(spec_document["paths"])
    for path, item in served["paths"].items():
        mount = next(mount for prefix, mount in MOUNTS.items() if path.startswith(prefix))
        urls = [server["url"] for server in item["servers"]]
        assert urls[0] == mount, path
        assert urls.count(mount) == 1, path
        assert urls[1] == "/", path  # the mock's root: the spec's paths as written
        assert urls.count("/") == 1, path
        # The real service stays selectable; the mock's absolute self-reference is dropped.
        assert any(url.startswith("https://api") and url.endswith(mount) for url in urls[1:]), path
        assert not any("localhost" in url or "127.0.0.1" in url for url in urls), path


def test_spec_json_keeps_every_operation(
    client: FlaskClient, spec_document: dict[str, Any]
) -> None:
    def operation_ids(document: dict[str, Any]) -> set[str]:
        return {
            item[method]["operationId"]
            for item in document["paths"].values()
            for method in HTTP_METHODS
            if method in item
        }

    assert operation_ids(client.get("/activities/api/openapi.json").get_json()) == operation_ids(
        spec_document
    )


@pytest.mark.parametrize("url", YAML_URLS)
def test_spec_yaml_is_the_same_document(client: FlaskClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "application/yaml"
    assert "&id" not in response.get_data(as_text=True)  # no anchors/aliases in the output
    assert yaml.safe_load(response.get_data(as_text=True)) == json.loads(
        client.get("/activities/api/openapi.json").get_data()
    )


def test_rewrite_neither_mutates_the_input_nor_repeats_itself(
    spec_document: dict[str, Any],
) -> None:
    """The YAML anchors share one servers list between path items: it must stay untouched."""
    before = copy.deepcopy(spec_document)
    once = same_origin_spec(spec_document)
    assert spec_document == before
    assert same_origin_spec(once) == once


@pytest.mark.parametrize(
    ("url", "content_type"),
    [
        ("/activities/api/swagger/static/swagger-ui-bundle.js", "text/javascript"),
        ("/activities/api/swagger/static/swagger-ui.css", "text/css"),
        ("/activities/api/swagger/static/favicon-32x32.png", "image/png"),
        ("/activities/api/swagger/init.js", "text/javascript"),
    ],
)
def test_assets_are_served_with_their_type(
    client: FlaskClient, url: str, content_type: str
) -> None:
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == content_type
    assert len(response.get_data()) > 0
    response.close()


@pytest.mark.parametrize(
    "name",
    [
        "index.html",  # the bundle's demo page
        "swagger-initializer.js",  # would load petstore.swagger.io
        "../__init__.py",
        "nothing-here.js",
    ],
)
def test_other_files_are_not_served(client: FlaskClient, name: str) -> None:
    assert client.get(f"/activities/api/swagger/static/{name}").status_code == 404
