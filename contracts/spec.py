"""The contract as data: `openapi.yaml` loaded once, its operations indexed.

The kit knows the two APIs only through this file (never through the mock's code), so the same
checks run against the mock, a staging deployment or production. Everything here is pure: no
HTTP, no schemathesis; `shape.py` hands `for_servers()` to schemathesis and the report uses
`match()` to name the operation behind a recorded URL.
"""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import yaml

__all__ = [
    "API_NAMES",
    "LinkTracker",
    "DEFAULT_SPEC_PATH",
    "ApiName",
    "Link",
    "Operation",
    "Selection",
    "Spec",
    "api_of_path",
]

ApiName = Literal["activities", "tracking"]
#: The two APIs, named as on the command line (`--api activities|tracking`).
API_NAMES: tuple[ApiName, ...] = ("activities", "tracking")

#: The repository's single source of truth; `--spec` overrides it.
DEFAULT_SPEC_PATH = Path(__file__).resolve().parent.parent / "openapi.yaml"

_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
# The documents' own prefixes: `/v1/...` is the Sport Activities API, `/v2/...` the tracking one.
_API_BY_PREFIX: dict[str, ApiName] = {"/v1/": "activities", "/v2/": "tracking"}


def api_of_path(path: str) -> ApiName:
    """Which API a spec path belongs to, by its documented version prefix."""
    for prefix, api in _API_BY_PREFIX.items():
        if path.startswith(prefix):
            return api
    raise ValueError(f"{path!r} belongs to neither API (expected a /v1/ or /v2/ path)")


@dataclass(frozen=True)
class Link:
    """An OpenAPI link: after `source` answers `status`, `target` can be called with its data."""

    source: str
    status: str
    name: str
    target: str
    #: Target parameter -> runtime expression (`$response.body#/data/id`, `$request.path.id`).
    parameters: tuple[tuple[str, str], ...] = ()

    @property
    def label(self) -> str:
        return f"{self.source} -[{self.status} {self.name}]-> {self.target}"


@dataclass(frozen=True)
class Operation:
    """One documented operation, with what the coverage view and selection need."""

    operation_id: str
    method: str
    path: str
    api: ApiName
    tags: tuple[str, ...]
    statuses: tuple[str, ...]
    needs_token: bool
    summary: str = ""

    @property
    def label(self) -> str:
        """`GET /v1/events`, the way schemathesis names operations too."""
        return f"{self.method} {self.path}"

    @property
    def is_safe(self) -> bool:
        """Safe methods change nothing, so `--read-only` may send them to production."""
        return self.method in ("GET", "HEAD", "OPTIONS")

    @cached_property
    def path_regex(self) -> re.Pattern[str]:
        pattern = re.sub(r"\\{([^}]+)\\}", r"(?P<\1>[^/]+)", re.escape(self.path))
        return re.compile(f"^{pattern}$")

    def path_values(self, path: str) -> dict[str, str]:
        """Path parameters of a concrete path of this operation (`{"id": "12"}`)."""
        found = self.path_regex.match(path)
        return found.groupdict() if found else {}


@dataclass(frozen=True)
class Selection:
    """Which operations a run covers (`--api`, `--tag`, `--method`, `--path`, `--read-only`).

    Empty tuples mean "no restriction". Filters combine with AND; values within one filter with
    OR, so `--method GET --method POST` keeps both.
    """

    apis: tuple[ApiName, ...] = ()
    tags: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()
    path_patterns: tuple[str, ...] = ()
    read_only: bool = False

    def __post_init__(self) -> None:
        for api in self.apis:
            if api not in API_NAMES:
                raise ValueError(f"unknown API {api!r}: expected one of {', '.join(API_NAMES)}")
        for pattern in self.path_patterns:
            re.compile(pattern)  # fail loudly on a bad regex, before any request is sent

    def keeps(self, operation: Operation) -> bool:
        if self.apis and operation.api not in self.apis:
            return False
        if self.tags and not {t.lower() for t in self.tags} & {t.lower() for t in operation.tags}:
            return False
        if self.methods and operation.method not in {m.upper() for m in self.methods}:
            return False
        if self.path_patterns and not any(
            re.search(p, operation.path) for p in self.path_patterns
        ):
            return False
        return not (self.read_only and not operation.is_safe)

    def describe(self) -> str:
        parts = []
        if self.apis:
            parts.append("api=" + ",".join(self.apis))
        if self.tags:
            parts.append("tag=" + ",".join(self.tags))
        if self.methods:
            parts.append("method=" + ",".join(m.upper() for m in self.methods))
        if self.path_patterns:
            parts.append("path=" + ",".join(self.path_patterns))
        if self.read_only:
            parts.append("read-only")
        return " ".join(parts) or "all operations"


@dataclass
class Spec:
    """The loaded `openapi.yaml`: the raw document and its operations."""

    raw: dict[str, Any]
    location: str = "openapi.yaml"
    operations: list[Operation] = field(init=False)
    links: list[Link] = field(init=False)

    def __post_init__(self) -> None:
        self.operations = list(self._iter_operations())
        self.links = list(self._iter_links())

    @classmethod
    def load(cls, path: str | Path | None = None) -> Spec:
        """Read the spec (the repository's `openapi.yaml` unless `path` names another)."""
        spec_path = Path(path) if path is not None else DEFAULT_SPEC_PATH
        if not spec_path.is_file():
            raise FileNotFoundError(
                f"OpenAPI document not found at {spec_path}; pass --spec PATH (library: spec=)"
            )
        with spec_path.open(encoding="utf-8") as handle:
            raw = yaml.safe_load(handle)
        return cls(raw=raw, location=str(spec_path))

    def _iter_operations(self) -> Iterator[Operation]:
        global_security = self.raw.get("security", [])
        for path, item in self.raw.get("paths", {}).items():
            for method in _METHODS:
                definition = item.get(method)
                if definition is None:
                    continue
                security = definition.get("security", global_security)
                needs_token = bool(security) and all(
                    "BearerAuth" in requirement for requirement in security
                )
                yield Operation(
                    operation_id=definition.get("operationId", f"{method} {path}"),
                    method=method.upper(),
                    path=path,
                    api=api_of_path(path),
                    tags=tuple(definition.get("tags", ())),
                    statuses=tuple(str(code) for code in definition.get("responses", {})),
                    needs_token=needs_token,
                    summary=definition.get("summary", ""),
                )

    def _iter_links(self) -> Iterator[Link]:
        for path, item in self.raw.get("paths", {}).items():
            for method in _METHODS:
                definition = item.get(method)
                if definition is None:
                    continue
                source = definition.get("operationId", f"{method} {path}")
                for status, response in definition.get("responses", {}).items():
                    response = self.resolve(response)
                    for name, link in (response.get("links") or {}).items():
                        link = self.resolve(link)
                        parameters = tuple(sorted((link.get("parameters") or {}).items()))
                        yield Link(source, str(status), name, link.get("operationId", "?"),
                                   parameters)

    def resolve(self, node: Any) -> Any:
        """Follow a local `$ref` (responses and links may be references)."""
        while isinstance(node, dict) and "$ref" in node:
            pointer = node["$ref"]
            if not pointer.startswith("#/"):
                raise ValueError(f"only local references are supported, got {pointer!r}")
            node = self.raw
            for part in pointer[2:].split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def operation(self, operation_id: str) -> Operation:
        for operation in self.operations:
            if operation.operation_id == operation_id:
                return operation
        raise KeyError(f"no operation {operation_id!r} in {self.location}")

    def select(self, selection: Selection) -> list[Operation]:
        return [operation for operation in self.operations if selection.keeps(operation)]

    def match(self, method: str, api: ApiName, path: str) -> Operation | None:
        """The operation a request to `path` (relative to the API root) is for, if any."""
        method = method.upper()
        paths = {op.path for op in self.operations if op.api == api and op.path_regex.match(path)}
        if not paths:
            return None
        # A literal segment beats a template: `/v1/events/mine` is not `/v1/events/{id}`, so a
        # PATCH of it is an undocumented method (a 405 probe), not a patchEvent.
        best = min(paths, key=lambda template: template.count("{"))
        for op in self.operations:
            if op.api == api and op.path == best and op.method == method:
                return op
        return None

    def for_servers(self, urls: dict[ApiName, str]) -> dict[str, Any]:
        """A copy of the document whose path items point at the given API roots.

        Each path item carries its own `servers` (DECISIONS.md, URLs); schemathesis honours
        those per operation, so rewriting them is how one run reaches two hosts.
        """
        raw = copy.deepcopy(self.raw)
        for path, item in raw.get("paths", {}).items():
            item["servers"] = [{"url": urls[api_of_path(path)].rstrip("/")}]
        raw["servers"] = [{"url": urls["activities"].rstrip("/")}]
        return raw

    def operations_by_id(self, ids: Iterable[str]) -> list[Operation]:
        return [self.operation(operation_id) for operation_id in ids]


class LinkTracker:
    """Notices when a request uses what a link says an earlier answer provides.

    `observe()` is given every exchange; when a response matches a link's source and status,
    the values its expressions select are remembered, and a later request to the link's target
    carrying one of them counts as the link being followed. This is how behaviour checks,
    which are written as plain HTTP, show up in the coverage view's links.
    """

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.followed: dict[tuple[str, str, str], int] = {}
        # (target, parameter, value) -> every link that offered that value (a list's first
        # event and `mine`'s may be the same event: both links lead there)
        self._offered: dict[tuple[str, str, str], set[Link]] = {}
        self._lock = threading.Lock()

    def observe(self, operation: Operation, path: str, status: int, request_body: Any,
                response_body: Any) -> None:
        values = operation.path_values(path)
        with self._lock:
            used: set[Link] = set()
            for name, value in values.items():
                used |= self._offered.get((operation.operation_id, name, value), set())
            for link in used:
                key = (link.source, link.name, link.target)
                self.followed[key] = self.followed.get(key, 0) + 1
            for link in self.spec.links:
                if link.source != operation.operation_id or link.status != str(status):
                    continue
                for parameter, expression in link.parameters:
                    value = evaluate_link_expression(expression, values, request_body,
                                                     response_body)
                    if value is not None:
                        self._offered.setdefault((link.target, parameter, str(value)),
                                                 set()).add(link)


def evaluate_link_expression(expression: str, path_values: dict[str, str], request_body: Any,
                             response_body: Any) -> Any:
    """The few runtime expressions the spec's links use."""
    if expression.startswith("$request.path."):
        return path_values.get(expression.removeprefix("$request.path."))
    for prefix, document in (("$response.body#", response_body), ("$request.body#", request_body)):
        if expression.startswith(prefix):
            node = document
            for part in expression.removeprefix(prefix).strip("/").split("/"):
                key = part.replace("~1", "/").replace("~0", "~")
                if isinstance(node, list) and key.isdigit():  # `/data/0/id`: a list's first
                    node = node[int(key)] if int(key) < len(node) else None
                elif isinstance(node, dict):
                    node = node.get(key)
                else:
                    return None
            return node if isinstance(node, (str, int)) else None
    return None
