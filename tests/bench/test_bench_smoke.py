"""The benchmark runs: a tiny mode (about a second per scenario, Prism left out) prints its
table and writes its JSON. The figures themselves are bench/README.md's business, not a test's:
on a shared 2-core machine they vary with whatever else runs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def test_the_benchmark_runs_and_prints_its_table(tmp_path: Path) -> None:
    if shutil.which("wrk") is None and os.geteuid() != 0:
        pytest.skip("wrk is missing and only root may apt-get install it")
    out = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, "bench/run.py", "--quick", "--no-prism", "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "| target | scenario | req/s | p50 ms | p99 ms | requests | errors |" in done.stdout
    assert "| events | ready s |" in done.stdout
    report = json.loads(out.read_text())
    assert "failures" not in report, report.get("failures")
    rows = {row["scenario"]: row for row in report["throughput"]}
    assert set(rows) == {"list", "get", "create", "subscribe", "upload"}
    assert all(row["requests"] > 0 and row["errors"] == 0 for row in rows.values()), rows
    assert report["mock_start_to_first_200_s"] > 0
    assert [row["events"] for row in report["scale"]] == [10_000]
