"""Contract-testing kit for Decathlon's Sport Activities API v1 and Sports Tracking Data API v2.

Points schemathesis and the documented behaviour checks at any deployment (the offline mock, a
staging host, production in `--read-only`) and reports what broke, where the documents state
the rule, and how to replay it. The kit knows the APIs only through `openapi.yaml`.

    from contracts import Target, Verdict, run
    report = run(Target.from_base_url("http://127.0.0.1:8000", api_key="aaa-bbb-ccc"))
    assert report.verdict == Verdict.OK, report.gaps or report.failures

Layout:

- `spec`: `openapi.yaml` as data; `strategies`: valid inputs a client would send;
- `target`, `tokens`, `local_server`: where a deployment is, with which credentials, through
  one guarded session; `concurrency`: the threads that overlap requests and take turns;
- `shape_schema`, `shape`: schemathesis' phases and what a valid request may be answered;
- `behaviour/`: the documented rules as named checks, one module per subject, one registry;
- `preflight`, `mock_users`: credentials checked first, two users from the mock's admin API;
- `runner`, `gaps`, `results`: one run, what it could not exercise, the verdict, as data;
- `report/`: console, HTML, JSON, JUnit; `cli`, `pytest_plugin`: the two other entry points.

The user's page is `docs/contracts.md`.
"""

from __future__ import annotations

from .behaviour import (
    REGISTRY,
    BehaviourCheck,
    CheckContext,
    SkipCheck,
    Violation,
    behaviour_check,
)
from .local_server import LocalServer
from .report import (
    Progress,
    render_console,
    render_coverage,
    render_curl,
    render_failure,
    render_summary,
    to_json,
    write_html,
    write_json,
    write_junit_xml,
)
from .results import (
    EXIT_CODES,
    Coverage,
    Exchange,
    Failure,
    Gap,
    Outcome,
    RunReport,
    Status,
    Verdict,
)
from .runner import (
    ALL_PHASES,
    CredentialsRefused,
    RunOptions,
    TargetUnreachable,
    run,
    run_behaviour_check,
)
from .spec import API_NAMES, DEFAULT_SPEC_PATH, Operation, Selection, Spec
from .target import ReadOnlyViolation, Target
from .tokens import TokenCommandError, TokenSource

__all__ = [
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
