"""The mock's settings: one frozen object built from a mapping (tests) or the environment (CLI)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

#: The documents' own example key, so their curl commands work against the mock unchanged.
DEFAULT_API_KEY = "aaa-bbb-ccc"
#: The development secret of the mock's HS256 bearer tokens (>= 32 bytes, as HS256 wants).
DEFAULT_TOKEN_SECRET = "mock-server-development-secret-change-me"
API_KEYS_ENV = "MOCK_SERVER_API_KEYS"  # comma-separated, added to --api-key values
TOKEN_SECRET_ENV = "MOCK_SERVER_TOKEN_SECRET"
ADMIN_KEY_ENV = "MOCK_SERVER_ADMIN_KEY"
STATE_URL_ENV = "MOCK_SERVER_STATE_URL"
#: The admin API's development key (header ``X-Admin-Key``); change it on a shared mock.
DEFAULT_ADMIN_KEY = "admin-dev-key"


@dataclass(frozen=True)
class Settings:
    seed: int = 42
    events: int = 300
    api_keys: tuple[str, ...] = (DEFAULT_API_KEY,)
    token_secret: str = DEFAULT_TOKEN_SECRET
    verify_token_signature: bool = True
    validate_responses: bool = True
    upload_storage_bytes: int = 256 * 1024 * 1024
    spec_path: str | None = None
    # Test-engineer controls (README, "Test-engineer controls (admin API)").
    admin_enabled: bool = True
    admin_key: str = DEFAULT_ADMIN_KEY
    journal_size: int = 1000  # requests kept in memory (the oldest go first)
    journal_body_bytes: int = 16 * 1024  # of each request and response body
    journal_admin: bool = False  # admin requests are left out of the journal by default
    # Browser clients (CORS, controls/cors.py): "*" allows any origin, as Prism does; a list
    # restricts to those origins; () switches CORS off (serve --no-cors).
    cors_origins: tuple[str, ...] = ("*",)
    # The WSGI fast path for API operations (api/fastpath.py). Off, every request goes through
    # Flask's views, which run the same pipeline: the tests run both ways to catch a drift.
    fast_path: bool = True
    # Where the state lives (mock_server/state/engines.py): "memory" (one process, the
    # default of create_app), "sqlite" (a file shared by the workers of one machine: the
    # state_file, or a temporary one), or PostgreSQL at state_url (replicas on many machines).
    state_engine: str = "memory"
    state_file: str | None = None
    state_url: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any] | None) -> Settings:
        """Accepts Flask-style upper-case keys (`SEED`) as well as field names (`seed`)."""
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for key, value in (config or {}).items():
            name = key.lower()
            (values if name in known and name != "extra" else extra)[name] = value
        if "api_keys" in values:
            keys = values["api_keys"]
            values["api_keys"] = (keys,) if isinstance(keys, str) else tuple(keys)
        if "cors_origins" in values:
            origins = values["cors_origins"]
            values["cors_origins"] = (origins,) if isinstance(origins, str) else tuple(origins)
        return cls(**values, extra=extra)

    @classmethod
    def from_environment(cls, **overrides: Any) -> Settings:
        """CLI settings: flags first, then MOCK_SERVER_* variables, then defaults."""
        keys = [k.strip() for k in os.environ.get(API_KEYS_ENV, "").split(",") if k.strip()]
        flag_keys = list(overrides.pop("api_keys", None) or [])
        if flag_keys or keys:
            overrides["api_keys"] = tuple(dict.fromkeys(flag_keys + keys))
        if not overrides.get("token_secret") and os.environ.get(TOKEN_SECRET_ENV):
            overrides["token_secret"] = os.environ[TOKEN_SECRET_ENV]
        if not overrides.get("admin_key") and os.environ.get(ADMIN_KEY_ENV):
            overrides["admin_key"] = os.environ[ADMIN_KEY_ENV]
        if not overrides.get("state_url") and os.environ.get(STATE_URL_ENV):
            overrides["state_url"] = os.environ[STATE_URL_ENV]
        return cls.from_mapping({k: v for k, v in overrides.items() if v is not None})
