"""A fleet for the scale-out tests: replicas of `mock-server serve` on one PostgreSQL database
(or one SQLite file), and Debian's HAProxy balancing round-robin in front of them.

Every part is a real process on 127.0.0.1, started and stopped by the test.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from tests.haproxy_config import write_config


@dataclass
class Balancer:
    url: str
    process: subprocess.Popen[bytes]
    folder: Path

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def start_balancer(ports: Sequence[int], port: int) -> Balancer:
    """HAProxy round-robin over ``ports``, health-checked on /__health; ready when every
    replica is up in its eyes (a request through it reaches each one)."""
    folder = Path(tempfile.mkdtemp(prefix="mock-haproxy-"))
    config = write_config(folder / "haproxy.cfg", port, [f"127.0.0.1:{p}" for p in ports],
                          keep_alive=False, maxconn=512)
    process = subprocess.Popen(["haproxy", "-db", "-f", str(config)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    seen: set[str] = set()
    while time.monotonic() < deadline:
        try:
            answer = requests.get(url + "/__health", timeout=2)
            if answer.status_code == 200:
                seen.add(answer.json()["process"])
            if len(seen) == len(ports):  # every replica is up in HAProxy's eyes
                return Balancer(url, process, folder)
        except requests.ConnectionError:
            pass
        time.sleep(0.05)
    process.kill()
    raise RuntimeError("HAProxy did not come up")


@dataclass
class Fleet:
    """Replicas over one state, behind a balancer; ``url`` is the balancer's."""

    url: str
    replicas: list[Any]  # tests/conftest.py's ServerProcess
    balancer: Balancer | None
    start: Callable[..., Any]
    flags: tuple[str, ...]
    stopped: list[Any] = field(default_factory=list)

    def restart_all(self, stop: Callable[[Any], None]) -> None:
        """Stop every replica with ``stop`` (SIGTERM or SIGKILL), then start them again on the
        same ports (the balancer keeps pointing at them)."""
        ports = [replica.port for replica in self.replicas]
        for replica in self.replicas:
            stop(replica)
        self.replicas = [self.start(*self.flags, port=port) for port in ports]
