"""The servers a benchmark run starts and how it watches them: the mock, Prism, a throwaway
PostgreSQL, HAProxy; their memory and CPU time, read from /proc.

Every server runs in its own process group and is stopped by the run that started it
(``Processes.stop_all`` in a ``finally``), so nothing outlives a run.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
#: Prism is pinned once for the repository, with the partners' tools the tests run
#: (tools/package-lock.json).
PRISM_BIN = ROOT / "tools" / "node_modules" / ".bin" / "prism"
API_KEY = "aaa-bbb-ccc"
LILLE = (50.6292, 3.0573)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
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


def _parent_pids() -> dict[int, list[int]]:
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
    return children


def tree_pids(*roots: int) -> list[int]:
    """The processes and all their descendants (a mock's workers, PostgreSQL's backends)."""
    children = _parent_pids()
    found, todo = [], list(roots)
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


def memory_mb(*roots: int) -> dict[str, float]:
    """RSS and PSS of a process and its descendants, in MB.

    RSS counts pages shared by forked workers once per process; PSS splits them, so its sum is
    what the process tree really costs the machine.
    """
    rss = pss = 0
    for pid in tree_pids(*roots):
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1])
        except OSError:
            continue
    return {"rss_mb": round(rss / 1024, 1), "pss_mb": round(pss / 1024, 1)}


def cpu_seconds(*roots: int) -> float:
    """User + system CPU time of the process trees so far, their reaped children included.

    Read before and after a measurement, the difference is what that component spent on it:
    how a request's cost splits between the mock, PostgreSQL and HAProxy, whatever the load
    of the machine (CPU time does not count the waits for a core).
    """
    ticks = 0
    for pid in tree_pids(*roots):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    return ticks / CLOCK_TICKS


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
    """Prism at the version `tools/package-lock.json` pins (5.14.2), so reruns compare alike.

    `tools/install.sh` (`npm ci` in tools/, as ./scripts/test and the tests do) returns at once
    when node_modules already holds that lock file's packages, so it runs every time: a stale
    or half-installed node_modules is replaced rather than measured."""
    if not PRISM_BIN.exists():
        print("bench: installing Prism into tools/node_modules (tools/install.sh)", file=sys.stderr)
    done = subprocess.run(["bash", str(ROOT / "tools" / "install.sh")], capture_output=True,
                          text=True)
    if done.returncode != 0 or not PRISM_BIN.exists():
        raise SystemExit(f"bench: tools/install.sh did not install {PRISM_BIN}: "
                         f"{done.stdout}{done.stderr}")
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
    #: The processes whose CPU time a measurement of this target reads, by component
    #: ("mock", "postgresql", "haproxy"); the target's own process when empty.
    components: dict[str, tuple[int, ...]] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return self.base + (self.v1 if path.startswith("/v1") else self.v2) + path

    def cpu(self) -> dict[str, float]:
        """CPU seconds used so far by each component (see ``cpu_seconds``)."""
        parts = self.components or {self.name: (self.process.pid,)}
        return {name: cpu_seconds(*roots) for name, roots in parts.items()}

    def memory(self) -> dict[str, float]:
        roots = [pid for name, pids in self.components.items() if name == "mock" for pid in pids]
        return memory_mb(*(roots or [self.process.pid]))

    def roots(self) -> set[int]:
        """Its own process and every component's (its PostgreSQL, HAProxy, replicas)."""
        return {self.process.pid, *(pid for pids in self.components.values() for pid in pids)}


@contextmanager
def alone(target: Target, others: Sequence[Target]) -> Iterator[None]:
    """Pause the other targets while ``target`` is measured (SIGSTOP, then SIGCONT).

    The targets of a run share one machine: the PostgreSQL-mode mocks' journal writers and
    state followers, and their PostgreSQL servers' checkpoints and vacuums, ran beside
    whichever target was measured, and took cores from it at random moments, which is what
    a p99 records. Paused, they cost nothing; what the measured target uses (its own
    PostgreSQL, the replicas behind its balancer) is never paused.
    """
    keep = set(tree_pids(*target.roots()))
    roots = set().union(*(other.roots() for other in others)) - target.roots()
    paused = [pid for pid in tree_pids(*roots) if pid not in keep]
    for pid in paused:
        _signal(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in paused:
            _signal(pid, signal.SIGCONT)


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


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


def start_mock(procs: Processes, extra: Sequence[str], logs: Path, *, name: str = "mock",
               timeout: float = 180.0, port: int | None = None,
               postgres: Postgres | None = None) -> tuple[Target, float]:
    """`mock-server serve --port P` plus ``extra``; seconds from the start to the first 200.

    ``postgres``: the server behind ``--state-url``, whose CPU time counts as the target's.
    """
    port = port or free_port()
    args = [sys.executable, "-m", "mock_server", "serve", "--port", str(port), *extra]
    started = time.monotonic()
    process = procs.start(args, log=logs / f"mock-{port}.log")
    components = {"mock": (process.pid,)}
    if postgres is not None:
        components["postgresql"] = (postgres.pid,)
    target = Target(name, process, f"http://127.0.0.1:{port}", "/activities",
                    "/sportstrackingdata", components)
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



# -- PostgreSQL and HAProxy ------------------------------------------------------------------


@dataclass
class Postgres:
    """A throwaway PostgreSQL cluster (the test suite's ``tests/postgres_server.py``)."""

    server: Any  # postgres_server.PostgresServer
    durable: bool

    @property
    def pid(self) -> int:
        """The postmaster's pid: its tree is every backend serving the mocks."""
        return int((self.server.data / "postmaster.pid").read_text().split()[0])

    def create_database(self) -> str:
        url: str = self.server.create_database()
        return url

    def connections(self, url: str) -> int:
        """How many connections the mock's processes hold on the database at ``url``."""
        import psycopg

        with psycopg.connect(url, autocommit=True) as connection:
            found = connection.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE %s "
                "AND datname = current_database()", ("mock-server%",)).fetchone()
        return int(found[0]) if found else 0


def _import_from_tests() -> None:
    """The bench starts PostgreSQL and HAProxy as the test suite does, with its modules
    (``tests/postgres_server.py``, ``tests/haproxy_config.py``): on the path once."""
    tests = str(ROOT / "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)


@contextmanager
def postgres_server(*, durable: bool = True) -> Iterator[Postgres]:
    """A PostgreSQL server for the duration of a part, stopped and removed after it.

    ``durable``: PostgreSQL's own defaults (fsync on, full page writes), what a team's server
    runs, so every commit waits for the disk. Otherwise the test suite's settings (fsync off):
    a commit survives the death of any process, as SQLite's ``synchronous=NORMAL`` does, but
    not a power cut; the difference is what this machine's disk costs each write.
    """
    _import_from_tests()
    from postgres_server import PostgresServer

    class BenchPostgresServer(PostgresServer):  # type: ignore[misc]
        def start(self) -> None:
            if not durable:
                return super().start()
            options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
                       "-c max_connections=200 -c shared_buffers=128MB")
            self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l",
                      str(self.folder / "server.log"), "-w", "-t", "30", "start")

    server = BenchPostgresServer()
    try:
        yield Postgres(server, durable)
    finally:
        server.close()


def start_balancer(procs: Processes, name: str, replicas: Sequence[Target], logs: Path,
                   postgres: Postgres | None = None) -> Target:
    """HAProxy round-robin over ``replicas``; returned when a request through it has reached
    every one of them."""
    _import_from_tests()
    from haproxy_config import write_config  # the scale-out tests' balancer, kept alive

    port = free_port()
    config = write_config(logs / f"haproxy-{port}.cfg", port,
                          [replica.base.removeprefix("http://") for replica in replicas],
                          keep_alive=True, maxconn=2048)
    process = procs.start(["haproxy", "-db", "-f", str(config)], log=logs / f"haproxy-{port}.log")
    components = {"mock": tuple(r.process.pid for r in replicas), "haproxy": (process.pid,)}
    if postgres is not None:
        components["postgresql"] = (postgres.pid,)
    target = Target(name, process, f"http://127.0.0.1:{port}", "/activities",
                    "/sportstrackingdata", components)
    deadline = time.monotonic() + 30
    seen: set[int] = set()  # pids of the workers that answered through it
    while not all(seen & set(tree_pids(r.process.pid)) for r in replicas):
        if time.monotonic() > deadline or process.poll() is not None:
            raise RuntimeError(f"HAProxy did not reach every replica: {''.join(log_tail(process))}")
        try:
            answer = requests.get(target.base + "/__health", timeout=2)
            if answer.status_code == 200:
                seen.add(int(answer.json()["process"].rsplit(":", 1)[1]))
        except requests.RequestException:
            pass
        time.sleep(0.02)
    return target
