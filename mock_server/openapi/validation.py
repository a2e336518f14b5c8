"""Request and response validation against the spec, compiled once at start.

openapi-core validates a request in about 5 ms on this machine; the mock must answer in about
a millisecond, so each operation's parameter, body and response schemas are compiled here once,
twice over:

* a *fast* validator: the schema translated from OAS 3.0 to JSON Schema draft 4 (`nullable`
  becomes a `"null"` type; formats and patterns checked by the detailed validator's own
  functions, remembered per value) and compiled by jsonschema-rs (Rust, already installed
  with schemathesis). It answers "valid or not" for a 25-event page in ~0.08 ms, against
  ~9 ms for jsonschema and ~0.5 ms for fastjsonschema's generated Python (measured here),
  which is all the hot path needs;
* a *detailed* validator (jsonschema, openapi-schema-validator's OAS 3.0 dialect), run only
  when the fast one says no, to yield every error with its field, so a client learns all that
  is wrong with its request at once.

Both must agree on what is valid; `tests/unit/test_validation.py` checks them against each
other on the spec's examples and on mutated instances. The test suite also cross-checks
responses with openapi-core and schemathesis independently of this module.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import jsonschema_rs
import orjson
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from openapi_schema_validator._regex import has_ecma_regex

from mock_server.errors import ApiError
from mock_server.openapi.spec import Operation, Parameter, Spec

INTEGER = re.compile(r"^[+-]?\d+$")
NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
INVALID_DATA = "The given data was invalid."


class RequestView(Protocol):
    """What validation needs of a request; Flask's request is adapted to it by the app."""

    def query_names(self) -> list[str]: ...
    def query_values(self, name: str) -> list[str]: ...
    def header_value(self, name: str) -> str | None: ...
    @property
    def content_type(self) -> str | None: ...
    def body_bytes(self) -> bytes: ...


class RequestInvalid(ApiError):
    """A request the spec refuses: status 400, 415 or 422, with messages per field."""


@dataclass(frozen=True)
class ValidRequest:
    path: dict[str, Any]
    query: dict[str, Any]
    headers: dict[str, Any]
    body: Any


def _compile(schema: Mapping[str, Any]) -> OAS30Validator:
    """The detailed validator. The schema is not meta-validated here (``check_schema`` took
    0.2 s, most of the mock's compile time at start): jsonschema-rs refuses a malformed schema
    when the fast validator is compiled from it, and tests/unit/test_spec.py validates the
    whole document with openapi-spec-validator."""
    return OAS30Validator(schema, format_checker=oas30_format_checker)


#: Keywords of OAS 3.0 Schema Objects that JSON Schema draft 4 does not have (annotations, or
#: `nullable`, which is folded into `type`).
_OAS_ONLY = frozenset({"nullable", "example", "discriminator", "readOnly", "writeOnly", "xml",
                       "externalDocs", "deprecated"})
_SCHEMA_MAPS = ("properties", "patternProperties", "definitions")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
_SCHEMA_VALUES = ("items", "additionalProperties", "not")


def to_json_schema(schema: Any) -> Any:
    """An OAS 3.0 Schema Object as the JSON Schema (draft 4) that accepts the same instances.

    OAS 3.0.3's `nullable: true` only widens the `type` of its own Schema Object (an `enum`
    still has to list null), exactly how openapi-schema-validator reads it.
    """
    if not isinstance(schema, dict):
        return schema
    converted: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _OAS_ONLY:
            continue
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            converted[key] = {name: to_json_schema(sub) for name, sub in value.items()}
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            converted[key] = [to_json_schema(sub) for sub in value]
        elif key in _SCHEMA_VALUES and isinstance(value, dict):
            converted[key] = to_json_schema(value)
        elif key == "pattern" and isinstance(value, str):
            # Checked as a custom format by Python's `re`, as the detailed validator does: Rust's
            # regex dialect differs (`$` before a final newline, for one).
            converted.setdefault("allOf", []).append({"format": PATTERN_FORMAT + value})
        else:
            converted[key] = value
    if schema.get("nullable") is True and "type" in schema:
        kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        converted["type"] = [*kinds, "null"] if "null" not in kinds else kinds
    return converted


def _formats_of(schema: Any, found: set[str]) -> set[str]:
    if isinstance(schema, dict):
        if isinstance(schema.get("format"), str):
            found.add(schema["format"])
        for value in schema.values():
            _formats_of(value, found)
    elif isinstance(schema, list):
        for value in schema:
            _formats_of(value, found)
    return found


PATTERN_FORMAT = "x-pattern:"


#: Distinct strings whose format check is remembered, per format (dates and ids repeat).
FORMAT_CACHE_SIZE = 1 << 16


def _format_check(name: str, detailed: OAS30Validator) -> Callable[[Any], bool]:
    """The detailed validator's own check of a format or a pattern, for the fast validator.

    Taken apart once here (the regular expression compiled, the format's function looked
    up) so that a check costs one call, and remembered per value (``compile_fast``): a page
    of 25 events checks ~150 strings, mostly the same dates and user ids as the last page.
    """
    if name.startswith(PATTERN_FORMAT):
        pattern = name[len(PATTERN_FORMAT):]
        if not has_ecma_regex():  # what openapi-schema-validator then does: re.search
            search = re.compile(pattern).search
            return lambda value: search(value) is not None
        keyword = detailed.VALIDATORS["pattern"]
        return lambda value: next(iter(keyword(detailed, pattern, value, {}) or ()), None) is None
    checker = oas30_format_checker.checkers.get(name)
    if checker is None:  # a format the OAS 3.0 checker does not know: not checked
        return lambda value: True
    function, raises = checker

    def conforms(value: Any) -> bool:  # FormatChecker.conforms without its per-call look-ups
        try:
            return bool(function(value))
        except raises:
            return False

    return conforms


FastValidator = Callable[[Any], bool]


def compile_fast(schema: Mapping[str, Any], detailed: OAS30Validator) -> FastValidator:
    """A jsonschema-rs `is_valid` for `schema` (draft 4, as OAS 3.0 schemas are).

    Every format and pattern the schema names is checked by the detailed validator's own code,
    so both validators agree on them too: jsonschema-rs checks `uri` itself, for one, while the
    OAS 3.0 checker leaves URIs alone.
    """
    definition = {"$schema": "http://json-schema.org/draft-04/schema#",
                  **to_json_schema(dict(schema))}
    formats: dict[str, Callable[..., bool]] = {
        name: functools.lru_cache(maxsize=FORMAT_CACHE_SIZE)(_format_check(name, detailed))
        for name in _formats_of(definition, set())}
    validator = jsonschema_rs.Draft4Validator(definition, formats=formats, validate_formats=True)
    is_valid: FastValidator = validator.is_valid
    return is_valid


class CompiledSchema:
    """One schema, compiled fast (yes/no) and detailed (every error, for the messages).

    The detailed validator has the last word: should the fast one ever refuse what it
    accepts, the instance is valid (tests/unit/test_validation.py keeps them in agreement).
    """

    __slots__ = ("is_valid", "detailed")

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.detailed = _compile(schema)
        self.is_valid: FastValidator = compile_fast(schema, self.detailed)

    def iter_errors(self, instance: Any) -> list[Any]:
        """Every error (empty when valid): the fast check first, details only on failure."""
        if self.is_valid(instance):
            return []
        return list(self.detailed.iter_errors(instance))


def _cast(raw: str, schema: Mapping[str, Any]) -> Any:
    """Turn one textual parameter value into the JSON type its schema declares.

    A value that cannot be cast is returned as the original string, so that the schema
    validator reports it with its usual message ("'abc' is not of type 'integer'").
    """
    kind = schema.get("type")
    text = raw.strip()
    if kind == "integer" and INTEGER.match(text):
        return int(text)
    if kind == "number" and NUMBER.match(text):
        return int(text) if INTEGER.match(text) else float(text)
    if kind == "boolean" and raw in ("true", "false"):
        return raw == "true"
    return raw


def field_errors(errors: Sequence[Any], prefix: str = "") -> dict[str, list[str]]:
    """Group jsonschema errors by the field they concern, with a sentence each."""
    grouped: dict[str, list[str]] = {}

    def add(path: str, message: str) -> None:
        # jsonschema reports `required` once per missing field, each error naming the whole
        # list: without this check, ten missing fields gave each of them ten messages.
        messages = grouped.setdefault(path or prefix or "body", [])
        if message not in messages:
            messages.append(message)

    for error in errors:
        base = ".".join([prefix] * bool(prefix) + [str(p) for p in error.absolute_path])
        if error.validator == "required" and isinstance(error.instance, dict):
            for name in error.validator_value:
                if name not in error.instance:
                    add(f"{base}.{name}" if base else name, f"The {name} field is required.")
        elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = set(error.schema.get("properties", {}))
            for name in error.instance:
                if name not in known:
                    add(f"{base}.{name}" if base else name, f"Unknown field {name!r}.")
        else:
            add(base, error.message)
    return grouped


class OperationValidator:
    """The compiled validators of one operation."""

    def __init__(self, operation: Operation) -> None:
        self.operation = operation
        self._parameters = [(p, CompiledSchema(p.schema)) for p in operation.parameters]
        self._query_names = frozenset(p.name for p in operation.parameters if p.location == "query")
        # A scalar given twice (`page=1&page=2`) is refused rather than one value picked: which
        # one a real server takes differs by framework, so a client that sends it has a bug.
        self._single_query_names = frozenset(
            p.name for p in operation.parameters if p.location == "query" and not p.is_array)
        self._bodies = {media: CompiledSchema(schema)
                        for media, schema in operation.body_schemas.items()}
        # Every documented status compiled now: nothing is compiled while serving.
        self._responses: dict[int, CompiledSchema | None] = {}
        for status in operation.responses:
            if status.isdigit():
                schema = operation.response_schema(int(status))
                self._responses[int(status)] = None if schema is None else CompiledSchema(schema)

    def validate_request(
        self, request: RequestView, path_values: Mapping[str, str]
    ) -> ValidRequest:
        errors: dict[str, list[str]] = {}
        values: dict[str, dict[str, Any]] = {"path": {}, "query": {}, "header": {}}
        for parameter, validator in self._parameters:
            present, value = self._read(parameter, request, path_values)
            if not present:
                if parameter.required:
                    errors.setdefault(parameter.name, []).append(
                        f"The {parameter.name} {parameter.location} parameter is required."
                    )
                elif "default" in parameter.schema:
                    values[parameter.location][parameter.name] = parameter.schema["default"]
                continue
            problems = validator.iter_errors(value)
            if problems:
                for key, messages in field_errors(problems, parameter.name).items():
                    errors.setdefault(key, []).extend(messages)
            else:
                values[parameter.location][parameter.name] = value
        for name in request.query_names():
            given = len(request.query_values(name))
            if given > 1 and name in self._single_query_names:
                errors.setdefault(name, []).append(
                    f"The {name} query parameter takes one value; it was given {given} times."
                )
            if name not in self._query_names:
                known = ", ".join(sorted(self._query_names)) or "none"
                errors.setdefault(name, []).append(
                    f"Unknown query parameter {name!r} (known: {known})."
                )
        body = self._body(request, errors)
        if errors:
            raise RequestInvalid(422, _summary(errors), errors)
        return ValidRequest(values["path"], values["query"], values["header"], body)

    @staticmethod
    def _read(
        parameter: Parameter, request: RequestView, path_values: Mapping[str, str]
    ) -> tuple[bool, Any]:
        if parameter.location == "path":
            raw = path_values.get(parameter.name)
            return raw is not None, None if raw is None else _cast(raw, parameter.schema)
        if parameter.location == "query":
            raws = request.query_values(parameter.name)
            if not raws:
                return False, None
            if parameter.is_array:
                items = parameter.schema.get("items", {})
                if not parameter.explode:
                    raws = [part for raw in raws for part in raw.split(",")]
                return True, [_cast(raw, items) for raw in raws]
            return True, _cast(raws[-1], parameter.schema)
        if parameter.location == "header":
            raw = request.header_value(parameter.name)
            return raw is not None, None if raw is None else _cast(raw.strip(), parameter.schema)
        return False, None

    def _body(self, request: RequestView, errors: dict[str, list[str]]) -> Any:
        if not self._bodies:
            return None
        media = (request.content_type or "").split(";")[0].strip().lower()
        data = request.body_bytes() if "multipart/form-data" not in self._bodies else b""
        if not media and not data:
            if self.operation.body_required:
                errors.setdefault("body", []).append("A request body is required.")
            return None
        if media not in self._bodies:
            accepted = ", ".join(self._bodies)
            raise RequestInvalid(
                415, f"Unsupported content type {media or '(none)'}: send {accepted}."
            )
        if media != "application/json":
            return None  # multipart bodies are streamed by their handler, never parsed here
        try:
            body = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise RequestInvalid(400, f"Malformed JSON body: {exc}.") from None
        problems = self._bodies[media].iter_errors(body)
        for key, messages in field_errors(problems).items():
            errors.setdefault(key, []).extend(messages)
        return body

    def response_errors(self, status: int, body: Any) -> list[str]:
        """What is wrong with a response the mock is about to send (empty when it conforms)."""
        if str(status) not in self.operation.responses:
            return [f"status {status} is not documented for {self.operation.operation_id}"]
        if status not in self._responses:  # documented only as 4XX/default: compile once
            schema = self.operation.response_schema(status)
            self._responses[status] = None if schema is None else CompiledSchema(schema)
        validator = self._responses[status]
        if validator is None:
            return []
        return [
            f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}"
            for e in validator.iter_errors(body)
        ]


def _summary(errors: Mapping[str, list[str]]) -> str:
    first_field, messages = next(iter(errors.items()))
    more = sum(len(m) for m in errors.values()) - 1
    tail = f" (and {more} more error{'s' * (more > 1)})" if more else ""
    return f"{INVALID_DATA} {first_field}: {messages[0]}{tail}"


_COMPILED: dict[int, tuple[Spec, dict[str, OperationValidator]]] = {}


def compile_validators(spec: Spec) -> dict[str, OperationValidator]:
    """Every operation's validators, compiled once per spec and process.

    ``load_spec`` hands every app the same ``Spec`` object, so a test suite that builds an app
    per test compiles once; validators hold no state of an app.
    """
    cached = _COMPILED.get(id(spec))
    if cached is None or cached[0] is not spec:
        cached = _COMPILED[id(spec)] = (spec, {op_id: OperationValidator(op)
                                               for op_id, op in spec.operations.items()})
    return cached[1]
