"""Reading request bodies field by field, every problem at once.

The HTTP layer validates bodies against openapi.yaml first; these readers keep the domain safe
on its own (a direct caller, a test, a later admin endpoint) and turn every problem of a body
into one ``RuleViolation`` listing all fields, worded like the real API's Laravel messages.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from mock_server.domain.activities.models import LEVELS, Child, copy_json
from mock_server.domain.errors import FieldErrors, RuleViolation
from mock_server.domain.times import parse_datetime


class FieldInvalid(ValueError):
    """Raised by a field reader; the message is what the client sees for that field."""


def _label(field: str) -> str:
    return field.replace("_", " ")


#: One character that is not blank: blank are the control characters (C0, DEL, C1), Unicode
#: white space, and the zero-width space and byte-order mark that copy and paste bring along.
#: A required text (a title, a description, a child's name) needs one such character, so
#: `"\u001d"` or `" \t"` is no name. The same expression is the `pattern` of those fields in
#: openapi.yaml (a test checks that they are one), written with explicit ranges because `\s`
#: means three different sets in Python, JavaScript (Prism) and Rust.
NON_BLANK_PATTERN: Final = (
    r"[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff]"
)
_NON_BLANK = re.compile(NON_BLANK_PATTERN)


def is_blank(text: str) -> bool:
    """Whether ``text`` has no character outside ``NON_BLANK_PATTERN``'s blank set."""
    return _NON_BLANK.search(text) is None


def read_optional_text(field: str, value: Any) -> str:
    """Any string, empty allowed (free texts such as ``owner_message``)."""
    if not isinstance(value, str):
        raise FieldInvalid(f"The {_label(field)} must be a string.")
    return value


def read_text(field: str, value: Any) -> str:
    """A non-empty string (the real API's ``required|string``)."""
    text = read_optional_text(field, value)
    if is_blank(text):
        raise FieldInvalid(f"The {_label(field)} field is required.")
    return text


def read_int(field: str, value: Any, minimum: int | None = None) -> int:
    """An integer (``true`` is not 1 here, and 2.0 is not 2)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldInvalid(f"The {_label(field)} must be an integer.")
    if minimum is not None and value < minimum:
        raise FieldInvalid(f"The {_label(field)} must be at least {minimum}.")
    return value


def read_number(field: str, value: Any, low: float, high: float) -> float:
    """A finite number within [low, high]; integers are accepted and kept as given."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FieldInvalid(f"The {_label(field)} must be a number.")
    if not low <= value <= high:  # also false for NaN
        raise FieldInvalid(f"The {_label(field)} must be between {low:g} and {high:g}.")
    return value


def read_bool(field: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise FieldInvalid(f"The {_label(field)} field must be true or false.")
    return value


def read_datetime(field: str, value: Any) -> datetime:
    try:
        return parse_datetime(value)
    except (ValueError, TypeError):
        raise FieldInvalid(
            f"The {_label(field)} is not a valid date (expected YYYY-MM-DDTHH:MM:SSZ)."
        ) from None


def read_levels(field: str, value: Any) -> tuple[int, ...]:
    """A non-empty list of distinct levels from the referential (5, 10, 20)."""
    if not isinstance(value, list | tuple):
        raise FieldInvalid(f"The {_label(field)} must be an array.")
    if not value:
        raise FieldInvalid(f"The {_label(field)} field is required.")
    allowed = ", ".join(str(level) for level in LEVELS)
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int) or item not in LEVELS:
            raise FieldInvalid(f"The {_label(field)} values must be among {allowed}.")
    if len(set(value)) != len(value):
        raise FieldInvalid(f"The {_label(field)} values must be distinct.")
    return tuple(value)


def read_string_list(field: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise FieldInvalid(f"The {_label(field)} must be an array of strings.")
    return tuple(value)


def read_object(field: str, value: Any) -> dict[str, Any]:
    """A free-form JSON object (``extra_location``), copied so the caller keeps no handle on it."""
    if not isinstance(value, dict):
        raise FieldInvalid(f"The {_label(field)} must be an object.")
    copied: dict[str, Any] = copy_json(value)
    return copied


def read_children(field: str, value: Any) -> tuple[Child, ...]:
    """``[{"name": "Suzie"}, ...]``: each child takes a place, so each needs a name."""
    if not isinstance(value, list | tuple):
        raise FieldInvalid(f"The {_label(field)} must be an array.")
    children = []
    for position, item in enumerate(value):
        if not isinstance(item, dict) or set(item) != {"name"}:
            raise FieldInvalid(f"The {field}.{position} must be an object with only a name.")
        name = item["name"]
        if not isinstance(name, str) or is_blank(name):
            raise FieldInvalid(f"The {field}.{position}.name must be a non-empty string.")
        children.append(Child(name=name))
    return tuple(children)


FieldReader = Callable[[str, Any], Any]


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """How one body field is read: its reader, whether it may be null, whether it is required."""

    reader: FieldReader
    nullable: bool = False
    required: bool = False


def read_body(
    body: Any, specs: Mapping[str, FieldSpec], *, partial: bool = False
) -> dict[str, Any]:
    """Read every field of a JSON body, or raise one RuleViolation listing every problem.

    Unknown fields are refused (DECISIONS.md: typos surface during development). With
    ``partial`` (PATCH) required fields may be absent but still not null.
    """
    if not isinstance(body, dict):
        raise RuleViolation(errors={"body": ["The request body must be a JSON object."]})
    problems = FieldErrors()
    cleaned: dict[str, Any] = {}
    for field, value in body.items():
        spec = specs.get(field)
        if spec is None:
            problems.add(str(field), f"The {_label(str(field))} field is not allowed.")
        elif value is None:
            if spec.nullable:
                cleaned[field] = None
            else:
                problems.add(field, f"The {_label(field)} field is required.")
        else:
            try:
                cleaned[field] = spec.reader(field, value)
            except FieldInvalid as exc:
                problems.add(field, str(exc))
    if not partial:
        for field, spec in specs.items():
            if spec.required and field not in body:
                problems.add(field, f"The {_label(field)} field is required.")
    problems.raise_if_any()
    return cleaned
