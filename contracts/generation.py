"""How the kit runs hypothesis against a live server: generate, never replay or shrink.

A live server keeps its state, so a failing example replayed later meets another state and
hypothesis would call the failure flaky; the kit therefore only runs the explicit and generate
phases, keeps no example database, and reports the first violation with the run's seed.
"""

from __future__ import annotations

import hypothesis

__all__ = ["live_settings"]


def live_settings(max_examples: int) -> hypothesis.settings:
    """Settings for a property or state machine whose examples are requests to a target."""
    return hypothesis.settings(
        max_examples=max(1, max_examples),
        database=None,
        deadline=None,
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        suppress_health_check=list(hypothesis.HealthCheck),
        verbosity=hypothesis.Verbosity.quiet,
        report_multiple_bugs=False,
    )
