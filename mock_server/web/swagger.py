"""Swagger UI of the mock at `/activities/api/swagger`, served fully offline.

The Sport Activities API documents point partners at a Swagger UI on
`https://api-eu.decathlon.net/activities/api/swagger` "where you can see and try all the
endpoints". The twin offers the same page on the same path, so that a developer who follows the
documents against the mock finds it where they expect, and can try every operation offline:
Swagger UI's JavaScript and CSS come from the PyPI package `swagger-ui-bundle`, never a CDN.

Same-origin "Try it out"
------------------------
The spec lists absolute servers (the real hosts and `http://localhost:8000/...`). A browser page
served from another host or port would call those and hit CORS or the wrong process, so the
served copy is rewritten (`same_origin_spec`): each path item gets its mock mount as a *relative*
server placed first (`/activities` for `/v1/...`, `/sportstrackingdata` for `/v2/...`), then the
mock's root `/` (where it serves the spec's paths as written, `/v1/...` and `/v2/...`), followed
by the real servers, which stay selectable in each operation's "Servers" drop-down. The mock's
own absolute entries (`localhost`, `127.0.0.1`) are dropped: the relative entries are the same
server on whatever port it really listens on.

This relies on Swagger UI 4.15 (the bundle's version) honouring path-item servers. It does:
swagger-client's `oas3BaseUrl` picks operation servers, else path-item servers, else top-level
servers, and uses the first one unless the user chose another in the operation's drop-down; a
relative server URL is resolved against the URL the spec was loaded from. So no
`requestInterceptor` is needed; `tests/e2e/test_swagger_ui.py` checks it in a real browser
(the request URL of an executed call is `http://<page host>/activities/v1/events?...`).

No inline script
----------------
Swagger UI is started by a small script served from this blueprint (not an inline `<script>`),
and the page is sent with a Content-Security-Policy that allows scripts from this origin only.
That keeps the page working for teams that put a strict CSP in front of the mock, and makes the
browser itself refuse any accidental CDN asset.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml
from flask import Blueprint, Response, abort, render_template_string, send_from_directory, url_for
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]  # no stubs

#: The key the mock accepts out of the box; shown on the page so that nobody has to ask for one.
DEVELOPMENT_API_KEY = "aaa-bbb-ccc"

#: Where each API is mounted on the mock, by the version prefix of its paths.
MOUNTS_BY_PATH_PREFIX: Mapping[str, str] = {
    "/v1/": "/activities",
    "/v2/": "/sportstrackingdata",
}

#: Hosts meaning "the mock itself": replaced by the relative server in the served spec.
_SELF_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})

_SAME_ORIGIN_DESCRIPTION = "This mock (same origin as this page)"
#: The mock's root, where it also serves the spec's paths as written (`/v1/...`, `/v2/...`).
#: swagger-client drops a server URL's trailing slash, so "/" + "/v1/events" is `/v1/events`.
_SAME_ORIGIN_ROOT = {"url": "/", "description": "This mock, the paths as written at its root "
                                               "(same origin as this page)"}

_PAGE_TEMPLATE = (Path(__file__).with_name("swagger_page.html")).read_text(encoding="utf-8")

#: Bundle files a browser may ask for, with the type to send them as. An allow-list by suffix,
#: so that the bundle's own `index.html` and petstore `swagger-initializer.js` (which would fetch
#: `petstore.swagger.io`) are not reachable from the mock.
_ASSET_TYPES: Mapping[str, str] = {
    ".js": "text/javascript; charset=utf-8",  # RFC 9239; Python 3.11 would guess otherwise
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".map": "application/json",
}
_HIDDEN_ASSETS = frozenset({"swagger-initializer.js"})

#: Starts Swagger UI. Served as a file so that the page needs no inline script (see module doc).
#: `validatorUrl: null` stops Swagger UI from loading a badge from validator.swagger.io.
_INIT_SCRIPT = """\
// Starts Swagger UI for the mock. Settings come from data-* attributes of #swagger-ui.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.specUrl,
    domNode: root,
    deepLinking: true,
    displayOperationId: true,
    persistAuthorization: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: "BaseLayout"
  });
})();
"""


def mount_of(path: str) -> str | None:
    """The mock mount serving a spec path (`/v1/events` -> `/activities`), None if unknown."""
    for prefix, mount in MOUNTS_BY_PATH_PREFIX.items():
        if path.startswith(prefix):
            return mount
    return None


def _relative_first(mount: str, servers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`mount` as the first server and the mock's root second, then the other servers but the
    mock's absolute ones.

    Idempotent, so that a document the app already rewrote is not given the entries twice.
    """

    def is_mock_itself(url: str) -> bool:
        return url in (mount, _SAME_ORIGIN_ROOT["url"]) or urlparse(url).hostname in _SELF_HOSTS

    kept = [server for server in servers if not is_mock_itself(server.get("url", ""))]
    return [{"url": mount, "description": _SAME_ORIGIN_DESCRIPTION}, dict(_SAME_ORIGIN_ROOT),
            *kept]


def same_origin_spec(spec_document: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the spec whose servers point first at the host that serves it (see module doc).

    Each path item gets a new `servers` list: the YAML anchors of `openapi.yaml` make several
    path items share one list object, which must not be mutated in place.
    """
    served = copy.deepcopy(dict(spec_document))
    top_servers = list(served.get("servers") or [])
    for path, item in (served.get("paths") or {}).items():
        mount = mount_of(path)
        if mount is None or not isinstance(item, dict):
            continue
        item["servers"] = _relative_first(mount, list(item.get("servers") or top_servers))
    served["servers"] = _relative_first(MOUNTS_BY_PATH_PREFIX["/v1/"], top_servers)
    return served


def _json_default(value: Any) -> str:
    """Dates that PyYAML parsed from unquoted examples, written back as ISO 8601 strings."""
    if isinstance(value, dt.date):  # datetime is a date too
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__} in the spec")


class _NoAliasDumper(yaml.SafeDumper):
    """Writes shared objects in full: `&id001` / `*id001` anchors confuse some YAML readers."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    """Multi-line descriptions as `|` blocks, readable like the source file."""
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_NoAliasDumper.add_representer(str, _represent_text)


def _connect_sources(spec: Mapping[str, Any]) -> list[str]:
    """Origins of the absolute servers, which "Try it out" may call when a user selects them."""
    servers = list(spec.get("servers") or [])
    for item in (spec.get("paths") or {}).values():
        if isinstance(item, dict):
            servers.extend(item.get("servers") or [])
    origins: list[str] = []
    for server in servers:
        parsed = urlparse(server.get("url", ""))
        origin = f"{parsed.scheme}://{parsed.netloc}"
        if parsed.scheme in ("http", "https") and parsed.netloc and origin not in origins:
            origins.append(origin)
    return origins


def _content_security_policy(spec: Mapping[str, Any]) -> str:
    """Scripts from this origin only; inline styles are allowed because React sets them."""
    connect = " ".join(["'self'", *_connect_sources(spec)])
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            f"connect-src {connect}",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'self'",
        ]
    )


def swagger_blueprint(
    spec_document: Mapping[str, Any], *, api_key_hint: str = DEVELOPMENT_API_KEY
) -> Blueprint:
    """Blueprint serving Swagger UI, its assets and the same-origin spec (JSON and YAML).

    Routes (absolute, so register it without `url_prefix`):
    `/activities/api/swagger[/]`, `/activities/api/swagger/static/<file>`,
    `/activities/api/swagger/init.js`, `/activities/api/openapi.json`,
    `/activities/api/openapi.yaml` and `/openapi.yaml`.
    These routes need no API key: the page is where a user learns which key to send.

    The spec is rewritten and serialised once here, as it does not change while the app runs.
    `api_key_hint` is the key the page tells users to enter (the app's development key).
    """
    served = same_origin_spec(spec_document)
    spec_json = json.dumps(served, ensure_ascii=False, default=_json_default).encode("utf-8")

    @functools.cache
    def spec_yaml() -> bytes:
        """Written on first request, not at start: PyYAML's dump takes ~0.1 s, a tenth of the
        mock's start-up budget, for a file few clients fetch."""
        return yaml.dump(
            json.loads(spec_json),  # the JSON round trip turns dates into the same strings
            Dumper=_NoAliasDumper,
            sort_keys=False,
            allow_unicode=True,
            width=100,
        ).encode("utf-8")

    csp = _content_security_policy(served)
    title = str((served.get("info") or {}).get("title") or "API")
    assets_dir = str(swagger_ui_path)

    blueprint = Blueprint("swagger_ui", __name__)

    @blueprint.get("/activities/api/swagger")
    @blueprint.get("/activities/api/swagger/")
    def swagger_page() -> Response:
        html = render_template_string(
            _PAGE_TEMPLATE,
            title=title,
            api_key=api_key_hint,
            spec_json_url=url_for(".openapi_json"),
            spec_yaml_url=url_for(".openapi_yaml"),
            init_url=url_for(".init_script"),
            asset=lambda name: url_for(".asset", filename=name),
        )
        response = Response(html, mimetype="text/html")
        response.headers["Content-Security-Policy"] = csp
        return response

    @blueprint.get("/activities/api/swagger/init.js")
    def init_script() -> Response:
        return Response(_INIT_SCRIPT, content_type=_ASSET_TYPES[".js"])

    @blueprint.get("/activities/api/swagger/static/<path:filename>")
    def asset(filename: str) -> Response:
        suffix = Path(filename).suffix
        if suffix not in _ASSET_TYPES or Path(filename).name in _HIDDEN_ASSETS:
            abort(404)
        # send_from_directory refuses paths that leave the directory (`..`, absolute paths).
        response = send_from_directory(assets_dir, filename)
        response.headers["Content-Type"] = _ASSET_TYPES[suffix]
        return response

    @blueprint.get("/activities/api/openapi.json")
    def openapi_json() -> Response:
        return Response(spec_json, content_type="application/json")

    @blueprint.get("/openapi.yaml")
    @blueprint.get("/activities/api/openapi.yaml")  # registered first: the one url_for builds
    def openapi_yaml() -> Response:
        # RFC 9512 registers application/yaml; charset given because the text is UTF-8.
        return Response(spec_yaml(), content_type="application/yaml; charset=utf-8")

    return blueprint
