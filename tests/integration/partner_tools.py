"""The tools partners point at the mock, run as they run them: the schemathesis CLI and Prism.

Both are started as processes from the repository root, so schemathesis finds
`schemathesis.toml` by itself, exactly as a partner's plain `schemathesis run` does. What
each run may cost is bounded here, once, from the hypothesis profile of the suite.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import requests
from hypothesis import settings

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
TOOLS = ROOT / "tools"
PRISM = TOOLS / "node_modules" / ".bin" / "prism"

#: `--max-examples` of a CLI run: a third of the profile's examples per property (ci: 30 ->
#: 10). The CLI runs four phases over every operation, and its coverage phase adds its own
#: boundary cases whatever the count; measured on two busy cores (load 9), a run at 10 over
#: the 18 operations takes about 30 s.
CLI_EXAMPLES = max(5, (settings().max_examples or 30) // 3)


def run_schemathesis(url: str, *args: str,
                     timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """`schemathesis run openapi.yaml --url URL --checks all ...` from the repository root."""
    command = [str(SCHEMATHESIS), "run", "openapi.yaml", "--url", url, "--checks", "all",
               "--max-examples", str(CLI_EXAMPLES), "--no-color", *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "NO_COLOR": "1"})


def events_of_the_configured_caller(url: str) -> int:
    """How many events the caller of schemathesis.toml owns on the mock at `url`.

    It grows over a run only if the run's authenticated writes were accepted: schemathesis
    passes a run whose every request but the public list answered 401, and only warns (its
    `missing_auth` heuristic also counts a documented 403, so it cannot fail a run).
    """
    auth = tomllib.loads((ROOT / "schemathesis.toml").read_text(encoding="utf-8"))["auth"]
    headers = {"X-Api-Key": auth["openapi"]["ApiKey"]["api_key"],
               "Authorization": f"Bearer {auth['openapi']['BearerAuth']['bearer']}"}
    answer = requests.get(f"{url}/v1/events/mine?type=created", headers=headers, timeout=30)
    answer.raise_for_status()
    return int(answer.json()["meta"]["total"])


def schemathesis_passed(run: subprocess.CompletedProcess[str]) -> tuple[bool, str]:
    """Whether the run passed, with its output (which names its seed for a replay)."""
    output = run.stdout + run.stderr
    summary = re.search(r"(\d+) generated, (\d+) passed", output)
    passed = (run.returncode == 0 and summary is not None
              and summary.group(1) == summary.group(2) and "FAILURES" not in output)
    return passed, output


@dataclass
class PrismProxy:
    """`prism proxy openapi.yaml UPSTREAM --errors`, its address and its log."""

    url: str
    process: subprocess.Popen[str]
    log: IO[str]

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self) -> None:
        # Its own process group (start_new_session), so node and anything it spawned go too.
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def install_prism() -> None:
    """tools/install.sh: `npm ci` of tools/package-lock.json (Prism 5.14.2 among the partners'
    tools), a no-op once done and serialised across pytest-xdist workers."""
    done = subprocess.run(["bash", str(TOOLS / "install.sh")], capture_output=True, text=True,
                          timeout=600)
    if done.returncode != 0 or not PRISM.exists():
        raise RuntimeError(f"tools/install.sh did not install {PRISM}: {done.stdout}{done.stderr}")


def start_prism(upstream: str, *, timeout: float = 60) -> PrismProxy:
    install_prism()
    port = free_port()
    log = tempfile.TemporaryFile(mode="w+", encoding="utf-8")  # a file: nobody reads a pipe
    process = subprocess.Popen(
        [str(PRISM), "proxy", "openapi.yaml", upstream, "--errors", "--host", "127.0.0.1",
         "--port", str(port)],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    proxy = PrismProxy(f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"prism exited: {proxy.output()}")
        try:
            requests.get(proxy.url, timeout=1)
            return proxy
        except requests.ConnectionError:
            time.sleep(0.2)
    proxy.stop()
    raise RuntimeError(f"prism did not listen in {timeout} s: {proxy.output()}")


#: Prism's own answers that are not its validator judging the mock: a request sent without
#: credentials on purpose (schemathesis' `ignored_auth` probes) and schemathesis' probe of
#: how a server treats odd paths. Anything else Prism answers itself is a finding.
EXPECTED_PRISM_ANSWERS = frozenset({"UNAUTHORIZED", "NO_PATH_MATCHED_ERROR"})


def prism_violations(log: str) -> list[str]:
    """Every finding of Prism's validator in its log: a request or response violation
    ("Violation: ..."), a request it refused as invalid (UNPROCESSABLE_ENTITY), a response
    it refused (VIOLATIONS, with `--errors`), or any other answer of its own besides
    `EXPECTED_PRISM_ANSWERS`."""
    found = []
    for line in log.splitlines():
        match = re.search(r"errors#([A-Z_]+)", line)
        if "Violation:" in line or (match and match.group(1) not in EXPECTED_PRISM_ANSWERS):
            found.append(line.strip())
    return found


def prism_answers(log: str) -> dict[str, int]:
    """How many requests Prism forwarded, and each kind of answer it made itself."""
    counts: dict[str, int] = {"forwarded": log.count("> Forwarding")}
    for kind in re.findall(r"errors#([A-Z_]+)", log):
        counts[kind] = counts.get(kind, 0) + 1
    return counts
