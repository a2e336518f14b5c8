"""The spec lints clean with the tool partners use most (Redocly CLI), through npx."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REDOCLY = "@redocly/cli@2"


@pytest.mark.slow
@pytest.mark.parametrize("spec", ["openapi.yaml", "mock_server/controls/admin/admin-openapi.yaml"])
def test_redocly_lint_reports_no_errors_and_no_warnings(spec: str) -> None:
    npx = shutil.which("npx")
    if npx is None:
        pytest.fail("npx (Node.js) is needed to run Redocly CLI; install nodejs and npm")
    result = subprocess.run(
        [npx, "--yes", REDOCLY, "lint", spec, "--format=summary"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Your API description is valid" in output, output
    assert "warning" not in output.lower().replace("deprecation warning", ""), output
