"""Keeps ARCHITECTURE.md true: one rule per package, checked on transitive imports.

Every import counts, wherever it stands (module level, inside a function, under
``TYPE_CHECKING``): a lazy or type-only import is still a dependency a reader must follow. A
rule names what a package may reach at all, through any chain of imports, so a layer cannot
borrow a forbidden one through a neighbour (``faults -> cors -> flask`` used to pass).
"""

from __future__ import annotations

import ast
import functools
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MOCK = "mock_server"

def documented_rules() -> dict[str, set[str]]:
    """The rule table of ARCHITECTURE.md: package -> the packages of the mock it may reach,
    transitively (itself always allowed). The document is the one list, so it cannot drift."""
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    table = text.split("<!-- rules: begin -->", 1)[1].split("<!-- rules: end -->", 1)[0]
    rules: dict[str, set[str]] = {}
    for line in table.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`mock_server"):
            continue
        reach = set(re.findall(r"`(mock_server[\w.]*)`", cells[2]))
        rules[cells[0].strip("`")] = reach
    return rules


RULES = documented_rules()
#: Third-party packages a package must never reach, through any module of the mock.
NEVER: dict[str, set[str]] = {
    "mock_server.openapi": {"flask", "werkzeug", "faker", "numpy"},
    "mock_server.domain": {"flask", "werkzeug", "sqlite3", "psycopg", "waitress", "granian"},
    "mock_server.seed": {"flask", "werkzeug", "sqlite3", "psycopg"},
    "mock_server.state": {"flask", "werkzeug"},
    "mock_server.controls.journal": {"flask"},
    "mock_server.controls.faults": {"flask"},
    # The validation proxy checks someone else's deployment: no fixtures, no state engine.
    "mock_server.controls.proxy": {"faker", "numpy", "PIL"},
    "mock_server.admin_cli": {"flask", "faker", "numpy"},
    "mock_server.postman": {"flask", "werkzeug", "waitress"},
}
#: Within the API request path, Flask is an adapter: only this module may import it directly.
FLASK_ADAPTER = "mock_server.api.flask_adapter"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    found = {module_name(p): p for package in (MOCK, "contracts")
             for p in (ROOT / package).rglob("*.py")}
    return found


MODULES = all_modules()


def _resolve(importer: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = importer if MODULES[importer].name == "__init__.py" else importer.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


@functools.cache
def direct_imports(module: str) -> frozenset[str]:
    """Every module ``module`` imports: of the project by full name, others by top name."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, node)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names
                         if f"{base}.{alias.name}" in MODULES)
    resolved: set[str] = set()
    for name in found:
        if name.split(".")[0] in (MOCK, "contracts"):
            # a package import runs its __init__; a missing name is a parent's attribute
            while name and name not in MODULES:
                name = name.rpartition(".")[0]
            if name:
                resolved.add(name)
                parent = name.rpartition(".")[0]
                while parent:  # importing a.b.c runs a/__init__ and a/b/__init__
                    if parent in MODULES:
                        resolved.add(parent)
                    parent = parent.rpartition(".")[0]
        else:
            resolved.add(name.split(".")[0])
    resolved.discard(module)
    return frozenset(resolved)


@functools.cache
def reach(module: str) -> frozenset[str]:
    """Everything ``module`` reaches through chains of imports."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        current = todo.pop()
        for name in direct_imports(current):
            if name not in seen:
                seen.add(name)
                if name in MODULES:
                    todo.append(name)
    seen.discard(module)
    return frozenset(seen)


def in_package(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def modules_of(package: str) -> list[str]:
    return sorted(m for m in MODULES if in_package(m, package))


def _the_package(module: str) -> str | None:
    """The most specific package with a rule that ``module`` belongs to."""
    owners = [p for p in RULES if in_package(module, p)]
    return max(owners, key=len) if owners else None


@pytest.mark.parametrize("package", sorted(RULES))
def test_each_package_reaches_only_what_its_rule_allows(package: str) -> None:
    allowed = RULES[package]
    assert modules_of(package), f"no module in {package}"
    for module in modules_of(package):
        ours = {m for m in reach(module) if m.startswith(MOCK + ".")}
        bad = sorted(m for m in ours if not in_package(m, package)
                     and not any(in_package(m, p) for p in allowed))
        assert not bad, f"{module} reaches {bad}"


@pytest.mark.parametrize("package", sorted(NEVER))
def test_no_package_reaches_a_forbidden_library(package: str) -> None:
    for module in modules_of(package):
        bad = sorted(reach(module) & NEVER[package])
        assert not bad, f"{module} reaches {bad}"


def test_only_the_flask_adapter_of_the_api_imports_flask() -> None:
    for module in modules_of("mock_server.api"):
        if module != FLASK_ADAPTER:
            assert "flask" not in direct_imports(module), module


def test_nothing_below_the_composition_root_imports_it() -> None:
    top = {"mock_server.app", "mock_server.cli", "mock_server.workers", "mock_server.rsgi",
           "mock_server.__main__"}
    for module in MODULES:
        if _the_package(module) is not None:
            assert not (reach(module) & top), module


def test_every_module_of_the_mock_is_under_a_rule_or_at_the_top() -> None:
    top = {"mock_server", "mock_server.app", "mock_server.cli", "mock_server.workers",
           "mock_server.rsgi", "mock_server.__main__"}
    unruled = [m for m in modules_of(MOCK) if m not in top and _the_package(m) is None]
    assert not unruled, f"modules without a rule in ARCHITECTURE.md: {unruled}"


def test_contracts_never_import_the_mock() -> None:
    for module in modules_of("contracts"):
        bad = sorted(m for m in reach(module) if in_package(m, MOCK))
        assert not bad, f"{module} reaches {bad}"


def test_architecture_md_states_a_rule_for_every_package() -> None:
    packages = {m for m in MODULES if m.count(".") == 1 and m.startswith(MOCK + ".")}
    top = {"mock_server.app", "mock_server.cli", "mock_server.workers", "mock_server.rsgi",
           "mock_server.__main__"}
    assert packages - top <= set(RULES), sorted(packages - top - set(RULES))
    assert len(RULES) >= 13


def test_the_rules_follow_lazy_and_type_only_imports() -> None:
    """The checker itself: an import inside a function or under TYPE_CHECKING counts."""
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from mock_server.state.memory import InMemoryStore\n"
        "def f():\n    import flask\n"
    )
    tree = ast.parse(source)
    names = {n.module if isinstance(n, ast.ImportFrom) else n.names[0].name
             for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)}
    assert {"mock_server.state.memory", "flask"} <= names


def test_importing_the_domain_loads_no_web_framework_or_engine() -> None:
    """The static rule, confirmed at run time in a fresh interpreter."""
    import subprocess

    code = ("import sys, mock_server.domain.activities, mock_server.domain.tracking\n"
            "print(sorted(m for m in ('flask', 'werkzeug', 'sqlite3', 'psycopg') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"
