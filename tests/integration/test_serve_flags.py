"""`mock-server serve` flags that change behaviour, through a real server process."""

from __future__ import annotations

import pytest
import requests

from mock_server.settings import DEFAULT_API_KEY
from tests.conftest import start_server, stop_server

pytestmark = pytest.mark.integration


def test_upload_storage_cap_and_extra_api_keys() -> None:
    server = start_server("--upload-storage-mb", "1", "--api-key", "partner-key", "--quiet")
    try:
        token = server.token()
        headers = {"Authorization": f"Bearer {token}", "X-Api-Key": "partner-key"}
        url = f"{server.url}/sportstrackingdata/v2/upload"

        def upload(fill: bytes) -> requests.Response:
            photo = b"\xff\xd8\xff\xe0" + fill * (700 * 1024)
            return requests.post(url, headers=headers, files={"file": ("p.jpeg", photo)},
                                 timeout=30)

        assert upload(b"a").status_code == 200
        full = upload(b"b")
        assert full.status_code == 507
        assert full.json()["code"] == 507
        default_key = requests.get(f"{server.url}/activities/v1/events?latitude=1&longitude=1",
                                   headers={"X-Api-Key": DEFAULT_API_KEY}, timeout=10)
        assert default_key.status_code == 401, "--api-key replaces the default key"
    finally:
        stop_server(server)
