"""The behaviour check registry: what a check is, how it is registered, how it ends.

A check is a plain function `check(ctx)` named for the property it asserts, registered with
`@behaviour_check(rule=..., cites=..., operations=...)`. It says where the documents state the
rule (`cites`), so a failure points a reader at the sentence the service broke, and which
operations it needs, so a selection or `--read-only` skips it with the reason instead of
letting it fail.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..results import Exchange
from ..spec import ApiName, Selection, Spec
from ..target import Target

if TYPE_CHECKING:
    from .context import CheckContext

CheckFunction = Callable[["CheckContext"], None]

__all__ = [
    "ACTIVITIES",
    "REGISTRY",
    "TRACKING",
    "BehaviourCheck",
    "CheckRegistry",
    "SkipCheck",
    "Violation",
    "behaviour_check",
]

#: How citations name the two documents (their titles in /work/shared/seeds).
ACTIVITIES = "Sport Activities API"
TRACKING = "Sports Tracking Data API"


class Violation(AssertionError):
    """A documented rule was broken; carries the exchange that shows it."""

    def __init__(self, message: str, exchange: Exchange | None = None,
                 operation: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.exchange = exchange
        self.operation = operation


class SkipCheck(Exception):
    """The check cannot run against this target or selection; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class BehaviourCheck:
    """A registered check and what it needs to run."""

    name: str
    func: CheckFunction
    rule: str
    cites: tuple[str, ...]
    #: operationIds the check sends requests to (besides what it can do without).
    operations: tuple[str, ...]
    #: Whether it creates or changes data (so `--read-only` skips it unless `read_only_ok`).
    writes: bool = True
    #: It has a read-only variant (e.g. on existing data), used under `--read-only`.
    read_only_ok: bool = False
    #: operationIds the read-only variant needs.
    read_only_operations: tuple[str, ...] = ()
    needs_other_user: bool = False
    #: False for checks that work with the API key alone (the public list).
    needs_token: bool = True
    api: ApiName = "activities"

    #: Runs long (a state machine): started first, so it does not end the phase alone.
    long_running: bool = False

    def skip_reason(self, target: Target, spec: Spec, selection: Selection) -> str | None:
        """Why this check cannot run here, or None."""
        if self.needs_other_user and not target.has_user("other"):
            return ("needs a second user's token (--other-token or --other-token-command) to "
                    "act as someone other than the owner")
        if self.needs_token and not target.has_user("main"):
            return "needs a bearer token (--token or --token-command)"
        return self.deselected_by(target, spec, selection)

    def deselected_by(self, target: Target, spec: Spec, selection: Selection) -> str | None:
        """Why the run's own choices (`--read-only`, the selection) leave this check out."""
        read_only = selection.read_only or target.read_only
        if read_only and self.writes and not self.read_only_ok:
            return "sends writes, and the target is read-only (--read-only)"
        needed = self.read_only_operations if read_only and self.writes else self.operations
        selected = {op.operation_id for op in spec.select(selection)}
        missing = [op for op in needed if op not in selected]
        if missing:
            return "needs operations outside the selection: " + ", ".join(missing)
        return None


class CheckRegistry:
    """All behaviour checks by name; `behaviour_check` adds one."""

    def __init__(self) -> None:
        self._checks: dict[str, BehaviourCheck] = {}

    def register(self, *, name: str | None = None,
                 **fields: Any) -> Callable[[CheckFunction], CheckFunction]:
        """`@behaviour_check(rule=..., cites=..., operations=..., ...)`: the fields of
        `BehaviourCheck`; the check is named for its function unless `name` is given."""

        def decorate(func: CheckFunction) -> CheckFunction:
            check_name = name or func.__name__
            if check_name in self._checks:
                raise ValueError(f"behaviour check {check_name!r} registered twice")
            self._checks[check_name] = BehaviourCheck(name=check_name, func=func, **fields)
            return func

        return decorate

    def __iter__(self) -> Iterator[BehaviourCheck]:
        return iter(self._checks.values())

    def __getitem__(self, name: str) -> BehaviourCheck:
        return self._checks[name]

    def __contains__(self, name: object) -> bool:
        return name in self._checks

    def __len__(self) -> int:
        return len(self._checks)

    def names(self) -> list[str]:
        return list(self._checks)


REGISTRY = CheckRegistry()
behaviour_check = REGISTRY.register
