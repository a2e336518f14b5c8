"""One command that loads the mock and Stoplight Prism with wrk and prints the comparison.

    .venv/bin/python bench/run.py                  # full run (about 10 minutes)
    .venv/bin/python bench/run.py --quick --no-prism  # a few seconds per part (smoke test)

What it measures, in one run on this machine, with the same requests for every target:

* requests/s, p50 and p99 latency and errors of five scenarios (list events near a point, get
  one event, create an event, subscribe, upload a small file) against the mock (`mock-server
  serve`, request and response validation on) and Prism 5 (static examples and `-d` random
  data, logging at error level), then the ratio mock/Prism per scenario;
* the mock's time from start to first 200 and its memory idle and after the load;
* list latency and memory with 10,000, 100,000 and 1,000,000 events, and the time to be ready;
* requests/s of a bounded `contracts run` against the mock.

It installs what it lacks (wrk from Debian's packages, Prism from the npm registry into
`tools/node_modules`), starts every server in its own process group and stops each of them
in a `finally`, so nothing it started outlives it. Results go to stdout (tables) and to a JSON
file (`--json`, default `bench/results.json`).

Why wrk and Lua: a Python load generator would need more CPU than the servers it measures on
a 2-core machine; wrk drives 32 keep-alive connections from C. Per-request variation (a new
event and user for each subscription, a point per list query) is done in wrk's Lua, and the
numbers are read from wrk's own `done()` summary, so no per-response callback slows it down.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
#: Prism is pinned once for the repository, with the partners' tools the tests run
#: (tools/package-lock.json).
PRISM_BIN = ROOT / "tools" / "node_modules" / ".bin" / "prism"
API_KEY = "aaa-bbb-ccc"
DEFAULT_USER_ID = "28cce8e0-2d57-4e54-8888-2fc69690aeeb"
LILLE = (50.6292, 3.0573)
#: Points the scale test rotates through: dense (Lille, Paris) and sparse places.
CITIES = (
    LILLE,
    (48.8566, 2.3522),
    (45.7640, 4.8357),
    (43.2965, 5.3698),
    (44.8378, -0.5792),
    (47.2184, -1.5536),
    (48.5734, 7.7521),
    (50.8503, 4.3517),
    (52.3676, 4.9041),
    (41.3874, 2.1686),
)
SCENARIOS = ("list", "get", "create", "subscribe", "upload")
#: A small but real GPX track: what a watch uploads, 1 KB.
GPX = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<gpx version="1.1" creator="bench" xmlns="http://www.topografix.com/GPX/1/1"><trk>'
    "<name>Morning run</name><trkseg>"
    + "".join(
        f'<trkpt lat="{50.6292 + i * 0.0004:.6f}" lon="{3.0573 + i * 0.0003:.6f}">'
        f"<time>2026-11-30T08:{i:02d}:00Z</time></trkpt>"
        for i in range(12)
    )
    + "</trkseg></trk></gpx>\n"
)
BOUNDARY = "benchboundary7MA4YWxkTrZu0gW"


# -- processes -------------------------------------------------------------------------------


class Processes:
    """Every server this run starts, each in its own process group, all stopped at the end."""

    def __init__(self) -> None:
        self._started: list[subprocess.Popen[bytes]] = []

    def start(self, args: Sequence[str], *, env: dict[str, str] | None = None,
              log: Path | None = None) -> subprocess.Popen[bytes]:
        out = log.open("wb") if log else subprocess.DEVNULL
        process = subprocess.Popen(
            list(args), cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})}, start_new_session=True,
        )
        process.bench_log = log  # type: ignore[attr-defined]
        self._started.append(process)
        return process

    def stop(self, process: subprocess.Popen[bytes]) -> None:
        """SIGTERM the process group this run created for `process`, then SIGKILL if needed."""
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        try:  # children left behind by a parent that exited first (gunicorn workers, node)
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if process in self._started:
            self._started.remove(process)

    def stop_all(self) -> None:
        for process in list(self._started):
            self.stop(process)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tree_pids(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


def memory_mb(root: int) -> dict[str, float]:
    """RSS and PSS of a process and its descendants, in MB.

    RSS counts pages shared by forked workers once per process; PSS splits them, so its sum is
    what the process tree really costs the machine.
    """
    rss = pss = 0
    for pid in tree_pids(root):
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1])
        except OSError:
            continue
    return {"rss_mb": round(rss / 1024, 1), "pss_mb": round(pss / 1024, 1)}


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# -- installs --------------------------------------------------------------------------------


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("bench: installing wrk (apt-get install -y wrk)", file=sys.stderr)
    if subprocess.run(["apt-get", "install", "-y", "wrk"], capture_output=True).returncode:
        subprocess.run(["apt-get", "update"], capture_output=True, check=False)
        subprocess.run(["apt-get", "install", "-y", "wrk"], capture_output=True, check=True)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("bench: wrk is not installed and apt-get could not install it")
    return found


def ensure_prism() -> list[str]:
    """Prism at the version `tools/package-lock.json` pins (5.14.2), so reruns compare alike;
    `tools/install.sh` installs it with `npm ci` when it is missing."""
    if not PRISM_BIN.exists():
        print("bench: installing Prism into tools/node_modules", file=sys.stderr)
        subprocess.run(["bash", str(ROOT / "tools" / "install.sh")], check=True,
                       capture_output=True)
    return [str(PRISM_BIN)]


# -- targets ---------------------------------------------------------------------------------


@dataclass
class Target:
    """A running server and how each API's paths are spelled on it."""

    name: str
    process: subprocess.Popen[bytes]
    base: str  # http://127.0.0.1:port
    v1: str  # prefix of /v1 paths: "/activities" on the mock, "" on Prism
    v2: str

    def url(self, path: str) -> str:
        return self.base + (self.v1 if path.startswith("/v1") else self.v2) + path


def log_tail(process: subprocess.Popen[bytes], lines: int = 15) -> list[str]:
    log = getattr(process, "bench_log", None)
    if log is None or not Path(log).exists():
        return []
    return Path(log).read_text(errors="replace").splitlines(keepends=True)[-lines:]


def wait_ready(target: Target, timeout: float, started: float) -> float:
    """Seconds from `started` until a list request answers 200."""
    url = target.url(f"/v1/events?latitude={LILLE[0]}&longitude={LILLE[1]}")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if target.process.poll() is not None:
            raise RuntimeError(f"{target.name} exited with {target.process.returncode}:\n"
                               + "".join(log_tail(target.process)))
        try:
            if requests.get(url, headers={"X-Api-Key": API_KEY}, timeout=2).status_code == 200:
                return time.monotonic() - started
        except requests.RequestException:
            pass
        time.sleep(0.01)
    raise RuntimeError(f"{target.name} did not answer 200 within {timeout} s")


def start_mock(procs: Processes, extra: Sequence[str], logs: Path, *,
               timeout: float = 180.0) -> tuple[Target, float]:
    port = free_port()
    args = [sys.executable, "-m", "mock_server", "serve", "--port", str(port), *extra]
    started = time.monotonic()
    process = procs.start(args, log=logs / f"mock-{port}.log")
    target = Target("mock", process, f"http://127.0.0.1:{port}", "/activities",
                    "/sportstrackingdata")
    return target, wait_ready(target, timeout, started)


def start_prism(procs: Processes, prism: list[str], dynamic: bool, logs: Path) -> tuple[Target,
                                                                                        float]:
    port = free_port()
    args = [*prism, "mock", str(ROOT / "openapi.yaml"), "--port", str(port), "-v", "error"]
    if dynamic:
        args.append("-d")
    started = time.monotonic()
    process = procs.start(args, log=logs / f"prism-{port}.log")
    name = "prism -d" if dynamic else "prism"
    target = Target(name, process, f"http://127.0.0.1:{port}", "", "")
    return target, wait_ready(target, 120.0, started)


# -- wrk scripts -----------------------------------------------------------------------------


def lua_string(text: str) -> str:
    """A Lua string literal for any text (bytes above 127 as decimal escapes)."""
    out = []
    for byte in text.encode("utf-8"):
        char = chr(byte)
        if char in '"\\':
            out.append("\\" + char)
        elif 32 <= byte < 127:
            out.append(char)
        else:
            out.append(f"\\{byte}")
    return '"' + "".join(out) + '"'


def lua_list(items: Sequence[str]) -> str:
    return "{" + ", ".join(lua_string(item) for item in items) + "}"


LUA_DONE = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%d,"duration_us":%d,"status_errors":%d,"socket_errors":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""

LUA_THREADS = r"""
local counter = 0
local threads = {}
setup = function(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
"""


def fixed_request_script(method: str, path: str, headers: dict[str, str], body: str | None) -> str:
    header_table = "{" + ", ".join(f"[{lua_string(k)}] = {lua_string(v)}"
                                   for k, v in headers.items()) + "}"
    body_lua = lua_string(body) if body is not None else "nil"
    return (f"local req = nil\ninit = function(args)\n  req = wrk.format({lua_string(method)}, "
            f"{lua_string(path)}, {header_table}, {body_lua})\nend\n"
            "request = function() return req end\n" + LUA_DONE)


def rotating_request_script(paths: Sequence[str], headers: dict[str, str]) -> str:
    header_table = "{" + ", ".join(f"[{lua_string(k)}] = {lua_string(v)}"
                                   for k, v in headers.items()) + "}"
    return (LUA_THREADS + f"local paths = {lua_list(paths)}\nlocal reqs = {{}}\n"
            "local i = 0\ninit = function(args)\n  for k, p in ipairs(paths) do\n"
            f"    reqs[k] = wrk.format('GET', p, {header_table}, nil)\n  end\n"
            "  i = (tid or 0) * 7\nend\n"
            "request = function()\n  i = i + 1\n  return reqs[(i % #reqs) + 1]\nend\n" + LUA_DONE)


def subscribe_script(path_template: str, event_ids: Sequence[int], users: Sequence[str],
                     headers: dict[str, str]) -> str:
    """Each request subscribes a (user, event) pair never used before, so the mock answers 201.

    The caller owns the events (the owner may add any known user); wrk thread t takes every
    T-th event so two threads never send the same pair.
    """
    header_table = "{" + ", ".join(f"[{lua_string(k)}] = {lua_string(v)}"
                                   for k, v in headers.items()) + "}"
    events = "{" + ", ".join(str(e) for e in event_ids) + "}"
    return (LUA_THREADS + f"local events = {events}\nlocal users = {lua_list(users)}\n"
            f"local template = {lua_string(path_template)}\nlocal headers = {header_table}\n"
            "local i = 0\nlocal mine = {}\n"
            "init = function(args)\n  local step = tonumber(args[1] or '1')\n"
            "  for k = (tid or 0) + 1, #events, step do table.insert(mine, events[k]) end\nend\n"
            "request = function()\n  local nu = #users\n"
            "  local ev = mine[(math.floor(i / nu) % #mine) + 1]\n"
            "  local user = users[(i % nu) + 1]\n  i = i + 1\n"
            "  local path = string.gsub(template, '{id}', tostring(ev))\n"
            "  return wrk.format('POST', path, headers, '{\"user\":\"' .. user .. '\"}')\nend\n"
            + LUA_DONE)


@dataclass
class Load:
    connections: int = 32
    threads: int = 2
    duration: float = 10.0


@dataclass
class Result:
    target: str
    scenario: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    load_average: str = ""
    note: str = ""


def run_wrk(wrk: str, url: str, script: str, load: Load, workdir: Path,
            script_args: Sequence[str] = ()) -> dict[str, Any]:
    path = workdir / f"s{time.monotonic_ns()}.lua"
    path.write_text(script)
    cmd = [wrk, f"-t{load.threads}", f"-c{load.connections}", f"-d{max(1, round(load.duration))}s",
           "--timeout", "5s", "-s", str(path), url]
    if script_args:
        cmd += ["--", *script_args]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=load.duration + 60)
    match = re.search(r"BENCHJSON (\{.*\})", out.stdout)
    if not match:
        raise RuntimeError(f"wrk gave no summary: {out.stdout}\n{out.stderr}")
    data: dict[str, Any] = json.loads(match.group(1))
    return data


def to_result(target: str, scenario: str, data: dict[str, Any], note: str = "") -> Result:
    seconds = data["duration_us"] / 1e6
    return Result(
        target=target, scenario=scenario, rps=round(data["requests"] / seconds, 1),
        p50_ms=round(data["p50_us"] / 1000, 2), p99_ms=round(data["p99_us"] / 1000, 2),
        requests=data["requests"], errors=data["status_errors"] + data["socket_errors"],
        load_average=load_average(), note=note,
    )


# -- scenarios -------------------------------------------------------------------------------


@dataclass
class Context:
    token: str
    users: list[str]
    create_body: str
    upload_body: str
    subscribe_events: list[int] = field(default_factory=list)  # this round's share


def make_token() -> str:
    out = subprocess.run([sys.executable, "-m", "mock_server", "token"], cwd=ROOT,
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def fixture_users() -> list[str]:
    sys.path.insert(0, str(ROOT))
    from mock_server.seed import build_fixtures

    return [user.id for user in build_fixtures(seed=42, events=0).users]


def create_body() -> str:
    """The documents' create body, placed in the South Pacific: the thousands of events the
    `create` scenario adds must not land in the `list` scenario's circle, or each round would
    list a bigger world than the one before."""
    body = json.loads((ROOT / "fixtures/documents/createEvent.request.json").read_text())
    body.update(latitude=-44.0, longitude=-121.0)
    return json.dumps(body)


def upload_body() -> str:
    return (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"run.gpx\"\r\nContent-Type: application/gpx+xml\r\n\r\n{GPX}\r\n"
            f"--{BOUNDARY}--\r\n")


def auth_headers(ctx: Context) -> dict[str, str]:
    return {"X-Api-Key": API_KEY, "Authorization": f"Bearer {ctx.token}"}


def prepare_subscriptions(target: Target, ctx: Context, count: int) -> list[int]:
    """Events owned by the token's user, far from every list query, with room for everyone."""
    body = json.loads(ctx.create_body)
    body.update(latitude=-45.0, longitude=-120.0, slots=10_000, title="Bench subscriptions")
    ids = []
    with requests.Session() as session:
        for _ in range(count):
            response = session.post(target.url("/v1/events"), json=body,
                                    headers=auth_headers(ctx), timeout=10)
            response.raise_for_status()
            ids.append(int(response.json()["data"]["id"]))
    return ids


def scenario_script(target: Target, scenario: str, ctx: Context) -> tuple[str, list[str]]:
    headers = auth_headers(ctx)
    if scenario == "list":
        path = target.url(f"/v1/events?latitude={LILLE[0]}&longitude={LILLE[1]}")
        return fixed_request_script("GET", path.removeprefix(target.base),
                                    {"X-Api-Key": API_KEY}, None), []
    if scenario == "get":
        path = target.url("/v1/events/1").removeprefix(target.base)
        return fixed_request_script("GET", path, headers, None), []
    if scenario == "create":
        path = target.url("/v1/events").removeprefix(target.base)
        return fixed_request_script("POST", path, {**headers, "Content-Type": "application/json"},
                                    ctx.create_body), []
    if scenario == "subscribe":
        template = target.url("/v1/events/{id}/subscribers").removeprefix(target.base)
        events = ctx.subscribe_events or list(range(1, 9))
        return subscribe_script(template, events, ctx.users,
                                {**headers, "Content-Type": "application/json"}), ["2"]
    if scenario == "upload":
        path = target.url("/v2/upload").removeprefix(target.base)
        return fixed_request_script(
            "POST", path,
            {**headers, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
            ctx.upload_body), []
    raise ValueError(scenario)


def load_target(wrk: str, target: Target, ctx: Context, load: Load, workdir: Path,
                scenarios: Sequence[str]) -> list[Result]:
    results = []
    for scenario in scenarios:
        script, args = scenario_script(target, scenario, ctx)
        if scenario == "subscribe" and load.threads != 2:
            args = [str(load.threads)]
        data = run_wrk(wrk, target.base, script, load, workdir, args)
        result = to_result(target.name, scenario, data)
        results.append(result)
        print(f"  {target.name:9} {scenario:10} {result.rps:9.0f} req/s  p50 {result.p50_ms:6.2f}"
              f" ms  p99 {result.p99_ms:6.2f} ms  errors {result.errors}"
              f"  (load {result.load_average})", file=sys.stderr, flush=True)
    return results


# -- the run ---------------------------------------------------------------------------------


def aggregate(runs: Sequence[Result]) -> Result:
    """One row for the rounds of a (target, scenario): the median of each figure on its own
    (a round's p99 can be one stall that its own requests/s do not show), the requests and
    errors of all rounds together."""

    def median(values: list[float]) -> float:
        ordered = sorted(values)
        middle = len(ordered) // 2
        return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2

    first = runs[0]
    return Result(
        target=first.target, scenario=first.scenario,
        rps=round(median([r.rps for r in runs]), 1),
        p50_ms=round(median([r.p50_ms for r in runs]), 2),
        p99_ms=round(median([r.p99_ms for r in runs]), 2),
        requests=sum(r.requests for r in runs), errors=sum(r.errors for r in runs),
        load_average=" / ".join(r.load_average.split()[0] for r in runs),
        note=f"median of {len(runs)} rounds" if len(runs) > 1 else "",
    )


def throughput(args: argparse.Namespace, procs: Processes, wrk: str, workdir: Path,
               ctx: Context, report: dict[str, Any]) -> None:
    """Every scenario against every target, the targets taking turns scenario by scenario.

    The machine is shared: other jobs come and go, and a target measured a minute after
    another may meet a different load. Taking turns (mock, Prism, Prism -d, then the next
    scenario) gives each the same conditions, as far as can be; each round of ``--rounds``
    repeats the whole turn, and the table shows the median of each figure.
    """
    load = Load(args.connections, args.threads, args.duration)
    mock, ready = start_mock(procs, args.mock_args, workdir)
    report["mock_start_to_first_200_s"] = round(ready, 3)
    targets = [mock]
    if not args.no_prism:
        prism = ensure_prism()
        for dynamic in (False, True):
            target, ready = start_prism(procs, prism, dynamic, workdir)
            report[f"{target.name}_start_to_first_200_s"] = round(ready, 3)
            targets.append(target)
    time.sleep(0.5)
    for target in targets:
        report[f"{target.name}_memory_idle"] = memory_mb(target.process.pid)
    # Enough events that no (event, user) pair repeats at 20k subscriptions/s.
    needed = int(args.duration * args.rounds * 20_000 / max(1, len(ctx.users))) + 10
    prepared = prepare_subscriptions(mock, ctx, needed)
    rounds: dict[tuple[str, str], list[Result]] = {}
    scenarios = [s for s in SCENARIOS if s in args.scenarios]
    for turn in range(args.rounds):
        ctx.subscribe_events = prepared[turn::args.rounds]  # no pair is sent twice
        for scenario in scenarios:
            for target in targets:
                for result in load_target(wrk, target, ctx, load, workdir, [scenario]):
                    rounds.setdefault((target.name, scenario), []).append(result)
    for target in targets:
        report[f"{target.name}_memory_after_load"] = memory_mb(target.process.pid)
    results = [aggregate(rounds[(target.name, scenario)])
               for target in targets for scenario in scenarios]
    report["throughput"] = [asdict(r) for r in results]
    report["throughput_rounds"] = {f"{name} {scenario}": [asdict(r) for r in runs]
                                   for (name, scenario), runs in rounds.items()}
    for target in targets:
        procs.stop(target.process)


def startup(args: argparse.Namespace, procs: Processes, workdir: Path,
            report: dict[str, Any]) -> None:
    """Start to first 200 with the default data, three times per mode, median reported.

    Two modes: the plain default (``mock-server serve``, one process) and the load-test mode
    the throughput table uses (``--mock-args``).
    """
    rows = {}
    for mode, flags in (("default", []), ("load-test", args.mock_args)):
        times, memory = [], {}
        for _ in range(1 if args.quick else 3):
            mock, ready = start_mock(procs, flags, workdir)
            times.append(ready)
            time.sleep(0.3)
            memory = memory_mb(mock.process.pid)
            procs.stop(mock.process)
        rows[mode] = {"flags": " ".join(flags) or "(none)",
                      "start_to_first_200_s": round(sorted(times)[len(times) // 2], 3),
                      "all_s": [round(t, 3) for t in times], "memory_idle": memory,
                      "load_average": load_average()}
        print(f"  start ({mode}): {rows[mode]['all_s']} s (load {load_average()})",
              file=sys.stderr, flush=True)
    report["startup"] = rows


def scale(args: argparse.Namespace, procs: Processes, wrk: str, workdir: Path,
          report: dict[str, Any]) -> None:
    rows = []
    paths = [f"/activities/v1/events?latitude={lat}&longitude={lon}" for lat, lon in CITIES]
    for count in args.scales:
        mock, ready = start_mock(procs, [*args.mock_args, "--events", str(count)], workdir,
                                 timeout=600)
        time.sleep(0.5)
        idle = memory_mb(mock.process.pid)
        script = rotating_request_script(paths, {"X-Api-Key": API_KEY})
        one = to_result("mock", "list", run_wrk(wrk, mock.base, script,
                                                Load(1, 1, args.scale_duration), workdir))
        many = to_result("mock", "list", run_wrk(wrk, mock.base, script,
                                                 Load(args.connections, args.threads,
                                                      args.scale_duration), workdir))
        after = memory_mb(mock.process.pid)
        procs.stop(mock.process)
        row = {
            "events": count, "ready_s": round(ready, 2),
            "p50_ms": one.p50_ms, "p99_ms": one.p99_ms, "rps_1_connection": one.rps,
            "rps_loaded": many.rps, "p99_loaded_ms": many.p99_ms,
            "errors": one.errors + many.errors,
            "memory_idle": idle, "memory_after": after, "load_average": one.load_average,
        }
        rows.append(row)
        print(f"  {count:>9} events: ready {row['ready_s']} s, list p50 {one.p50_ms} ms p99 "
              f"{one.p99_ms} ms, PSS {after['pss_mb']} MB (load {row['load_average']})",
              file=sys.stderr, flush=True)
    report["scale"] = rows


def contracts_rate(args: argparse.Namespace, procs: Processes, workdir: Path,
                   report: dict[str, Any]) -> None:
    cli = ROOT / ".venv" / "bin" / "contracts"
    if not (ROOT / "contracts" / "cli.py").exists():
        report["contracts"] = {"note": "contracts/cli.py does not exist yet"}
        return
    mock, _ = start_mock(procs, args.mock_args, workdir)
    out_json = workdir / "contracts.json"
    command = [str(cli) if cli.exists() else sys.executable, *([] if cli.exists() else
               ["-m", "contracts"]), "run", "--base-url", mock.base, "--api-key", API_KEY,
               "--token-command", f"{sys.executable} -m mock_server token",
               "--time-budget", str(args.contracts_budget), "--report-json", str(out_json),
               "--no-progress"]
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                          timeout=args.contracts_budget * 4 + 120)
    elapsed = time.monotonic() - started
    procs.stop(mock.process)
    count = None
    if out_json.exists():
        count = json.loads(out_json.read_text()).get("requests")
    report["contracts"] = {
        "exit_code": done.returncode, "seconds": round(elapsed, 1), "requests": count,
        "rps": round(count / elapsed, 1) if count else None, "load_average": load_average(),
        "stderr_tail": done.stderr[-400:] if done.returncode not in (0, 1) else "",
    }


def throughput_part(args: argparse.Namespace, procs: Processes, wrk: str, workdir: Path,
                    ctx: Context, report: dict[str, Any]) -> None:
    throughput(args, procs, wrk, workdir, ctx, report)


def startup_part(args: argparse.Namespace, procs: Processes, wrk: str, workdir: Path,
                 ctx: Context, report: dict[str, Any]) -> None:
    startup(args, procs, workdir, report)


def scale_part(args: argparse.Namespace, procs: Processes, wrk: str, workdir: Path,
               ctx: Context, report: dict[str, Any]) -> None:
    scale(args, procs, wrk, workdir, report)


def contracts_part(args: argparse.Namespace, procs: Processes, wrk: str, workdir: Path,
                   ctx: Context, report: dict[str, Any]) -> None:
    contracts_rate(args, procs, workdir, report)


def print_tables(report: dict[str, Any]) -> None:
    rows = [Result(**r) for r in report.get("throughput", [])]
    if rows:
        print("\n| target | scenario | req/s | p50 ms | p99 ms | requests | errors |")
        print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
        for r in rows:
            print(f"| {r.target} | {r.scenario} | {r.rps:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} |"
                  f" {r.requests:,} | {r.errors:,} |")
        by = {(r.target, r.scenario): r for r in rows}
        if any(r.target.startswith("prism") for r in rows):
            print("\n| scenario | mock/prism req/s | mock/prism -d req/s | mock p99 / prism p99 |")
            print("| --- | ---: | ---: | ---: |")
            for scenario in SCENARIOS:
                mock = by.get(("mock", scenario))
                static = by.get(("prism", scenario))
                dynamic = by.get(("prism -d", scenario))
                if not mock:
                    continue

                def ratio(a: float, b: float | None) -> str:
                    return f"{a / b:.2f}" if b else "-"

                print(f"| {scenario} | {ratio(mock.rps, static and static.rps)} | "
                      f"{ratio(mock.rps, dynamic and dynamic.rps)} | "
                      f"{ratio(mock.p99_ms, static and static.p99_ms)} |")
    print()
    for key in ("mock_start_to_first_200_s", "prism_start_to_first_200_s",
                "mock_memory_idle", "mock_memory_after_load", "prism_memory_idle",
                "prism_memory_after_load"):
        if key in report:
            print(f"{key}: {report[key]}")
    if report.get("startup"):
        print("\n| mode | flags | start to first 200 s (median) | runs | RSS MB | PSS MB |")
        print("| --- | --- | ---: | --- | ---: | ---: |")
        for mode, row in report["startup"].items():
            print(f"| {mode} | {row['flags']} | {row['start_to_first_200_s']} | {row['all_s']} | "
                  f"{row['memory_idle'].get('rss_mb')} | {row['memory_idle'].get('pss_mb')} |")
    if report.get("scale"):
        print("\n| events | ready s | list p50 ms | list p99 ms | req/s (1 conn) | req/s (loaded) |"
              " RSS MB | PSS MB |")
        print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for row in report["scale"]:
            print(f"| {row['events']:,} | {row['ready_s']} | {row['p50_ms']} | {row['p99_ms']} | "
                  f"{row['rps_1_connection']:,.0f} | {row['rps_loaded']:,.0f} | "
                  f"{row['memory_after']['rss_mb']} | {row['memory_after']['pss_mb']} |")
    if "contracts" in report:
        print(f"\ncontracts run: {report['contracts']}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="1 s per scenario, scale 10,000 only, no contracts run (smoke test)")
    parser.add_argument("--no-prism", action="store_true", help="load the mock only")
    parser.add_argument("--no-startup", action="store_true", help="skip the start-up timing")
    parser.add_argument("--no-throughput", action="store_true", help="skip the scenario table")
    parser.add_argument("--no-scale", action="store_true", help="skip the 10k/100k/1M part")
    parser.add_argument("--no-contracts", action="store_true", help="skip `contracts run`")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per scenario")
    parser.add_argument("--scale-duration", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3,
                        help="turns of every scenario on every target; medians are shown")
    parser.add_argument("--scenarios", type=lambda v: v.split(","), default=list(SCENARIOS),
                        help=f"comma-separated subset of {','.join(SCENARIOS)}")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--scales", type=lambda v: [int(x) for x in v.split(",")],
                        default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--contracts-budget", type=float, default=30.0)
    parser.add_argument("--mock-args", type=lambda v: v.split(),
                        default=["--workers", "2", "--quiet"],
                        help="`mock-server serve` flags (default: '--workers 2 --quiet', the "
                             "mode for load tests; '' for the plain default)")
    parser.add_argument("--only", choices=("startup", "throughput", "scale", "contracts"),
                        action="append",
                        help="run only these parts (repeatable)")
    parser.add_argument("--json", type=Path, default=BENCH / "results.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds = 1
        args.duration = args.scale_duration = 1.0
        args.scales = [10_000]
        args.no_contracts = True
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    only = set(args.only or ("startup", "throughput", "scale", "contracts"))
    wrk = ensure_wrk()
    report: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()} "
                   f"{platform.release()}, Python {platform.python_version()}",
        "load_average_at_start": load_average(),
        "settings": {"duration_s": args.duration, "connections": args.connections,
                     "threads": args.threads, "mock_args": args.mock_args},
    }
    ctx = Context(token=make_token(), users=fixture_users(), create_body=create_body(),
                  upload_body=upload_body())
    procs = Processes()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        workdir = Path(tmp)
        parts = [("startup", startup_part), ("throughput", throughput_part),
                 ("scale", scale_part), ("contracts", contracts_part)]
        try:
            for name, part in parts:
                if name not in only or getattr(args, f"no_{name}", False):
                    continue
                try:
                    part(args, procs, wrk, workdir, ctx, report)
                except Exception as exc:  # keep what the other parts measured
                    report.setdefault("failures", {})[name] = f"{type(exc).__name__}: {exc}"
                    print(f"bench: {name} failed: {exc}", file=sys.stderr)
                finally:
                    procs.stop_all()
                args.json.write_text(json.dumps(report, indent=2) + "\n")
        finally:
            procs.stop_all()
    report["load_average_at_end"] = load_average()
    print_tables(report)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nresults written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
