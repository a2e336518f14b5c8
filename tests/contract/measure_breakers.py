"""Measure the kit against every broken variant: catch rate, time, requests.

    .venv/bin/python -m tests.contract.measure_breakers [--max-examples N] [--seed N]

Each variant (one per breaker of `breaker_cases.py`, and the conformant mock) is served in
this process and checked by the default run (`RunOptions()` but for the seed, so the figures
can be reproduced), the way `contracts run` would check a deployment. A variant is caught
when the run's verdict is FAILED and the check the case expects is among the failed ones.
Prints a markdown table and writes `test-artifacts/breakers-measured.json`.

Not a test: it takes minutes. `test_breakers.py` is the test, with narrower runs.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from contracts import RunOptions, Status, Target, TokenSource, run

from .breaker_cases import CASES, Case
from .conftest import API_KEY, MOCK_CONFIG, OTHER_USER

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _token(user: str | None = None) -> str:
    command = [sys.executable, "-m", "mock_server", "token"] + (["--user", user] if user else [])
    return subprocess.run(command, capture_output=True, text=True, check=True,
                          timeout=60).stdout.strip().splitlines()[-1]


def _variants() -> dict[str, Case | None]:
    """One case per broken deployment (cases that share a breaker are one), and the mock."""
    variants: dict[str, Case | None] = {"conformant mock": None}
    variants.update({name: case for name, case in CASES.items() if not case.same_deployment_as})
    return variants


def measure(*, seed: int, max_examples: int) -> list[dict[str, Any]]:
    from mock_server.app import create_app

    tokens = {"main": _token(), "other": _token(OTHER_USER)}
    rows = []
    for name, case in _variants().items():
        app = create_app(dict(MOCK_CONFIG))
        served = case.breaker(app, tokens) if case else app
        target = Target.from_wsgi(served, api_key=API_KEY, token=TokenSource(token=tokens["main"]),
                                  other_token=TokenSource(token=tokens["other"]))
        started = time.monotonic()
        try:
            report = run(target, options=RunOptions(seed=seed, max_examples=max_examples))
        finally:
            target.close()
        failed = sorted({o.check for o in report.outcomes if o.status == Status.FAILED})
        expected = sorted(case.caught_by) if case else []
        caught = (report.verdict.value == "FAILED" and case is not None
                  and case.check in failed)
        rows.append({
            "variant": name, "set": ("beyond schema" if case and case.beyond_schema
                                     else "first" if case else "-"),
            "expected": expected, "failed": failed, "verdict": report.verdict.value,
            "caught": caught if case else report.verdict.value == "OK",
            "seconds": round(time.monotonic() - started, 1), "requests": report.requests,
            "requests_per_second": round(report.requests_per_second),
            "gaps": [f"{gap.kind} {gap.what}: {gap.why}" for gap in report.gaps],
        })
        print(f"{name}: {rows[-1]['verdict']} caught={rows[-1]['caught']} "
              f"{rows[-1]['seconds']}s {report.requests} requests", file=sys.stderr, flush=True)
    return rows


def render(rows: list[dict[str, Any]]) -> str:
    lines = ["| variant | verdict | caught by the expected check | other checks failing | "
             "time (s) | requests |", "| --- | --- | --- | --- | ---: | ---: |"]
    for row in rows:
        others = [name for name in row["failed"] if name not in row["expected"]]
        lines.append(f"| {row['variant']} | {row['verdict']} | "
                     f"{'yes' if row['caught'] else 'NO'} | {', '.join(others) or '-'} | "
                     f"{row['seconds']} | {row['requests']} |")
    broken = [row for row in rows if row["set"] != "-"]
    caught = sum(row["caught"] for row in broken)
    lines.append("")
    lines.append(f"caught {caught} of {len(broken)} broken variants; conformant mock: "
                 f"{rows[0]['verdict']}; total {sum(r['seconds'] for r in rows):.0f} s, "
                 f"{sum(r['requests'] for r in rows)} requests")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=20240521)
    parser.add_argument("--max-examples", type=int, default=10)
    args = parser.parse_args()
    rows = measure(seed=args.seed, max_examples=args.max_examples)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "breakers-measured.json").write_text(json.dumps(rows, indent=2) + "\n")
    print(render(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
