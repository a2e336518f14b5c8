"""The kit's public names: what `contracts` exports is listed, importable, and stays put.

Like httpx's `tests/test_exported_members.py`: `__all__` is exactly the public names of the
package, and the list below is what partners may import, so moving a module inside the kit
(as issue 10 did) cannot silently drop one.
"""

from __future__ import annotations

from types import ModuleType

import contracts

PUBLIC = [
    "ALL_PHASES",
    "API_NAMES",
    "EXIT_CODES",
    "DEFAULT_SPEC_PATH",
    "REGISTRY",
    "BehaviourCheck",
    "CheckContext",
    "Coverage",
    "CredentialsRefused",
    "Exchange",
    "Failure",
    "Gap",
    "LocalServer",
    "Operation",
    "Outcome",
    "Progress",
    "ReadOnlyViolation",
    "RunOptions",
    "RunReport",
    "Selection",
    "SkipCheck",
    "Spec",
    "Status",
    "Target",
    "TargetUnreachable",
    "TokenCommandError",
    "TokenSource",
    "Verdict",
    "Violation",
    "behaviour_check",
    "render_console",
    "render_coverage",
    "render_curl",
    "render_failure",
    "render_summary",
    "run",
    "run_behaviour_check",
    "to_json",
    "write_html",
    "write_json",
    "write_junit_xml",
]


def test_all_lists_exactly_the_public_names() -> None:
    public = {name for name, value in vars(contracts).items()
              if not name.startswith("_") and not isinstance(value, ModuleType)}
    assert public - {"annotations"} == set(contracts.__all__)
    assert len(contracts.__all__) == len(set(contracts.__all__))


def test_the_public_api_keeps_its_names() -> None:
    assert sorted(contracts.__all__) == sorted(PUBLIC)
    for name in PUBLIC:
        assert getattr(contracts, name) is not None, name


def test_public_classes_say_where_they_live() -> None:
    """Each class is defined in a kit module (not re-exported from a dependency)."""
    for name in PUBLIC:
        value = getattr(contracts, name)
        if isinstance(value, type):
            assert value.__module__.startswith("contracts."), (name, value.__module__)
