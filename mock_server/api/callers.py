"""Who is calling: the user record behind a verified bearer token.

With signature checks on, a token can only name a fixture (or imported) user: a token for
nobody is a client bug worth a 401. With them off (``--accept-unverified-tokens``), a
partner's real token must just work, so its user is registered on first sight from the
claims.
"""

from __future__ import annotations

import uuid

from mock_server.api.auth import AuthError, TokenClaims
from mock_server.domain.activities.models import User
from mock_server.domain.ports import Store


def api_user_id(subject: str) -> str:
    """The API's user ids are uuids; a provider's other subjects map to a stable uuid5."""
    try:
        return str(uuid.UUID(subject))
    except ValueError:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"mock-server:user:{subject}"))


def caller_for(store: Store, claims: TokenClaims, *, register_unknown: bool) -> User:
    """The user the claims name; ``AuthError`` 401 for a user the mock does not know."""
    user_id = api_user_id(claims.user_id)
    user = store.get_user(user_id)
    if user is not None:
        return user
    if not register_unknown:
        raise AuthError(401, f"Invalid bearer token: user {claims.user_id} is unknown to the mock.")
    with store.transaction():
        user = store.get_user(user_id)
        if user is None:
            user = User(id=user_id, type=claims.user_type,
                        name=claims.name or "Unknown user", external_id=claims.user_id)
            store.add_user(user)
    return user
