"""Partners' own tools against a real mock: node from the machine, npm packages from tools/."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.conftest import ServerProcess, start_server, stop_server

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / "tools"
API_KEY = "aaa-bbb-ccc"


@pytest.fixture(scope="session")
def node_bin() -> Path:
    """tools/node_modules/.bin, installed as tools/package-lock.json pins it (tools/install.sh:
    `npm ci`, skipped when already done, serialised across pytest-xdist workers)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("Node.js and npm are needed for these tools (Debian: apt-get install nodejs)")
    done = subprocess.run(["bash", str(TOOLS / "install.sh")], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return TOOLS / "node_modules" / ".bin"


@pytest.fixture(scope="module")
def mock_root() -> Iterator[ServerProcess]:
    """A fresh mock for the module; its root serves /v1/... and /v2/... as the spec writes
    them, the one base URL a generated client or a Postman collection takes."""
    server = start_server()
    try:
        probe = requests.get(f"{server.url}/v1/events", params={"latitude": 50.6, "longitude": 3},
                             headers={"X-Api-Key": API_KEY}, timeout=10)
        assert probe.status_code == 200, probe.text
        yield server
    finally:
        stop_server(server)
