"""Keeps ARCHITECTURE.md true: the import directions between layers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", files("mock_server/domain") + files("mock_server/tracking")
                         + [ROOT / "mock_server/store.py", ROOT / "mock_server/data.py"],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_domain_store_and_tracking_know_nothing_of_flask_or_http(path: Path) -> None:
    forbidden = ("flask", "werkzeug", "mock_server.app", "mock_server.handlers",
                 "mock_server.validation", "mock_server.shaping", "mock_server.auth")
    bad = {m for m in imported_modules(path) if m.startswith(forbidden)}
    assert not bad, f"{path.name} imports {bad}"


@pytest.mark.parametrize("path", files("contracts"), ids=lambda p: str(p.relative_to(ROOT)))
def test_contracts_never_import_the_mock(path: Path) -> None:
    bad = {m for m in imported_modules(path) if m.startswith("mock_server")}
    assert not bad, f"{path.name} imports {bad}"


@pytest.mark.parametrize("module", ["spec", "validation"])
def test_spec_and_validation_do_not_import_later_layers(module: str) -> None:
    later = ("flask", "mock_server.app", "mock_server.handlers", "mock_server.domain",
             "mock_server.store", "mock_server.services")
    bad = {m for m in imported_modules(ROOT / f"mock_server/{module}.py") if m.startswith(later)}
    assert not bad, bad


def test_handlers_do_not_import_the_app() -> None:
    for path in files("mock_server/handlers"):
        assert "mock_server.app" not in imported_modules(path), path.name


@pytest.mark.parametrize("module", ["journal", "faults", "matching", "state_file"])
def test_the_wsgi_layers_of_the_test_controls_know_nothing_of_flask(module: str) -> None:
    """They wrap the app from outside (and serve the proxy, which has no Flask routes)."""
    bad = {m for m in imported_modules(ROOT / f"mock_server/{module}.py")
           if m.startswith(("flask", "mock_server.app", "mock_server.handlers"))}
    assert not bad, bad


def test_the_api_side_never_imports_the_test_controls() -> None:
    controls = ("mock_server.admin", "mock_server.faults", "mock_server.journal",
                "mock_server.proxy", "mock_server.state_file", "mock_server.controls")
    api_side = files("mock_server/handlers") + files("mock_server/domain") + [
        ROOT / f"mock_server/{name}.py" for name in ("services", "store", "validation", "spec",
                                                     "auth", "shaping", "calls")]
    for path in api_side:
        bad = {m for m in imported_modules(path) if m.startswith(controls)}
        assert not bad, f"{path.name} imports {bad}"
