"""Before anything else: the target answers, and accepts our API key and tokens.

A rotated key must not pass CI. Without this check a run with a wrong key sends its requests,
every one is answered 401, and the shape checks accept 401 as a documented answer; so the
run stops here instead, and nothing counts as checked (`contracts run` exits 2):

- the API key on the public list (`GET /v1/events`, which needs nothing else);
- the main token on `GET /v1/auth/me`, then the second token, which must be another user.

Against our mock with its admin API on, tokens that were not given are minted for two fixture
users first (`mock_users.py`), so the two-user checks run in the common CI setup.
"""

from __future__ import annotations

import requests

from .mock_users import MAIN_USER, OTHER_USER, MockAdmin
from .target import Target

__all__ = ["CredentialsRefused", "TargetUnreachable", "check_credentials"]

#: The documents' example point (Lille): the public list needs a position.
_LILLE = {"latitude": 50.62925, "longitude": 3.057256}
#: Statuses that mean "these credentials are refused" (498: the token expired).
_REFUSED = (401, 403, 498)


class TargetUnreachable(RuntimeError):
    """The target did not answer at all (wrong URL, server down); nothing was checked."""


class CredentialsRefused(RuntimeError):
    """The target refuses our API key or a token; nothing was checked."""


def check_credentials(target: Target, *, mock_users: bool = True,
                      admin_key: str | None = None) -> list[str]:
    """Check the target accepts our credentials, getting tokens from the mock if it can.

    Answers notes for the report (what was obtained from the mock); raises
    `TargetUnreachable` or `CredentialsRefused`.
    """
    notes: list[str] = []
    try:
        listed = target.request("GET", "activities", "/v1/events", params=_LILLE, user=None)
    except requests.ConnectionError as exc:
        raise TargetUnreachable(f"cannot reach {target.activities_url}: {exc}") from exc
    if listed.status_code in _REFUSED:
        given = "our API key" if target.api_key else "requests without an API key (none given)"
        raise CredentialsRefused(
            f"the target refuses {given}: GET /v1/events answered {listed.status_code}; "
            "check --api-key (or CONTRACTS_API_KEY)")
    admin = None
    if mock_users and not target.read_only and (target.token is None
                                                or target.other_token is None):
        admin = MockAdmin(target.activities_url, admin_key=admin_key, timeout=target.timeout)
        if not admin.answers():
            admin = None
    if target.token is None and admin is not None:
        minted = admin.token_source(MAIN_USER)
        if minted is not None:
            target.token, user = minted
            notes.append(f"main user: {user.name} ({user.id}), token from the mock's admin API")
    main_id = _user_id(target, "main", "our token (--token or --token-command)")
    if target.other_token is None and admin is not None:
        minted = admin.token_source(OTHER_USER if main_id != OTHER_USER else MAIN_USER)
        if minted is not None:
            target.other_token, user = minted
            notes.append(f"second user: {user.name} ({user.id}), token from the mock's "
                         "admin API (--no-mock-users to turn this off)")
    other_id = _user_id(target, "other",
                        "our second token (--other-token or --other-token-command)")
    if main_id is not None and other_id == main_id:
        raise CredentialsRefused(
            f"the second token belongs to the same user as the first ({main_id}); the "
            "two-user checks need another user")
    return notes


def _user_id(target: Target, user: str, what: str) -> str | None:
    """`GET /v1/auth/me` with one of our tokens: the user's id, or None without that token."""
    if not target.has_user(user):  # type: ignore[arg-type]
        return None
    response = target.request("GET", "activities", "/v1/auth/me", user=user)  # type: ignore[arg-type]
    if response.status_code in _REFUSED:
        raise CredentialsRefused(f"the target refuses {what}: GET /v1/auth/me answered "
                                 f"{response.status_code}")
    try:
        body = response.json()
    except ValueError:
        return None
    return str(body.get("id")) if isinstance(body, dict) and body.get("id") else None
