"""The mock's stateful parts, built once per app from its settings."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from mock_server.auth import ApiKeys, TokenClaims, Tokens
from mock_server.data import build_fixtures
from mock_server.domain.clock import Clock, SystemClock
from mock_server.domain.models import User
from mock_server.settings import Settings
from mock_server.store import InMemoryStore, Store
from mock_server.tracking.activities import TrackingActivities
from mock_server.tracking.blobs import InMemoryBlobStore

# The fixture users' home places (Lille area), where their tracking activities start.
LILLE = (50.6292, 3.0573)


class Users:
    """Maps token claims to user records, registering unknown users of a real identity provider.

    With signature checks on, a token can only name a fixture (or imported) user: a token for
    nobody is a client bug worth a 401. With them off, a partner's real token must just work,
    so its user is registered on first sight from the claims.
    """

    def __init__(self, store: Store, *, register_unknown: bool) -> None:
        self._store = store
        self._register_unknown = register_unknown

    def caller_for(self, claims: TokenClaims) -> User | None:
        user_id = api_user_id(claims.user_id)
        user = self._store.get_user(user_id)
        if user is not None or not self._register_unknown:
            return user
        with self._store.transaction():
            user = self._store.get_user(user_id)
            if user is None:
                user = User(id=user_id, type=claims.user_type,
                            name=claims.name or "Unknown user", external_id=claims.user_id)
                self._store.add_user(user)
        return user


def api_user_id(subject: str) -> str:
    """The API's user ids are uuids; a provider's other subjects map to a stable uuid5."""
    try:
        return str(uuid.UUID(subject))
    except ValueError:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"mock-server:user:{subject}"))


@dataclass
class Services:
    settings: Settings
    clock: Clock
    store: Store
    users: Users
    api_keys: ApiKeys
    tokens: Tokens
    blobs: InMemoryBlobStore
    activities: TrackingActivities


def build_services(settings: Settings) -> Services:
    clock: Clock = settings.extra.get("clock") or SystemClock()
    fixtures = build_fixtures(seed=settings.seed, events=settings.events)
    store = InMemoryStore(fixtures)
    activities = TrackingActivities.from_fixtures(
        settings.seed,
        [(user.id, *LILLE) for user in fixtures.users],
        clock=clock,
    )
    return Services(
        settings=settings,
        clock=clock,
        store=store,
        users=Users(store, register_unknown=not settings.verify_token_signature),
        api_keys=ApiKeys(settings.api_keys),
        tokens=Tokens(settings.token_secret, clock,
                      verify_signature=settings.verify_token_signature),
        blobs=InMemoryBlobStore(settings.upload_storage_bytes),
        activities=activities,
    )
