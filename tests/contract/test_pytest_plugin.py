"""The pytest plugin, as a partner's suite uses it: real mock processes on free ports."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PARTNER_TESTS = '''
import requests

from contracts import Target


def test_session_mock_serves_both_apis(mock_server_url, mock_server):
    key = {"X-Api-Key": mock_server.api_key}
    events = requests.get(mock_server_url + "/activities/v1/events", headers=key,
                          params={"latitude": 50.6292, "longitude": 3.0573}, timeout=10)
    assert events.status_code == 200 and events.json()["data"]
    me = requests.get(mock_server_url + "/activities/v1/auth/me", timeout=10,
                      headers={**key, "Authorization": "Bearer " + mock_server.token()})
    assert me.json()["id"] == "28cce8e0-2d57-4e54-8888-2fc69690aeeb"


def _create(server):
    headers = {"X-Api-Key": server.api_key, "Authorization": "Bearer " + server.token()}
    body = {"title": "t", "description": "d", "start_date": "2030-01-01T10:00:00Z",
            "end_date": "2030-01-01T12:00:00Z", "sport_id": 1, "latitude": 1.0,
            "longitude": 1.0, "level": [5], "age_min": 1, "age_max": 99, "slots": 3}
    return requests.post(server.url + "/activities/v1/events", json=body, headers=headers,
                         timeout=10).json()["data"]["id"]


def test_fresh_mock_starts_from_the_seeded_data(fresh_mock_server):
    first = _create(fresh_mock_server)
    assert first == _create(fresh_mock_server) - 1


def test_fresh_mock_is_fresh_again(fresh_mock_server, mock_server):
    assert fresh_mock_server.url != mock_server.url
    assert _create(fresh_mock_server) == _create(fresh_mock_server) - 1


def test_reset_mock_server_forgets_earlier_writes(reset_mock_server):
    first = _create(reset_mock_server)
    reset_mock_server.reset()
    assert _create(reset_mock_server) == first


def test_contracts_target_runs_a_behaviour_check(contracts_target, contracts_check):
    assert isinstance(contracts_target, Target)
    contracts_check("cancel_gives_canceled_and_hides_from_public_list", max_examples=2)
'''


@pytest.mark.integration
def test_plugin_fixtures_in_a_partner_suite(tmp_path: Path) -> None:
    (tmp_path / "test_partner.py").write_text(PARTNER_TESTS)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT),
                                                       os.environ.get("PYTHONPATH", "")])}
    # `-p contracts.pytest_plugin` is what a suite does when the entry point is not installed;
    # `-p no:` first avoids registering it twice when it is.
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:decathlon_contracts", "-p",
         "contracts.pytest_plugin", "-p", "no:cacheprovider", "-q", "--rootdir", str(tmp_path),
         str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "5 passed" in completed.stdout


@pytest.mark.integration
def test_contracts_base_url_option_points_at_a_deployment(tmp_path: Path) -> None:
    """With --contracts-base-url no mock is started: the target is the given deployment."""
    (tmp_path / "test_deployment.py").write_text(
        "def test_target(contracts_target):\n"
        "    assert contracts_target.activities_url == 'http://deployment.invalid/activities'\n"
        "    assert contracts_target.api_key == 'k'\n"
        "    assert contracts_target.bearer() == 't'\n"
        "    assert contracts_target.read_only\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT),
                                                       os.environ.get("PYTHONPATH", "")])}
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:decathlon_contracts", "-p",
         "contracts.pytest_plugin", "-p", "no:cacheprovider", "-q", "--rootdir", str(tmp_path),
         "--contracts-base-url", "http://deployment.invalid", "--contracts-api-key", "k",
         "--contracts-token", "t", "--contracts-read-only", str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stdout + completed.stderr
