"""Two users by default against the offline mock, through its admin API (over HTTP only).

The checks that need two users (another user's event, another user's activity) are skipped
without a second token. Against our mock that token is free: its admin API mints a bearer
token for any fixture user (`POST /__admin/tokens {"user": ...}` with `X-Admin-Key`). So when
the target is the mock and its admin API answers, a run asks it for what was not given, and
the common CI setup (`contracts run --url <mock> --api-key ...`) runs every check.

The kit still never imports the mock: it recognises it by its admin spec
(`GET /__admin/openapi.yaml`, a read, so a real deployment only sees one 404), and knows the
fixture users by the ids the documents give them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

from .tokens import TokenSource

__all__ = ["DEFAULT_ADMIN_KEY", "MAIN_USER", "OTHER_USER", "MockAdmin", "MockUser"]

#: The mock's development admin key (`MOCK_SERVER_ADMIN_KEY` overrides it on both sides).
DEFAULT_ADMIN_KEY = "admin-dev-key"
#: John D (FED), the documents' authenticated user and the mock's default one.
MAIN_USER = "28cce8e0-2d57-4e54-8888-2fc69690aeeb"
#: The documents' subscriber example (DKTCONNECT), a fixture user of the mock too.
OTHER_USER = "4c68165b-3869-4c22-8098-a4a429c97509"


@dataclass(frozen=True)
class MockUser:
    id: str
    name: str
    token: str


class MockAdmin:
    """The admin API of a mock serving at the host of `activities_url`."""

    def __init__(self, activities_url: str, *, admin_key: str | None = None,
                 timeout: float = 10.0) -> None:
        parts = urlsplit(activities_url)
        self.root = f"{parts.scheme}://{parts.netloc}/__admin"
        self.admin_key = admin_key or os.environ.get("MOCK_SERVER_ADMIN_KEY", DEFAULT_ADMIN_KEY)
        self.timeout = timeout

    @property
    def _headers(self) -> dict[str, str]:
        return {"X-Admin-Key": self.admin_key}

    def answers(self) -> bool:
        """Whether the target is our mock with its admin API on (a GET of the admin spec)."""
        try:
            response = requests.get(f"{self.root}/openapi.yaml", headers=self._headers,
                                    timeout=self.timeout)
        except requests.RequestException:
            return False
        return response.status_code == 200 and b"/__admin/tokens" in response.content

    def mint(self, user: str) -> MockUser | None:
        """A token for a fixture user (id or external id), or None if the mock refuses."""
        try:
            response = requests.post(f"{self.root}/tokens", json={"user": user},
                                     headers=self._headers, timeout=self.timeout)
            answer = response.json() if response.status_code == 201 else None
        except (requests.RequestException, ValueError):
            return None
        if not isinstance(answer, dict) or not isinstance(answer.get("token"), str):
            return None
        named = answer.get("user") or {}
        return MockUser(id=str(named.get("id", user)), name=str(named.get("name", user)),
                        token=answer["token"])

    def token_source(self, user: str) -> tuple[TokenSource, MockUser] | None:
        minted = self.mint(user)
        return (TokenSource(token=minted.token), minted) if minted else None
