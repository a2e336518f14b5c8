"""The JSON report: the summary, every outcome, every failure and the coverage view."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..results import Exchange, RunReport, Status
from .exchange import excerpt, render_curl
from .summary import headline

__all__ = ["to_json", "write_json"]


def _exchange_json(exchange: Exchange | None, secrets: Mapping[str, str]) -> Any:
    if exchange is None:
        return None
    return {
        "curl": render_curl(exchange, secrets),
        "request": {"method": exchange.method, "url": exchange.url},
        "response": {
            "status": exchange.status,
            "reason": exchange.reason,
            "headers": exchange.response_headers,
            "body_excerpt": excerpt(exchange.response_body),
        },
    }


def to_json(report: RunReport, *, secrets: Mapping[str, str] | None = None) -> dict[str, Any]:
    secrets = dict(secrets or {})
    counts = report.counts()
    return {
        "target": report.target,
        "selection": report.selection,
        "seed": report.seed,
        "started_at": report.started_at,
        "duration_seconds": round(report.duration, 3),
        "requests": report.requests,
        "requests_per_second": round(report.requests_per_second, 1),
        "verdict": report.verdict.value,
        "exit_code": report.exit_code,
        "headline": headline(report),
        "ok": report.ok,
        "stopped_early": report.stopped_early or None,
        "not_checked": [{"kind": gap.kind, "what": gap.what, "why": gap.why}
                        for gap in report.gaps],
        "notes": report.notes,
        "summary": {
            "operations": report.operations,
            "checks": report.checks,
            **{status.value: counts[status] for status in Status},
        },
        "outcomes": [
            {
                "check": o.check, "kind": o.kind, "scope": o.scope, "status": o.status.value,
                "rule": o.rule, "cites": list(o.cites), "reason": o.reason or None,
                "duration_seconds": round(o.duration, 3), "examples": o.examples,
                "failures": len(o.failures), "deselected": o.deselected,
            }
            for o in report.outcomes
        ],
        "failures": [
            {
                "check": f.check, "operation": f.operation, "rule": f.rule,
                "cites": list(f.cites), "message": f.message, "seed": f.seed,
                "replay": f.replay or None, **(_exchange_json(f.exchange, secrets) or {}),
            }
            for f in report.failures
        ],
        "coverage": {
            "summary": {k: {"covered": c, "total": t}
                        for k, (c, t) in report.coverage.summary().items()},
            "operations": [
                {
                    "operation_id": op.operation_id, "operation": op.label,
                    "selected": op.selected, "requests": op.requests,
                    "statuses_seen": {str(k): v for k, v in sorted(op.seen.items())},
                    "documented_seen": op.documented_seen,
                    "documented_not_seen": op.documented_missed,
                    "undocumented_seen": op.undocumented,
                }
                for op in report.coverage.operations
            ],
            "links": [
                {"link": link.label, "source": link.source, "name": link.name,
                 "target": link.target, "followed": link.followed}
                for link in report.coverage.links
            ],
            "other_requests": report.coverage.other_requests,
        },
    }


def write_json(report: RunReport, path: str | Path, *,
               secrets: Mapping[str, str] | None = None) -> None:
    Path(path).write_text(json.dumps(to_json(report, secrets=secrets), indent=2) + "\n",
                          encoding="utf-8")

