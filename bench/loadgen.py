"""The load: wrk and its Lua scripts, the benchmark's scenarios, and wrk's figures as rows.

Why wrk and Lua: a Python load generator would need more CPU than the servers it measures on
a 2-core machine; wrk drives 32 keep-alive connections from C. Per-request variation (a new
event and user for each subscription, a point per list query) is done in wrk's Lua, and the
numbers are read from wrk's own `done()` summary, so no per-response callback slows it down.
"""

from __future__ import annotations

import json
import re
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from bench.servers import API_KEY, CLOCK_TICKS, LILLE, ROOT, Target, load_average

#: The ten points of the list's latency at scale: dense (Lille, Paris) and sparse places.
CITY_NAMES = ("Lille", "Paris", "Lyon", "Marseille", "Bordeaux", "Nantes", "Strasbourg",
              "Brussels", "Amsterdam", "Barcelona")
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
    load_average: str = ""  # 1, 5 and 15 minutes, as the measurement began
    #: Cores' worth of CPU that processes outside the measurement used meanwhile: the other
    #: helpers' test runs (the load average counts the benchmark itself too).
    others_cores: float = 0.0
    #: CPU microseconds per request, by component (mock, postgresql, haproxy, wrk).
    cpu_us: dict[str, float] = field(default_factory=dict)
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


def machine_busy_seconds() -> float:
    """CPU time every core of the machine has spent busy since boot (/proc/stat)."""
    with open("/proc/stat") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(wrk: str, target: Target, scenario: str, script: str, load: Load, workdir: Path,
            script_args: Sequence[str] = (), *, quiet: bool = False) -> Result:
    """One wrk run against ``target``, with the CPU time each component spent on it."""
    load_before = load_average()
    cpu_before = target.cpu()
    busy_before, wrk_before, started = (machine_busy_seconds(), children_cpu_seconds(),
                                        time.monotonic())
    data = run_wrk(wrk, target.base, script, load, workdir, script_args)
    wall = time.monotonic() - started
    wrk_cpu = children_cpu_seconds() - wrk_before
    cpu_after = target.cpu()
    spent = {name: cpu_after[name] - cpu_before[name] for name in cpu_after} | {"wrk": wrk_cpu}
    others = machine_busy_seconds() - busy_before - sum(spent.values())
    result = to_result(target.name, scenario, data)
    result.load_average = load_before
    result.others_cores = round(max(0.0, others) / wall, 2)
    result.cpu_us = {name: round(seconds * 1e6 / max(1, result.requests), 1)
                     for name, seconds in spent.items()}
    if not quiet:
        print(f"  {target.name:24} {scenario:10} {result.rps:9.0f} req/s  p50 "
              f"{result.p50_ms:6.2f} ms  p99 {result.p99_ms:7.2f} ms  errors {result.errors}  "
              f"(load {load_before}, others {result.others_cores} cores)",
              file=sys.stderr, flush=True)
    return result


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


def measure_scenario(wrk: str, target: Target, scenario: str, ctx: Context, load: Load,
                     workdir: Path) -> Result:
    script, args = scenario_script(target, scenario, ctx)
    if scenario == "subscribe":
        args = [str(load.threads)]  # wrk thread t takes every T-th event
    return measure(wrk, target, scenario, script, load, workdir, args)


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def aggregate(runs: Sequence[Result]) -> Result:
    """One row for the rounds of a (target, scenario): the median of each figure on its own
    (a round's p99 can be one stall that its own requests/s do not show), the requests and
    errors of all rounds together, every round's load."""
    first = runs[0]
    return Result(
        target=first.target, scenario=first.scenario,
        rps=round(median([r.rps for r in runs]), 1),
        p50_ms=round(median([r.p50_ms for r in runs]), 2),
        p99_ms=round(median([r.p99_ms for r in runs]), 2),
        requests=sum(r.requests for r in runs), errors=sum(r.errors for r in runs),
        load_average=" / ".join(r.load_average.split()[0] for r in runs),
        others_cores=round(median([r.others_cores for r in runs]), 2),
        cpu_us={name: round(median([r.cpu_us.get(name, 0.0) for r in runs]), 1)
                for name in first.cpu_us},
        note=f"median of {len(runs)} rounds" if len(runs) > 1 else "",
    )
