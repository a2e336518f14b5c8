"""Request and response validation against the spec, compiled once at start.

openapi-core validates a request in about 5 ms on this machine; the mock must answer in about
a millisecond, so each operation's parameter and body schemas are compiled here into
jsonschema validators (openapi-schema-validator's OAS 3.0 dialect: `nullable`, formats) once,
and a request costs a dictionary walk. Validators yield every error, so a client learns all
that is wrong with its request at once. The test suite cross-checks responses with openapi-core
and schemathesis independently of this module.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson
from openapi_schema_validator import OAS30Validator, oas30_format_checker

from mock_server.spec import Operation, Parameter, Spec

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


@dataclass
class RequestInvalid(Exception):
    """A request the spec refuses: status 400, 415 or 422, with messages per field."""

    status: int
    message: str
    errors: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class ValidRequest:
    path: dict[str, Any]
    query: dict[str, Any]
    headers: dict[str, Any]
    body: Any


def _compile(schema: Mapping[str, Any]) -> OAS30Validator:
    OAS30Validator.check_schema(schema)
    return OAS30Validator(schema, format_checker=oas30_format_checker)


def _cast(raw: str, schema: Mapping[str, Any]) -> Any:
    """Turn one textual parameter value into the JSON type its schema declares.

    A value that cannot be cast is returned as the original string, so that the schema
    validator reports it with its usual message ("'abc' is not of type 'integer'").
    """
    kind = schema.get("type")
    if kind == "integer" and INTEGER.match(raw.strip()):
        return int(raw)
    if kind == "number" and NUMBER.match(raw.strip()):
        return int(raw) if INTEGER.match(raw.strip()) else float(raw)
    if kind == "boolean" and raw in ("true", "false"):
        return raw == "true"
    return raw


def field_errors(errors: Sequence[Any], prefix: str = "") -> dict[str, list[str]]:
    """Group jsonschema errors by the field they concern, with a sentence each."""
    grouped: dict[str, list[str]] = {}

    def add(path: str, message: str) -> None:
        grouped.setdefault(path or prefix or "body", []).append(message)

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
        self._parameters = [(p, _compile(p.schema)) for p in operation.parameters]
        self._query_names = frozenset(p.name for p in operation.parameters if p.location == "query")
        self._bodies = {media: _compile(schema) for media, schema in operation.body_schemas.items()}
        self._responses: dict[int, OAS30Validator | None] = {}

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
            problems = list(validator.iter_errors(value))
            if problems:
                for key, messages in field_errors(problems, parameter.name).items():
                    errors.setdefault(key, []).extend(messages)
            else:
                values[parameter.location][parameter.name] = value
        for name in request.query_names():
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
        for key, messages in field_errors(list(self._bodies[media].iter_errors(body))).items():
            errors.setdefault(key, []).extend(messages)
        return body

    def response_errors(self, status: int, body: Any) -> list[str]:
        """What is wrong with a response the mock is about to send (empty when it conforms)."""
        if str(status) not in self.operation.responses:
            return [f"status {status} is not documented for {self.operation.operation_id}"]
        if status not in self._responses:
            schema = self.operation.response_schema(status)
            self._responses[status] = None if schema is None else _compile(schema)
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


def compile_validators(spec: Spec) -> dict[str, OperationValidator]:
    return {op_id: OperationValidator(op) for op_id, op in spec.operations.items()}
