"""Plain schemathesis, as a partner's QA team runs it, against a real `mock-server serve`.

`schemathesis run openapi.yaml --url ... --checks all` from the repository root, nothing
else: no hooks, no `--config-file`. What schemathesis cannot read in openapi.yaml comes from
`schemathesis.toml`, which it finds by itself. The run is bounded by `--max-examples`
(`partner_tools.CLI_EXAMPLES`, from the hypothesis profile); the seed is schemathesis' own
and is printed with any failure for `--seed N` to replay it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import ServerProcess, start_server, stop_server
from tests.integration.partner_tools import API_MOUNTS, ROOT, run_schemathesis, schemathesis_passed

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def mock() -> Iterator[ServerProcess]:
    server = start_server("--quiet")
    yield server
    stop_server(server)


@pytest.mark.parametrize(("paths", "mount"), API_MOUNTS, ids=["activities", "tracking"])
def test_plain_schemathesis_with_every_check_passes(mock: ServerProcess, paths: str,
                                                    mount: str) -> None:
    run = run_schemathesis(mock.url + mount, "--include-path-regex", paths)
    passed, output = schemathesis_passed(run)
    assert passed, output
    assert f"Configuration:    {ROOT / 'schemathesis.toml'}" in output, output
    # schemathesis.toml's credentials were accepted (it fails a run on `missing_auth`).
    assert "Authentication failed" not in output, output
