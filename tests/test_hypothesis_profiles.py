"""The hypothesis profiles (tests/conftest.py: `ci`, `dev`) alone set how many examples a
property test draws, so `HYPOTHESIS_PROFILE=dev` deepens every one of them and CI stays bounded.
A `max_examples` written into a test's `settings(...)` would silently override both."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
PROFILES = TESTS / "conftest.py"


def _settings_calls_with_max_examples(path: Path) -> list[int]:
    """Lines where `settings(...)` or `hypothesis.settings(...)` is given `max_examples`."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(
            node.func, "id", "")
        if name == "settings" and any(k.arg == "max_examples" for k in node.keywords):
            lines.append(node.lineno)
    return lines


def test_no_test_sets_its_own_example_count() -> None:
    found = {str(path.relative_to(TESTS)): lines for path in sorted(TESTS.rglob("*.py"))
             if path != PROFILES and (lines := _settings_calls_with_max_examples(path))}
    assert not found, found


def test_the_scan_sees_a_hard_coded_count(tmp_path: Path) -> None:
    sample = tmp_path / "test_sample.py"
    sample.write_text("from hypothesis import settings\n\n@settings(max_examples=5)\n"
                      "def test_x(): ...\n", encoding="utf-8")
    assert _settings_calls_with_max_examples(sample) == [3]
