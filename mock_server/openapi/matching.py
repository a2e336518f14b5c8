"""Which operation of the spec a raw request (method, path) is, outside any web framework.

The request journal, the fault rules, the `Prefer` override and the validation proxy all need
to name the operation of a request before (or without) Flask's routing: the proxy has no Flask
routes at all, and the journal and faults wrap the app from outside. Path templates are compiled
to one regular expression per path the mock serves an operation at (under its mount,
``/activities/v1/events``, and as written at the root, ``/v1/events``), once, with the same
segment rules as the app's routes (a `{id}` segment only matches what the parameter's schema
allows), so a match costs a handful of regex calls.

For a request that matches nothing, ``nearest`` names the operation it most likely meant and
says why it missed (wrong method, a segment that cannot be the parameter, a missing API root),
as wiremock's near misses do. It is only computed when someone asks, never on the request path.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from mock_server.openapi.spec import Operation

#: Where the operation of a request is kept in its WSGI environ once a layer has matched it
#: (``OperationMatch``, or ``None`` for a request no operation has): the outermost layer, the
#: journal, matches; the fault layer, the fast path and the proxy read it. So no layer may
#: rewrite ``PATH_INFO`` or ``REQUEST_METHOD`` on the way in.
ENV_OPERATION = "mock_server.operation"
_PLACEHOLDER = re.compile(r"\{([^}/]+)\}")
#: How many (method, path) answers ``match`` remembers before starting afresh.
CACHE_SIZE = 10_000
_UNSEEN = object()


def segment_pattern(schema: Mapping[str, Any]) -> str:
    """The regex a path parameter's segment must match (as the app's URL converter uses)."""
    if schema.get("type") == "integer":
        return "[+-]?[0-9]+"
    pattern = schema.get("pattern")
    if pattern:
        return str(pattern).removeprefix("^").removesuffix("$")
    return r"[^/]+"


@dataclass(frozen=True)
class OperationMatch:
    """Shared between requests (``match`` remembers it), hence the read-only values."""

    operation: Operation
    path_values: Mapping[str, str]


@dataclass(frozen=True)
class NearMiss:
    """The operation an unmatched request most likely meant, and why it missed."""

    operation_id: str
    method: str
    path: str
    similarity: float
    reasons: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "operationId": self.operation_id,
            "method": self.method,
            "path": self.path,
            "similarity": self.similarity,
            "reasons": list(self.reasons),
        }


def request_path(environ: Mapping[str, Any]) -> str:
    """The request path as werkzeug's ``request.path`` has it: WSGI's latin-1 ``PATH_INFO``
    read back as the UTF-8 the client sent (undecodable bytes replaced)."""
    raw = environ.get("PATH_INFO", "") or "/"
    if raw.isascii():  # nearly every request: nothing to decode
        return str(raw)
    try:
        return str(raw).encode("latin-1").decode("utf-8", "replace")
    except UnicodeEncodeError:  # a server that already decoded it
        return str(raw)


def operation_of(environ: dict[str, Any], matcher: OperationMatcher) -> OperationMatch | None:
    """The operation of a request, matched once per request: the first layer that asks keeps
    the answer in ``environ[ENV_OPERATION]`` for every layer inside it."""
    if ENV_OPERATION in environ:
        found: OperationMatch | None = environ[ENV_OPERATION]
        return found
    found = environ[ENV_OPERATION] = matcher.match(environ.get("REQUEST_METHOD", "GET"),
                                                   request_path(environ))
    return found


class _Template:
    """One path the mock serves an operation at (its mount, or the root: ``mock_paths``)."""

    __slots__ = ("operation", "path", "regex", "segments", "segment_regexes")

    def __init__(self, operation: Operation, path: str) -> None:
        self.operation = operation
        self.path = path
        patterns = {p.name: segment_pattern(p.schema) for p in operation.parameters
                    if p.location == "path"}
        self.segments = path.strip("/").split("/")
        self.segment_regexes: dict[int, tuple[str, re.Pattern[str]]] = {}
        parts = []
        for index, segment in enumerate(self.segments):
            found = _PLACEHOLDER.fullmatch(segment)
            if found:
                name = found.group(1)
                pattern = patterns.get(name, r"[^/]+")
                self.segment_regexes[index] = (name, re.compile(f"(?:{pattern})"))
                parts.append(f"(?P<{name}>{pattern})")
            else:
                parts.append(re.escape(segment))
        self.regex = re.compile("/" + "/".join(parts))


class OperationMatcher:
    """Finds the operation of a (method, path) pair; built once from the spec's operations."""

    def __init__(self, operations: Iterable[Operation]) -> None:
        self._templates = [_Template(op, path) for op in operations for path in op.mock_paths]
        by_method: dict[str, list[_Template]] = {}
        for template in self._templates:
            by_method.setdefault(template.operation.method, []).append(template)
        self._by_method = by_method
        self.mounts = tuple(dict.fromkeys(t.operation.mount for t in self._templates))
        self._seen: dict[tuple[str, str], OperationMatch | None] = {}
        self._near: dict[tuple[str, str], NearMiss | None] = {}

    def match(self, method: str, path: str) -> OperationMatch | None:
        """The operation of a request; remembered, since a client repeats its requests."""
        key = (method, path)
        known = self._seen.get(key, _UNSEEN)
        if known is not _UNSEEN:
            return known  # type: ignore[return-value]
        found = self._match(method, path)
        if len(self._seen) >= CACHE_SIZE:
            self._seen.clear()  # crude but bounded; a dict read/write is atomic under the GIL
        self._seen[key] = found
        return found

    def _match(self, method: str, path: str) -> OperationMatch | None:
        for template in self._by_method.get(method.upper(), ()):
            found = template.regex.fullmatch(path)
            if found:
                return OperationMatch(template.operation, MappingProxyType(found.groupdict()))
        return None

    def nearest(self, method: str, path: str) -> NearMiss | None:
        """The closest operation by path shape (parameters filled in) and method.

        About a millisecond (difflib over every template), so remembered like ``match``: a
        client that keeps missing, as a load test with a wrong path does, pays it once.
        """
        key = (method.upper(), path)
        if key in self._near:
            return self._near[key]
        if len(self._near) >= CACHE_SIZE:
            self._near.clear()
        found = self._near[key] = self._nearest(*key)
        return found

    def _nearest(self, method: str, path: str) -> NearMiss | None:
        best: tuple[float, NearMiss] | None = None
        wanted = path.strip("/").split("/")
        for template in self._templates:
            score, miss = self._compare(template, method, path, wanted)
            if best is None or score > best[0]:
                best = (score, miss)
        return None if best is None else best[1]

    def _compare(self, template: _Template, method: str, path: str,
                 wanted: list[str]) -> tuple[float, NearMiss]:
        operation = template.operation
        reasons: list[str] = []
        filled = list(template.segments)
        for index, (_name, regex) in template.segment_regexes.items():
            if index < len(wanted) and regex.fullmatch(wanted[index]):
                filled[index] = wanted[index]
        candidate = "/" + "/".join(filled)
        similarity = difflib.SequenceMatcher(None, candidate, path, autojunk=False).ratio()
        if method != operation.method:
            reasons.append(f"method {method} is not documented here; the operation is "
                           f"{operation.method} {template.path}")
        mount = operation.mount
        if len(path) > 1 and path.endswith("/") and template.regex.fullmatch(path.rstrip("/")):
            reasons.append("the path ends with a slash; the operation's does not")
        elif not path.startswith(mount + "/") and template.regex.fullmatch(mount + path):
            reasons.append(f"the path lacks the API root {mount} (the mock serves "
                           f"{operation.path} at {operation.mock_path})")
            similarity = max(similarity, 0.95)
        elif len(wanted) != len(template.segments):
            reasons.append(f"the path has {len(wanted)} segments, the operation "
                           f"{len(template.segments)}")
        else:
            # Same shape: judge segment by segment, a value that cannot be the parameter still
            # being closer than a different literal ("/events/abc" meant {id}, not "mine").
            scores = []
            for index, (expected, got) in enumerate(zip(template.segments, wanted, strict=True)):
                if index in template.segment_regexes:
                    name, regex = template.segment_regexes[index]
                    if regex.fullmatch(got):
                        scores.append(1.0)
                    else:
                        scores.append(0.75)
                        reasons.append(f"segment {got!r} cannot be the {{{name}}} parameter "
                                       f"(pattern {regex.pattern[3:-1]})")
                elif expected != got:
                    scores.append(difflib.SequenceMatcher(None, expected, got).ratio())
                    reasons.append(f"segment {got!r} where the spec has {expected!r}")
                else:
                    scores.append(1.0)
            similarity = sum(scores) / len(scores)
        score = similarity * 0.8 + (0.2 if method == operation.method else 0.0)
        miss = NearMiss(
            operation_id=operation.operation_id,
            method=operation.method,
            path=template.path,
            similarity=round(score, 3),
            reasons=tuple(reasons) or ("it matches; the request may have been refused "
                                       "before routing",),
        )
        return score, miss
