"""Behaviour checks: the documented rules, one named function each, in one registry.

One module per subject, each registering its checks on import:

- `registry`: what a check is (`BehaviourCheck`), `REGISTRY`, `@behaviour_check`, and how a
  check ends besides passing (`Violation`, `SkipCheck`);
- `context`: `CheckContext`, what a running check may use (HTTP through the target,
  hypothesis properties, cleanup);
- `compare`: comparing what was sent with what was answered;
- `events`, `listing`, `filters`, `subscriptions`, `auth`, `tracking`, `formats`, `links`:
  the checks, by subject;
- `stateful`: hypothesis state machines of the documented lifecycles (kept last, so they
  run after the plain checks, as they always have).
"""

from __future__ import annotations

from importlib import import_module

from .context import CheckContext
from .registry import REGISTRY, BehaviourCheck, CheckRegistry, SkipCheck, Violation, behaviour_check

#: Import order is registration order, which is the order a run takes the checks in (an
#: import statement would be sorted alphabetically by the linter).
SUBJECTS = ("events", "listing", "filters", "subscriptions", "auth", "tracking", "formats",
            "links", "stateful")
for _subject in SUBJECTS:
    import_module(f"{__name__}.{_subject}")

__all__ = [
    "REGISTRY",
    "SUBJECTS",
    "BehaviourCheck",
    "CheckContext",
    "CheckRegistry",
    "SkipCheck",
    "Violation",
    "behaviour_check",
]
