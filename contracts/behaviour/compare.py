"""Comparing what a check sent or expected with what the API answered."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["differences", "expected_read", "same"]


def same(a: Any, b: Any) -> bool:
    """Equality that tolerates float noise from a database round trip."""
    if isinstance(a, float) or isinstance(b, float):
        return (isinstance(a, (int, float)) and isinstance(b, (int, float))
                and not isinstance(a, bool) and not isinstance(b, bool)
                and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def differences(expected: dict[str, Any], actual: dict[str, Any],
                 fields: Any = None) -> list[str]:
    names = fields if fields is not None else expected.keys()
    return [
        f"{name}: expected {expected.get(name)!r}, got {actual.get(name, '<missing>')!r}"
        for name in names if not same(expected.get(name), actual.get(name))
    ]


def expected_read(body: dict[str, Any]) -> dict[str, Any]:
    """What reading an event created (or patched) with `body` must show."""
    expected = {k: v for k, v in body.items() if k not in ("slots", "status")}
    if "slots" in body:
        expected["slots_limit"] = body["slots"]
    if "status" in body:
        expected["status"] = body["status"]
    return expected

