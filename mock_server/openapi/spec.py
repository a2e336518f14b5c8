"""Loads `openapi.yaml` once and indexes its operations by operationId.

Everything the mock knows about paths, parameters, bodies, security and responses comes from
here, so that the spec stays the single source of truth: adding a parameter to the spec makes
the mock validate it without touching handler code.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
MOCK_HOST = "localhost"


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str  # path | query | header
    required: bool
    schema: dict[str, Any]
    explode: bool = True

    @property
    def is_array(self) -> bool:
        return self.schema.get("type") == "array"


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str  # upper case
    path: str  # as in the spec, relative to the API root: /v1/events/{id}
    mount: str  # the API root on the mock: /activities
    #: Every API root the mock serves this operation under, from its localhost servers: the
    #: mount, then "" when a ``http://localhost:8000`` entry serves the path as written.
    roots: tuple[str, ...]
    parameters: tuple[Parameter, ...]
    body_required: bool
    body_schemas: Mapping[str, dict[str, Any]]  # media type -> schema
    responses: Mapping[str, Mapping[str, Any]]  # status -> dereferenced response object
    needs_api_key: bool
    needs_bearer: bool
    tags: tuple[str, ...] = field(default=())

    @property
    def mock_path(self) -> str:
        """The path this operation has on the mock under its mount (mount + spec path)."""
        return self.mount + self.path

    @property
    def mock_paths(self) -> tuple[str, ...]:
        """Every path the mock serves this operation at, the mounted one first."""
        return tuple(root + self.path for root in self.roots)

    def api_path(self, request_path: str) -> str:
        """A request path of this operation relative to the API root it came through.

        ``/activities/v1/events`` and ``/v1/events`` are both ``/v1/events``: pagination links
        keep the documented form whichever root the client used.
        """
        for root in self.roots:
            if root and request_path.startswith(root + "/"):
                return request_path[len(root):]
        return request_path

    def response_schema(self, status: int) -> dict[str, Any] | None:
        response = self.responses.get(str(status)) or self.responses.get(f"{str(status)[0]}XX")
        if response is None:
            response = self.responses.get("default")
        if response is None:
            return None
        content = response.get("content") or {}
        media = content.get("application/json")
        return None if media is None else media.get("schema")


@dataclass(frozen=True)
class Spec:
    document: dict[str, Any]
    operations: Mapping[str, Operation]
    mounts: tuple[str, ...]

    def operation(self, operation_id: str) -> Operation:
        return self.operations[operation_id]

    def error_schema(self) -> dict[str, Any]:
        return dereference(self.document["components"]["schemas"]["Error"], self.document)


def default_spec_path() -> Path:
    """The repository's openapi.yaml; a packaged copy when installed without the sources."""
    repo_copy = Path(__file__).resolve().parents[2] / "openapi.yaml"
    if repo_copy.exists():
        return repo_copy
    return Path(str(resources.files("mock_server").joinpath("openapi.yaml")))


def resolve_pointer(document: Mapping[str, Any], ref: str) -> Any:
    if not ref.startswith("#/"):
        raise ValueError(f"only local references are supported, got {ref!r}")
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def dereference(node: Any, document: Mapping[str, Any], _seen: tuple[str, ...] = ()) -> Any:
    """A deep copy of `node` with every local `$ref` replaced by its target.

    The spec has no recursive schemas; a cycle would be a spec bug, reported loudly.
    """
    if isinstance(node, dict):
        if "$ref" in node:
            ref = node["$ref"]
            if ref in _seen:
                raise ValueError(f"recursive reference {ref}")
            return dereference(resolve_pointer(document, ref), document, (*_seen, ref))
        return {key: dereference(value, document, _seen) for key, value in node.items()}
    if isinstance(node, list):
        return [dereference(item, document, _seen) for item in node]
    return copy.copy(node)


def _roots_of(servers: list[dict[str, Any]]) -> tuple[str, ...]:
    """The API roots the mock serves a path under: the paths of its localhost server entries,
    the mount (a non-empty path) first, then "" for an entry that serves the path as written."""
    roots = [urlparse(server["url"]).path.rstrip("/") for server in servers
             if urlparse(server["url"]).hostname == MOCK_HOST]
    if not roots:
        raise ValueError(f"no {MOCK_HOST} server among {servers!r}")
    return tuple(sorted(dict.fromkeys(roots), key=lambda root: root == ""))


def _parameters(raw: list[dict[str, Any]], document: Mapping[str, Any]) -> list[Parameter]:
    parameters = []
    for item in raw:
        item = dereference(item, document)
        parameters.append(
            Parameter(
                name=item["name"],
                location=item["in"],
                required=bool(item.get("required", False)),
                schema=item.get("schema", {}),
                explode=bool(item.get("explode", item["in"] == "query")),
            )
        )
    return parameters


def build_spec(document: dict[str, Any]) -> Spec:
    operations: dict[str, Operation] = {}
    mounts: list[str] = []
    global_security = document.get("security", [])
    served: dict[tuple[str, str], str] = {}
    for path, item in document["paths"].items():
        roots = _roots_of(item.get("servers") or document.get("servers", []))
        mount = roots[0]
        if mount not in mounts:
            mounts.append(mount)
        shared = _parameters(item.get("parameters", []), document)
        for method in HTTP_METHODS:
            if method not in item:
                continue
            raw = item[method]
            own = _parameters(raw.get("parameters", []), document)
            own_keys = {(p.name, p.location) for p in own}
            merged = [p for p in shared if (p.name, p.location) not in own_keys] + own
            body = dereference(raw.get("requestBody", {}), document)
            security = raw.get("security", global_security)
            schemes = [set(requirement) for requirement in security]
            operations[raw["operationId"]] = Operation(
                operation_id=raw["operationId"],
                method=method.upper(),
                path=path,
                mount=mount,
                roots=roots,
                parameters=tuple(merged),
                body_required=bool(body.get("required", False)),
                body_schemas={
                    media: media_object.get("schema", {})
                    for media, media_object in (body.get("content") or {}).items()
                },
                responses={
                    status: dereference(response, document)
                    for status, response in raw.get("responses", {}).items()
                },
                needs_api_key=bool(schemes) and all("ApiKey" in s for s in schemes),
                needs_bearer=bool(schemes) and all("BearerAuth" in s for s in schemes),
                tags=tuple(raw.get("tags", ())),
            )
            for mock_path in operations[raw["operationId"]].mock_paths:
                # Two APIs sharing one root must not share a path: a request would be either.
                other = served.setdefault((method.upper(), mock_path), raw["operationId"])
                if other != raw["operationId"]:
                    raise ValueError(f"{method.upper()} {mock_path} is both {other} and "
                                     f"{raw['operationId']} on the mock")
    return Spec(document=document, operations=operations, mounts=tuple(mounts))


@lru_cache(maxsize=4)
def load_spec(path: str | None = None) -> Spec:
    """Parse and index the spec; cached, because every app and test reuses the same file."""
    spec_path = Path(path) if path else default_spec_path()
    with spec_path.open(encoding="utf-8") as handle:
        # libyaml's parser when PyYAML has it: 10x faster than the pure-Python one (~0.3 s of
        # the mock's start-up otherwise); both build the same plain dicts, lists and scalars.
        document = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return build_spec(document)
