"""Plain schemathesis, as a partner's QA team runs it, against a real `mock-server serve`.

`schemathesis run openapi.yaml --url ... --checks all` from the repository root, nothing
else: no hooks, no `--config-file`. What schemathesis cannot read in openapi.yaml comes from
`schemathesis.toml`, which it finds by itself. The run is bounded by `--max-examples`
(`partner_tools.CLI_EXAMPLES`, from the hypothesis profile); the seed is schemathesis' own
and is printed with any failure for `--seed N` to replay it.
"""

from __future__ import annotations

import pytest

from tests.conftest import ServerProcess
from tests.integration.partner_tools import (
    ROOT,
    events_of_the_configured_caller,
    run_schemathesis,
    schemathesis_passed,
)

pytestmark = pytest.mark.integration


def test_plain_schemathesis_at_one_base_url_with_every_check_passes(
        server: ServerProcess) -> None:
    """The issue's own command: both APIs at the mock's root, the spec's paths as written."""
    owned_before = events_of_the_configured_caller(server.url)
    run = run_schemathesis(server.url)
    passed, output = schemathesis_passed(run)
    assert passed, output
    assert "Operations:       18 selected / 18 total" in output, output
    assert f"Configuration:    {ROOT / 'schemathesis.toml'}" in output, output
    # schemathesis.toml's credentials were accepted: the run created events as that user.
    assert events_of_the_configured_caller(server.url) > owned_before, output
