"""One command that loads the mock and Stoplight Prism with wrk and prints the comparison.

    .venv/bin/python bench/run.py                  # full run (about 25 minutes)
    .venv/bin/python bench/run.py --quick --no-prism  # a second per measurement (smoke test)

What it measures, in one run on this machine, with the same requests for every target:

* ``startup``: the default ``mock-server serve``'s time from start to its first 200, with the
  default data, several starts, with the machine's load at each;
* ``throughput``: requests/s, p50 and p99 latency and errors of five scenarios (list events
  near a point, get one event, create an event, subscribe, upload a small file) against the
  default ``mock-server serve`` (no flags: a worker per core, SQLite state), the same on a
  PostgreSQL state (``--state-url``), and Prism 5 (static examples and ``-d`` random data),
  taking turns; ratios to Prism static and PostgreSQL to SQLite; memory idle and after;
* ``scale``: 10,000 to 1,000,000 events: time to ready (for PostgreSQL, on an empty database
  and again from the existing one), then the list's p50 and p99 with one connection at each of
  ten points, in the default mode and in PostgreSQL mode;
* ``replicas``: one replica on PostgreSQL, directly and behind HAProxy, then two behind
  HAProxy: what a replica costs (memory, connections, CPU per request) and buys;
* ``contracts``: issue 13's speed figures: the default ``contracts run`` (seed 42, no time
  budget) against the default mock, and again with 20 ms added to every answer: seconds,
  requests, requests/s, its RESULT line and exit status.

It installs what it lacks (wrk from Debian's packages, Prism with ``tools/install.sh`` into
``tools/node_modules``), starts every server in its own process group and stops each of them
in a ``finally``, so nothing it started outlives it. Results go to stdout (tables) and to a
JSON file (``--json``, default ``bench/results.json``). ``bench/README.md`` says how to read
them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

if __package__ in (None, ""):  # run as a script: make `bench` and `mock_server` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.loadgen import (  # noqa: E402
    CITIES,
    CITY_NAMES,
    SCENARIOS,
    Context,
    Load,
    Result,
    aggregate,
    children_cpu_seconds,
    create_body,
    fixed_request_script,
    fixture_users,
    machine_busy_seconds,
    make_token,
    measure,
    measure_scenario,
    median,
    prepare_subscriptions,
    rotating_request_script,
    upload_body,
)
from bench.servers import (  # noqa: E402
    API_KEY,
    BENCH,
    ROOT,
    Postgres,
    Processes,
    Target,
    alone,
    cpu_seconds,
    ensure_prism,
    ensure_wrk,
    load_average,
    postgres_server,
    start_balancer,
    start_mock,
    start_prism,
)
from bench.tables import POSTGRES, POSTGRES_NOFSYNC, print_tables, verdicts  # noqa: E402

__all__ = ["CITIES", "main"]  # bench/catalog.py takes the ten points from here
PARTS = ("startup", "throughput", "scale", "replicas", "contracts")
Part = Callable[[argparse.Namespace, Processes, str, Path, Context, dict[str, Any]], None]


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextmanager
def maybe_postgres(procs: Processes, wanted: bool = True, *,
                   durable: bool = True) -> Iterator[Postgres | None]:
    """A PostgreSQL server for a part, if ``wanted``; the part's servers stop before it."""
    if not wanted:
        yield None
        return
    with postgres_server(durable=durable) as server:
        try:
            yield server
        finally:
            procs.stop_all()


def measured_commit() -> str:
    """The commit measured, with ``+changes`` when the work tree differs from it, so a results
    file says which code its figures belong to (parts re-measured by ``--update`` each keep
    their own in ``part_commits``)."""
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    changed = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench/results*")
    return f"{commit}+changes" if changed else commit


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def pg_flags(args: argparse.Namespace, url: str) -> list[str]:
    return [*args.mock_args, "--state-url", url]


# -- start to first 200 ----------------------------------------------------------------------


def startup(args: argparse.Namespace, procs: Processes, wrk: str, workdir: Path, ctx: Context,
            report: dict[str, Any]) -> None:
    """The default ``mock-server serve`` (default data), started ``--startup-runs`` times.

    Each start is timed from ``Popen`` to the first 200 of a list request, with the load
    average before it and the cores other processes used meanwhile.
    """
    runs = []
    for _ in range(1 if args.quick else args.startup_runs):
        time.sleep(1.0)  # let the previous server's exit settle
        before = load_average()
        busy, ours = machine_busy_seconds(), own_cpu_seconds()
        started = time.monotonic()
        mock, ready = start_mock(procs, args.mock_args, workdir)
        mock_cpu = cpu_seconds(mock.process.pid)
        others = machine_busy_seconds() - busy - mock_cpu - (own_cpu_seconds() - ours)
        elapsed = time.monotonic() - started
        time.sleep(0.5)
        memory = mock.memory()
        procs.stop(mock.process)
        runs.append({"s": round(ready, 3), "load_average": before,
                     "others_cores": round(max(0.0, others) / elapsed, 2),
                     "mock_cpu_s": round(mock_cpu, 2), "memory_idle": memory})
        log(f"  start to first 200: {ready:.3f} s (load {before}, others "
            f"{runs[-1]['others_cores']} cores, the mock's CPU {mock_cpu:.2f} s)")
    times = [run["s"] for run in runs]
    report["startup"] = {
        "flags": " ".join(args.mock_args) or "(none)", "runs": runs,
        "median_s": round(median(times), 3), "max_s": max(times), "min_s": min(times),
    }


# -- throughput ------------------------------------------------------------------------------


def take_turns(wrk: str, targets: Sequence[Target], scenarios: Sequence[str], ctx: Context,
               load: Load, workdir: Path, rounds: int,
               subscribe_events: dict[str, list[int]] | None = None, *,
               together: bool = False) -> dict[tuple[str, str], list[Result]]:
    """Each scenario on each target in turn, ``rounds`` times; every round's result.

    The target measured runs alone, the others paused (``servers.alone``), unless
    ``together``. ``subscribe_events``: per target, the events its subscribe scenario may
    use, split between the rounds so no (event, user) pair is sent twice.
    """
    results: dict[tuple[str, str], list[Result]] = {}
    for turn in range(rounds):
        for scenario in scenarios:
            for target in targets:
                events = (subscribe_events or {}).get(target.name, [])
                ctx.subscribe_events = events[turn::rounds]
                others = [] if together else [t for t in targets if t is not target]
                with alone(target, others):
                    result = measure_scenario(wrk, target, scenario, ctx, load, workdir)
                results.setdefault((target.name, scenario), []).append(result)
    return results


def throughput(args: argparse.Namespace, procs: Processes, wrk: str, workdir: Path,
               ctx: Context, report: dict[str, Any]) -> None:
    """Every scenario against every target, the targets taking turns scenario by scenario.

    The machine is shared: other jobs come and go, and a target measured a minute after
    another may meet a different load. Taking turns (mock, mock on PostgreSQL, Prism, Prism
    -d, then the next scenario) gives each the same conditions, as far as can be; each round
    of ``--rounds`` repeats the whole turn, and the table shows the median of each figure.
    """
    load = Load(args.connections, args.threads, args.duration)
    started: dict[str, float] = {}
    with (maybe_postgres(procs, not args.no_postgres) as pg,
          maybe_postgres(procs, not args.no_postgres, durable=False) as pg_nofsync):
        mock, started["mock"] = start_mock(procs, args.mock_args, workdir)
        targets = [mock]
        for name, server in ((POSTGRES, pg), (POSTGRES_NOFSYNC, pg_nofsync)):
            if server is not None:
                target, started[name] = start_mock(
                    procs, pg_flags(args, server.create_database()), workdir, name=name,
                    postgres=server)
                targets.append(target)
        if not args.no_prism:
            prism = ensure_prism()
            for dynamic in (False, True):
                target, ready = start_prism(procs, prism, dynamic, workdir)
                started[target.name] = ready
                targets.append(target)
        time.sleep(0.5)
        memory = {target.name: {"idle": target.memory()} for target in targets}
        # Enough events that no (event, user) pair repeats at 20k subscriptions/s.
        needed = int(args.duration * args.rounds * 20_000 / max(1, len(ctx.users))) + 10
        prepared = {target.name: prepare_subscriptions(target, ctx, needed)
                    for target in targets if target.name.startswith("mock")}
        scenarios = [s for s in SCENARIOS if s in args.scenarios]
        rounds = take_turns(wrk, targets, scenarios, ctx, load, workdir, args.rounds, prepared,
                            together=args.together)
        for target in targets:
            memory[target.name]["after_load"] = target.memory()
    report["start_to_first_200_s"] = {name: round(s, 3) for name, s in started.items()}
    report["memory"] = memory
    report["throughput"] = [asdict(aggregate(rounds[(target.name, scenario)]))
                            for target in targets for scenario in scenarios]
    report["throughput_rounds"] = {f"{name} {scenario}": [asdict(r) for r in runs]
                                   for (name, scenario), runs in rounds.items()}


# -- scale -----------------------------------------------------------------------------------


def list_path(point: tuple[float, float]) -> str:
    return f"/activities/v1/events?latitude={point[0]}&longitude={point[1]}"


def latency_by_point(wrk: str, target: Target, workdir: Path, seconds: float) -> list[dict]:
    """The list at each of the ten points in turn, one connection (latency = service time)."""
    rows = []
    for name, point in zip(CITY_NAMES, CITIES, strict=True):
        answer = requests.get(target.base + list_path(point), headers={"X-Api-Key": API_KEY},
                              timeout=30)
        answer.raise_for_status()
        script = fixed_request_script("GET", list_path(point), {"X-Api-Key": API_KEY}, None)
        result = measure(wrk, target, "list", script, Load(1, 1, seconds), workdir, quiet=True)
        rows.append({"point": name, "matches": answer.json()["meta"]["total"],
                     "p50_ms": result.p50_ms, "p99_ms": result.p99_ms, "rps": result.rps,
                     "requests": result.requests, "errors": result.errors,
                     "load_average": result.load_average, "others_cores": result.others_cores,
                     "cpu_us": result.cpu_us})
    worst = max(rows, key=lambda row: row["p99_ms"])
    log(f"    points: p50 {min(r['p50_ms'] for r in rows)}-{max(r['p50_ms'] for r in rows)} ms,"
        f" p99 up to {worst['p99_ms']} ms ({worst['point']}), errors "
        f"{sum(r['errors'] for r in rows)} (load {load_average()})")
    return rows


def loaded_list(wrk: str, target: Target, workdir: Path, args: argparse.Namespace) -> Result:
    """The ten points rotated over ``--connections`` connections: throughput under load."""
    script = rotating_request_script([list_path(p) for p in CITIES], {"X-Api-Key": API_KEY})
    return measure(wrk, target, "list (10 points)", script,
                   Load(args.connections, args.threads, args.scale_duration), workdir)


def scale_row(mode: str, count: int, ready: dict[str, float], target: Target,
              points: list[dict], loaded: Result, idle: dict[str, float]) -> dict[str, Any]:
    return {
        "mode": mode, "events": count, **{k: round(v, 2) for k, v in ready.items()},
        "points": points,
        "p50_ms_max": max(p["p50_ms"] for p in points),
        "p99_ms_max": max(p["p99_ms"] for p in points),
        "errors": sum(p["errors"] for p in points) + loaded.errors,
        "rps_loaded": loaded.rps, "p99_loaded_ms": loaded.p99_ms,
        "memory_idle": idle, "memory_after": target.memory(),
        "load_average": points[0]["load_average"],
    }


def scale(args: argparse.Namespace, procs: Processes, wrk: str, workdir: Path, ctx: Context,
          report: dict[str, Any]) -> None:
    """The list at 10,000 to 1,000,000 events, in the default mode and on PostgreSQL.

    PostgreSQL mode starts twice on one database: first on an empty one (the mock writes
    its base change, then builds the fixtures), then again from what the first left.
    """
    rows: list[dict[str, Any]] = []
    report["scale"] = rows
    pg_scales = [] if args.no_postgres else [c for c in args.pg_scales if c in args.scales]
    with maybe_postgres(procs, bool(pg_scales)) as pg:
        for count in args.scales:
            log(f"  {count:,} events, default mode")
            mock, ready = start_mock(procs, [*args.mock_args, "--events", str(count)], workdir,
                                     timeout=900)
            ready_cpu = cpu_seconds(mock.process.pid)
            log(f"    ready in {ready:.2f} s, {ready_cpu:.1f} CPU s (load {load_average()})")
            time.sleep(0.5)
            idle = mock.memory()
            points = latency_by_point(wrk, mock, workdir, args.point_duration)
            loaded = loaded_list(wrk, mock, workdir, args)
            rows.append(scale_row("default", count, {"ready_s": ready, "ready_cpu_s": ready_cpu},
                                  mock, points, loaded, idle))
            procs.stop(mock.process)
            if pg is None or count not in pg_scales:
                continue
            log(f"  {count:,} events, PostgreSQL mode")
            url = pg.create_database()
            flags = [*pg_flags(args, url), "--events", str(count)]
            mock, first = start_mock(procs, flags, workdir, name="mock pg", timeout=900,
                                     postgres=pg)
            first_cpu = cpu_seconds(mock.process.pid)
            log(f"    ready on an empty database in {first:.2f} s, {first_cpu:.1f} CPU s "
                f"(load {load_average()})")
            time.sleep(0.5)
            idle = mock.memory()
            points = latency_by_point(wrk, mock, workdir, args.point_duration)
            loaded = loaded_list(wrk, mock, workdir, args)
            procs.stop(mock.process)
            time.sleep(0.5)
            mock, second = start_mock(procs, pg_flags(args, url), workdir, name="mock pg",
                                      timeout=900, postgres=pg)
            second_cpu = cpu_seconds(mock.process.pid)
            log(f"    ready again from the database in {second:.2f} s, {second_cpu:.1f} CPU s "
                f"(load {load_average()})")
            rows.append(scale_row("postgresql", count,
                                  {"ready_first_s": first, "ready_first_cpu_s": first_cpu,
                                   "ready_second_s": second, "ready_second_cpu_s": second_cpu},
                                  mock, points, loaded, idle))
            procs.stop(mock.process)


# -- replicas --------------------------------------------------------------------------------


def replicas(args: argparse.Namespace, procs: Processes, wrk: str, workdir: Path,
             ctx: Context, report: dict[str, Any]) -> None:
    """One replica on PostgreSQL, directly and behind HAProxy; then a second one, both
    behind HAProxy, and the first alone while the other follows its writes.

    Both replicas run on this machine, so the second adds processes but no core: what it
    buys in throughput cannot show here, what it costs can (memory, connections, CPU time per
    request for the mock, PostgreSQL and HAProxy). bench/README.md reasons from these costs
    to a second machine.
    """
    load = Load(args.connections, args.threads, args.duration)
    scenarios = [s for s in args.replica_scenarios if s in SCENARIOS]
    with maybe_postgres(procs) as pg:
        assert pg is not None
        url = pg.create_database()
        first, _ = start_mock(procs, pg_flags(args, url), workdir, name="1 replica",
                              postgres=pg)
        balanced = start_balancer(procs, "1 replica, HAProxy", [first], workdir, pg)
        facts = {"1 replica": {"memory": first.memory(), "connections": pg.connections(url)}}
        rows = take_turns(wrk, [first, balanced], scenarios, ctx, load, workdir, args.rounds,
                          together=args.together)
        second, _ = start_mock(procs, pg_flags(args, url), workdir, name="replica 2",
                               postgres=pg)
        both = start_balancer(procs, "2 replicas, HAProxy", [first, second], workdir, pg)
        beside = replace(first, name="1 of 2 replicas",
                         components={**first.components, "other replica": (second.process.pid,)})
        facts["2 replicas"] = {"memory": [first.memory(), second.memory()],
                               "connections": pg.connections(url)}
        rows |= take_turns(wrk, [both, beside], scenarios, ctx, load, workdir, args.rounds,
                           together=args.together)
    report["replicas"] = {
        "rows": [asdict(aggregate(runs)) for runs in rows.values()],
        "rounds": {f"{name} {scenario}": [asdict(r) for r in runs]
                   for (name, scenario), runs in rows.items()},
        **facts,
    }


# -- contracts run ---------------------------------------------------------------------------

#: The admin key of a default ``mock-server serve`` (docs/controls.md).
ADMIN_KEY = "admin-dev-key"
#: Issue 13's speed targets for the default run: local, and with 20 ms added to every answer.
CONTRACTS_RUNS = (("local", 0, 30.0), ("20 ms latency", 20, 90.0))


def contracts_command(args: argparse.Namespace, base: str, out_json: Path) -> list[str]:
    """The default ``contracts run`` a user types (no token: the kit takes two users from the
    mock's admin API; no ``--time-budget``), seeded; ``--quick`` lowers ``--max-examples``."""
    cli = ROOT / ".venv" / "bin" / "contracts"
    program = [str(cli)] if cli.exists() else [sys.executable, "-m", "contracts"]
    command = [*program, "run", "--url", base, "--api-key", API_KEY, "--generation-seed", "42",
               "--report-json", str(out_json), "--no-progress"]
    if args.contracts_max_examples:
        command += ["--max-examples", str(args.contracts_max_examples)]
    return command


def result_line(output: str) -> str | None:
    """The kit's last ``RESULT:`` line (it prints one first and one last)."""
    lines = [line.strip() for line in output.splitlines() if line.startswith("RESULT:")]
    return lines[-1] if lines else None


def add_latency(base: str, latency_ms: int) -> None:
    answer = requests.post(f"{base}/__admin/faults", headers={"X-Admin-Key": ADMIN_KEY},
                           json={"kind": "latency", "latency_ms": latency_ms}, timeout=10)
    if answer.status_code != 201:
        raise RuntimeError(f"POST /__admin/faults answered {answer.status_code}: {answer.text}")


def fault_hits(base: str) -> int:
    answer = requests.get(f"{base}/__admin/faults", headers={"X-Admin-Key": ADMIN_KEY},
                          timeout=10)
    answer.raise_for_status()
    return sum(rule["hits"] for rule in answer.json()["faults"])


def contracts_run(args: argparse.Namespace, procs: Processes, workdir: Path, name: str,
                  latency_ms: int, target_s: float) -> dict[str, Any]:
    """One default run against a fresh default mock (so both runs meet the same data)."""
    mock, _ = start_mock(procs, args.mock_args, workdir)
    try:
        if latency_ms:
            add_latency(mock.base, latency_ms)
        out_json = workdir / f"contracts-{latency_ms}.json"
        command = contracts_command(args, mock.base, out_json)
        load_before = load_average()
        started = time.monotonic()
        try:
            done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                                  timeout=args.contracts_timeout)
            code, output = done.returncode, done.stdout + done.stderr
        except subprocess.TimeoutExpired as exc:
            code = None
            output = (exc.stdout or b"").decode() + (exc.stderr or b"").decode()
        elapsed = time.monotonic() - started
        data = json.loads(out_json.read_text()) if out_json.exists() else {}
        operations = [op for op in data.get("coverage", {}).get("operations", [])
                      if op.get("selected")]
        run = {
            "run": name, "latency_ms": latency_ms, "seconds": round(elapsed, 1),
            "requests": data.get("requests"),
            "rps": round(data["requests"] / elapsed, 1) if data.get("requests") else None,
            "kit_rps": data.get("requests_per_second"), "exit_code": code,
            "result": result_line(output) or ("timed out" if code is None else None),
            "operations_reached": sum(1 for op in operations if op.get("requests")),
            "operations": len(operations), "not_checked": len(data.get("not_checked", [])),
            "target_s": target_s, "load_average": load_before,
            "max_examples": args.contracts_max_examples or "default",
            "command": " ".join(command[1:]).replace(mock.base, "URL"),
        }
        if latency_ms:
            run["fault_hits"] = fault_hits(mock.base)
        if code not in (0, 1, 3):  # a crash or a timeout: keep what it printed last
            run["output_tail"] = output[-600:]
        return run
    finally:
        procs.stop(mock.process)


def contracts_speed(args: argparse.Namespace, procs: Processes, wrk: str, workdir: Path,
                    ctx: Context, report: dict[str, Any]) -> None:
    """Issue 13's speed figures: the default ``contracts run`` against the local default mock,
    and against the same mock with 20 ms added to every answer (its own latency fault), the
    way a partner's CI would run it; seconds, requests, requests/s and the verdict."""
    runs = []
    for name, latency_ms, target_s in CONTRACTS_RUNS:
        runs.append(contracts_run(args, procs, workdir, name, latency_ms, target_s))
        log(f"  contracts run, {name}: {runs[-1]['seconds']} s, {runs[-1]['requests']} "
            f"requests, {runs[-1]['rps']}/s, {runs[-1]['result']} (exit {runs[-1]['exit_code']})")
    report["contracts"] = {"runs": runs}


# -- the run ---------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    def listed(value: str) -> list[str]:
        return [item for item in value.split(",") if item]

    def counts(value: str) -> list[int]:
        return [int(item) for item in listed(value)]

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="1 s per measurement, 10,000 events only, one start, contracts runs "
                             "with --max-examples 2 (the smoke test's mode)")
    parser.add_argument("--no-prism", action="store_true", help="load the mock only")
    parser.add_argument("--no-postgres", action="store_true",
                        help="leave PostgreSQL mode out (throughput and scale)")
    for part in PARTS:
        parser.add_argument(f"--no-{part}", action="store_true", help=f"skip the {part} part")
    parser.add_argument("--only", choices=PARTS, action="append",
                        help="run only these parts (repeatable)")
    parser.add_argument("--duration", type=float, default=10.0,
                        help="seconds per scenario (throughput, replicas)")
    parser.add_argument("--together", action="store_true",
                        help="keep every target running while one is measured (by default the "
                             "others are paused: see bench/README.md)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="turns of every scenario on every target; medians are shown")
    parser.add_argument("--scenarios", type=listed, default=list(SCENARIOS),
                        help=f"comma-separated subset of {','.join(SCENARIOS)}")
    parser.add_argument("--replica-scenarios", type=listed, default=["get", "create"])
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--startup-runs", type=int, default=5)
    parser.add_argument("--scales", type=counts, default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--pg-scales", type=counts, default=[1_000_000],
                        help="the scales also measured in PostgreSQL mode")
    parser.add_argument("--point-duration", type=float, default=5.0,
                        help="seconds of one-connection load per point (scale)")
    parser.add_argument("--scale-duration", type=float, default=10.0,
                        help="seconds of the ten points over --connections (scale)")
    parser.add_argument("--contracts-timeout", type=float, default=600.0,
                        help="seconds a contracts run may take before it is stopped")
    parser.add_argument("--contracts-max-examples", type=int, default=None,
                        help="--max-examples for the contracts runs (default: the kit's own)")
    parser.add_argument("--mock-args", type=lambda v: v.split(), default=[],
                        help="`mock-server serve` flags besides --port (default: none, the "
                             "default a user gets)")
    parser.add_argument("--json", type=Path, default=BENCH / "results.json")
    parser.add_argument("--update", action="store_true",
                        help="keep the --json file's other parts: re-measure only these "
                             "(each part's date is in part_dates)")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds = 1
        args.duration = args.scale_duration = args.point_duration = 1.0
        args.scales = args.pg_scales = [10_000]
        args.contracts_max_examples = args.contracts_max_examples or 2
        args.contracts_timeout = min(args.contracts_timeout, 180.0)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    only = set(args.only or PARTS)
    wrk = ensure_wrk()
    report: dict[str, Any] = {}
    if args.update and args.json.exists():  # re-measure some parts, keep the others' figures
        report = json.loads(args.json.read_text())
        report.pop("failures", None)
    report.update({
        "date": report.get("date") or now(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()} "
                   f"{platform.release()}, Python {platform.python_version()}",
        "load_average_at_start": load_average(),
        "settings": {"duration_s": args.duration, "rounds": args.rounds,
                     "connections": args.connections, "threads": args.threads,
                     "mock_args": args.mock_args, "point_duration_s": args.point_duration,
                     "quick": args.quick,
                     "contracts_max_examples": args.contracts_max_examples or "default"},
    })
    ctx = Context(token=make_token(), users=fixture_users(), create_body=create_body(),
                  upload_body=upload_body())
    procs = Processes()
    parts: dict[str, Part] = {"startup": startup, "throughput": throughput, "scale": scale,
                              "replicas": replicas, "contracts": contracts_speed}
    commit = measured_commit()
    report["commit"] = commit
    cpu_start = children_cpu_seconds()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        workdir = Path(tmp)
        try:
            for name, part in parts.items():
                if name not in only or getattr(args, f"no_{name}"):
                    continue
                log(f"bench: {name} (load {load_average()})")
                report.setdefault("part_dates", {})[name] = now()
                report.setdefault("part_commits", {})[name] = commit
                started = time.monotonic()
                try:
                    part(args, procs, wrk, workdir, ctx, report)
                except Exception as exc:  # keep what the other parts measured
                    report.setdefault("failures", {})[name] = f"{type(exc).__name__}: {exc}"
                    log(f"bench: {name} failed: {type(exc).__name__}: {exc}")
                finally:
                    procs.stop_all()
                report.setdefault("part_seconds", {})[name] = round(time.monotonic() - started)
                args.json.write_text(json.dumps(report, indent=2) + "\n")
        finally:
            procs.stop_all()
    report["load_average_at_end"] = load_average()
    report["wrk_cpu_s"] = round(children_cpu_seconds() - cpu_start, 1)
    report["targets"] = verdicts(report)
    print_tables(report)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nresults written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
