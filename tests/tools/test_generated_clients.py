"""Clients that partners' generators make from openapi.yaml walk the documents' flow against
the mock at one base URL: openapi-python-client (checked by mypy) and openapi-typescript
types with openapi-fetch (checked by tsc).

The clients are generated here, from the spec of this commit, never committed: a committed
client could drift from the spec, and the point is that the generators, unchanged, accept it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mock_server.postman import photo_bytes
from tests.conftest import ROOT, ServerProcess
from tests.tools.conftest import API_KEY, TOOLS

pytestmark = [pytest.mark.integration, pytest.mark.slow]
SPEC = ROOT / "openapi.yaml"
PYTHON_FLOW = TOOLS / "clients" / "python" / "flow.py"
TYPESCRIPT = TOOLS / "clients" / "typescript"
#: The documents' flow: list near Lille, create, get, subscribe, upload a photo, put it on an
#: activity. Each script prints one line per step, named for its operation.
STEPS = ["listEvents", "createEvent", "getEvent", "addSubscriber", "uploadFile",
         "updateActivity"]


def run(command: list[str | Path], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(part) for part in command], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, **env}, timeout=180)


def steps_of(output: str) -> list[str]:
    return [line.split(":")[0] for line in output.splitlines()]


@pytest.fixture(scope="module")
def photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("photo") / "photo.jpg"
    path.write_bytes(photo_bytes())
    return path


def test_python_client_generates_type_checks_and_walks_the_flow(
        mock_root: ServerProcess, photo: Path, tmp_path: Path) -> None:
    # The generator formats its output with ruff (a post hook); ours is next to this Python.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    generated = run([sys.executable, "-m", "openapi_python_client", "generate", "--path", SPEC,
                     "--meta", "none", "--output-path", tmp_path / "decathlon_client"],
                    PATH=path)
    output = generated.stdout + generated.stderr
    assert generated.returncode == 0, output
    assert "warning" not in output.lower() and "error(s)" not in output.lower(), output

    checked = run([sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent",
                   "--cache-dir", tmp_path / ".mypy_cache", PYTHON_FLOW], MYPYPATH=str(tmp_path))
    assert checked.returncode == 0, checked.stdout + checked.stderr

    walked = run([sys.executable, PYTHON_FLOW, "--base-url", mock_root.url, "--api-key",
                  API_KEY, "--token", mock_root.token(), "--photo", photo],
                 PYTHONPATH=str(tmp_path))
    assert walked.returncode == 0, walked.stdout + walked.stderr
    assert steps_of(walked.stdout) == STEPS, walked.stdout


def test_typescript_client_generates_type_checks_and_walks_the_flow(
        node_bin: Path, mock_root: ServerProcess, photo: Path) -> None:
    generated = run(["node", TYPESCRIPT / "generate.mjs", SPEC,
                     TYPESCRIPT / "generated" / "api.ts"])
    assert generated.returncode == 0, generated.stdout + generated.stderr
    assert generated.stdout + generated.stderr == "", "openapi-typescript warned"

    checked = run([node_bin / "tsc", "-p", TYPESCRIPT])
    assert checked.returncode == 0, checked.stdout + checked.stderr

    walked = run(["node", TYPESCRIPT / "build" / "flow.js", mock_root.url, API_KEY,
                  mock_root.token(), photo])
    assert walked.returncode == 0, walked.stdout + walked.stderr
    assert steps_of(walked.stdout) == STEPS, walked.stdout
