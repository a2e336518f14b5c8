"""The benchmark runs: its quick mode (a second per measurement, Prism left out, contracts runs
with two examples) measures every part, the default mode and PostgreSQL mode, prints the tables
and writes its JSON. The figures
themselves are bench/README.md's business, not a test's: on a shared 2-core machine they vary
with whatever else runs; what is checked is that every measurement happened, on a server that
answered it without errors, and that the targets were judged from the run's own figures."""

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
POINTS = ["Lille", "Paris", "Lyon", "Marseille", "Bordeaux", "Nantes", "Strasbourg", "Brussels",
          "Amsterdam", "Barcelona"]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict]:
    if shutil.which("wrk") is None and os.geteuid() != 0:
        pytest.skip("wrk is missing and only root may apt-get install it")
    out = tmp_path_factory.mktemp("bench") / "results.json"
    done = subprocess.run(
        [sys.executable, "bench/run.py", "--quick", "--no-prism", "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(out.read_text())
    assert "failures" not in report, report.get("failures")
    return done.stdout, report


def test_it_prints_its_tables(run: tuple[str, dict]) -> None:
    stdout, _ = run
    for header in ("| target | scenario | req/s | p50 ms | p99 ms | requests | errors |",
                   "| run | start to first 200 s |", "| mode | events | ready s |",
                   "| point | matches | default p50 ms |", "| target | figure | met |",
                   "| contracts run | s | requests | req/s | operations reached | RESULT |"):
        assert header in stdout


def test_the_default_serve_and_postgresql_mode_take_every_scenario(run: tuple[str, dict]) -> None:
    _, report = run
    assert report["settings"]["mock_args"] == []  # the default a user gets, no flags
    rows = {(row["target"], row["scenario"]): row for row in report["throughput"]}
    scenarios = {"list", "get", "create", "subscribe", "upload"}
    targets = ("mock", "mock pg", "mock pg nofsync")
    assert set(rows) == {(target, s) for target in targets for s in scenarios}
    assert all(row["requests"] > 0 and row["errors"] == 0 for row in rows.values()), rows
    assert all(row["cpu_us"]["mock"] > 0 for row in rows.values())
    assert all(row["cpu_us"]["postgresql"] > 0 for (target, _), row in rows.items()
               if target.startswith("mock pg"))


def test_startup_is_timed_to_the_first_200(run: tuple[str, dict]) -> None:
    _, report = run
    [start] = report["startup"]["runs"]
    assert start["s"] > 0 and start["load_average"]


def test_the_list_is_measured_at_each_point_in_both_modes(run: tuple[str, dict]) -> None:
    _, report = run
    rows = {row["mode"]: row for row in report["scale"]}
    assert set(rows) == {"default", "postgresql"}
    for row in rows.values():
        assert row["events"] == 10_000 and row["errors"] == 0
        assert [point["point"] for point in row["points"]] == POINTS
        assert all(point["requests"] > 0 for point in row["points"])
    # the same data in both: the fixtures of one seed and size, whatever the engine
    assert ([p["matches"] for p in rows["default"]["points"]]
            == [p["matches"] for p in rows["postgresql"]["points"]])
    assert rows["default"]["points"][1]["matches"] > 0  # Paris is not empty
    assert rows["postgresql"]["ready_first_s"] > 0 and rows["postgresql"]["ready_second_s"] > 0


def test_replicas_are_measured_directly_and_behind_haproxy(run: tuple[str, dict]) -> None:
    _, report = run
    replicas = report["replicas"]
    rows = {(row["target"], row["scenario"]): row for row in replicas["rows"]}
    targets = ("1 replica", "1 replica, HAProxy", "2 replicas, HAProxy", "1 of 2 replicas")
    assert set(rows) == {(t, s) for t in targets for s in ("get", "create")}
    assert all(row["requests"] > 0 and row["errors"] == 0 for row in rows.values()), rows
    assert all(rows[(t, "get")]["cpu_us"]["haproxy"] > 0 for t in targets if "HAProxy" in t)
    assert replicas["2 replicas"]["connections"] > replicas["1 replica"]["connections"] > 0


def test_the_targets_are_judged_from_the_run(run: tuple[str, dict]) -> None:
    _, report = run
    judged = {verdict["target"]: verdict for verdict in report["targets"]}
    assert "PostgreSQL creates >= 1,000/s" in judged
    assert "start to first 200 < 1 s (default data, default serve)" in judged
    rows = {row["scenario"]: row for row in report["throughput"] if row["target"] == "mock pg"}
    assert judged["PostgreSQL creates >= 1,000/s"]["met"] == (rows["create"]["rps"] >= 1000)


def test_the_contracts_run_is_timed_near_and_20_ms_away(run: tuple[str, dict]) -> None:
    _, report = run
    runs = {r["run"]: r for r in report["contracts"]["runs"]}
    assert set(runs) == {"local", "20 ms latency"}
    for r in runs.values():
        assert r["max_examples"] == 2 and "--generation-seed 42" in r["command"]
        assert "--time-budget" not in r["command"]
        # the kit passes the mock, having sent something to every operation
        assert r["exit_code"] == 0 and r["result"].startswith("RESULT: OK"), r
        assert r["requests"] > 0 and r["operations_reached"] == r["operations"] > 0
        assert r["rps"] == pytest.approx(r["requests"] / r["seconds"], rel=0.02)  # wall time
    far = runs["20 ms latency"]
    assert far["fault_hits"] >= far["requests"] // 2  # the latency really met the kit's requests
    # issue 13's 30 s / 90 s targets are for the default run, not quick mode's two examples
    assert not [t for t in report["targets"] if "contracts" in t["target"]]
