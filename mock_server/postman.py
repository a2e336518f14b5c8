"""`mock-server postman`: a Postman collection made from openapi.yaml, and an environment.

A command rather than a committed file, for two reasons. The environment needs a bearer token,
which only the mock's secret can sign and which expires, so it is minted when asked for. And
the collection is converted from the spec at each call, so it can never drift from it.

The converter is Postman's own (`openapi-to-postmanv2`, the code behind Postman's "Import"),
pinned in tools/package-lock.json and installed there by tools/install.sh (`npm ci`, once). Its
output is used as it is, with two fix-ups for known limits of the converter:

- Postman keeps one auth per request, so of a security requirement that lists both
  `ApiKey` and `BearerAuth` (every operation but `GET /v1/events`) the converter keeps the
  first scheme only (postmanlabs/openapi-to-postman#465). The other one is added as a header
  with its variable: `Authorization: Bearer {{bearerToken}}`.
- A file part of a multipart body gets no file, and the spec's comma-separated list of
  accepted part types (`encoding.contentType`, valid OpenAPI) is copied as if it were one
  media type. The upload request gets `photo.jpg`, written beside the collection, and Postman
  sets the part's type from the file, as a client would.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from datetime import timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

from mock_server.fixture_tokens import UnknownFixtureUser, fixture_token
from mock_server.openapi.spec import Operation, Spec, default_spec_path, load_spec
from mock_server.settings import DEFAULT_API_KEY

TOOLS = Path(__file__).resolve().parents[1] / "tools"
COLLECTION = "decathlon-mock.postman_collection.json"
ENVIRONMENT = "decathlon-mock.postman_environment.json"
PHOTO = "photo.jpg"
#: Request values from the spec's examples; optional parameters listed but left unticked, so
#: each request is the documented one; one folder per tag, in the spec's order.
CONVERTER_OPTIONS = ("parametersResolution=Example,folderStrategy=Tags,"
                     "enableOptionalParameters=false")
DEFAULT_TTL = timedelta(days=7)
#: Each security scheme: the Postman auth type the converter gives it, and the header (with its
#: variable) that carries it when the request's one auth is the other scheme.
SCHEMES = {"ApiKey": ("apikey", "X-Api-Key", "{{apiKey}}"),
           "BearerAuth": ("bearer", "Authorization", "Bearer {{bearerToken}}")}


class ToolMissing(RuntimeError):
    """The converter is not installed and cannot be: no npm, or `npm ci` failed."""


def converter(tools: Path = TOOLS) -> Path:
    """The converter's command, installed from the lock file first (tools/install.sh)."""
    command = tools / "node_modules" / ".bin" / "openapi2postmanv2"
    installer = tools / "install.sh"
    if shutil.which("npm") is None or not installer.exists():
        raise ToolMissing(f"openapi-to-postmanv2 needs Node.js and npm, and {installer} (a "
                          "clone of the repository)")
    done = subprocess.run(["bash", str(installer)], capture_output=True, text=True)
    if done.returncode != 0 or not command.exists():
        raise ToolMissing(f"{installer} failed:\n{done.stdout}{done.stderr}")
    return command


def convert(spec_path: Path, command: Path) -> dict[str, Any]:
    """The converter's collection for `spec_path`, as it made it."""
    with tempfile.TemporaryDirectory(prefix="mock-server-postman-") as tmp:
        out = Path(tmp) / "collection.json"
        done = subprocess.run([str(command), "-s", str(spec_path), "-o", str(out),
                               "-O", CONVERTER_OPTIONS], capture_output=True, text=True)
        if done.returncode != 0 or not out.exists():
            raise ToolMissing(f"openapi-to-postmanv2 failed:\n{done.stdout}{done.stderr}")
        collection: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
        return collection


def requests_of(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every request item of a collection, folders flattened, in run order."""
    for item in items:
        if "item" in item:
            yield from requests_of(item["item"])
        else:
            yield item


def operation_of(request: dict[str, Any], spec: Spec) -> Operation:
    """The spec operation a converted request was made from (`:id` is `{id}`)."""
    segments = [f"{{{s[1:]}}}" if s.startswith(":") else s for s in request["url"]["path"]]
    path, method = "/" + "/".join(segments), request["method"].upper()
    for operation in spec.operations.values():
        if (operation.method, operation.path) == (method, path):
            return operation
    raise ValueError(f"the converter made {method} {path}, which openapi.yaml does not have")


def adapt(collection: dict[str, Any], spec: Spec, *, base_url: str) -> dict[str, Any]:
    """The converter's collection with the two fix-ups (module docstring), for `base_url`."""
    for item in requests_of(collection["item"]):
        request = item["request"]
        operation = operation_of(request, spec)
        kept = (request.get("auth") or {}).get("type")
        headers = request.setdefault("header", [])
        needed = {"ApiKey": operation.needs_api_key, "BearerAuth": operation.needs_bearer}
        for scheme, (auth_type, name, value) in SCHEMES.items():
            if needed[scheme] and kept != auth_type:
                headers.append({"key": name, "value": value,
                                "description": f"{scheme}: Postman keeps one auth a request"})
        for part in (request.get("body") or {}).get("formdata", []):
            if part.get("type") == "file":
                part["src"] = PHOTO
                part.pop("contentType", None)
    collection["variable"] = [
        {"key": "baseUrl", "value": base_url.rstrip("/"),
         "description": "The mock's root: it serves /v1/... and /v2/... as the spec writes them."},
        {"key": "apiKey", "value": "", "description": "X-Api-Key (the environment sets it)"},
        {"key": "bearerToken", "value": "", "description": "The bearer token (environment)"},
    ]
    return collection


def environment(*, base_url: str, api_key: str, token: str, name: str) -> dict[str, Any]:
    """A Postman environment with the three variables the collection uses."""
    def value(key: str, text: str, kind: str = "default") -> dict[str, Any]:
        return {"key": key, "value": text, "type": kind, "enabled": True}

    return {"id": str(uuid.uuid4()), "name": name,
            "values": [value("baseUrl", base_url.rstrip("/")),
                       value("apiKey", api_key, "secret"),
                       value("bearerToken", token, "secret")],
            "_postman_variable_scope": "environment"}


def photo_bytes() -> bytes:
    """A small real JPEG (the upload checks the magic bytes) for the upload request."""
    from PIL import Image

    buffer = BytesIO()
    Image.new("RGB", (64, 64), (0, 130, 195)).save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def add_postman_parser(commands: Any) -> None:
    postman = commands.add_parser(
        "postman", help="write a Postman collection made from openapi.yaml and an environment "
                        "(key, fresh token) for a mock at --url")
    postman.add_argument("--out", default="postman", help="directory to write (default postman)")
    postman.add_argument("--url", "--base-url", dest="base_url", default="http://127.0.0.1:8000",
                         help="the mock's root URL, the same --url as `mock-server admin` "
                              "(default http://127.0.0.1:8000)")
    postman.add_argument("--api-key", default=DEFAULT_API_KEY,
                         help=f"the X-Api-Key value (default {DEFAULT_API_KEY})")
    postman.add_argument("--user", default=None,
                         help="whose token: user uuid or external id (default John D)")
    postman.add_argument("--ttl-seconds", "--ttl", dest="ttl", type=int,
                         default=int(DEFAULT_TTL.total_seconds()),
                         help="seconds the token stays valid, as `mock-server token "
                              "--ttl-seconds` (default 7 days)")
    postman.add_argument("--seed", type=int, default=None,
                         help="the mock's --seed, if you changed it")
    postman.add_argument("--token-secret", default=None,
                         help="the mock's --token-secret, if you changed it")


def run_postman(args: argparse.Namespace) -> int:
    try:
        user, token = fixture_token(args.user, seed=args.seed, token_secret=args.token_secret,
                                    ttl=timedelta(seconds=args.ttl))
        spec_path = default_spec_path()
        collection = adapt(convert(spec_path, converter()), load_spec(str(spec_path)),
                           base_url=args.base_url)
    except (UnknownFixtureUser, ToolMissing) as exc:
        print(f"mock-server: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    env = environment(base_url=args.base_url, api_key=args.api_key, token=token,
                      name=f"Decathlon mock ({args.base_url}, {user.name})")
    (out / COLLECTION).write_text(json.dumps(collection, indent=2) + "\n", encoding="utf-8")
    (out / ENVIRONMENT).write_text(json.dumps(env, indent=2) + "\n", encoding="utf-8")
    (out / PHOTO).write_bytes(photo_bytes())
    count = sum(1 for _ in requests_of(collection["item"]))
    print(f"mock-server: {out / COLLECTION}: {count} requests made from {spec_path.name}")
    print(f"mock-server: {out / ENVIRONMENT}: baseUrl {args.base_url}, apiKey, bearerToken of "
          f"{user.name} ({user.id}) valid {args.ttl} s")
    print(f"mock-server: {out / PHOTO}: the upload request's file")
    print(f"mock-server: newman run {out / COLLECTION} -e {out / ENVIRONMENT} "
          f"--working-dir {out}")
    return 0
