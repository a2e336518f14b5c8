"""Looking users up, as ``/v1/users/search_user_by_external_id`` and the subscribers body need.

Users are identified two ways: the API's own uuid, and the identity provider's external id
(a FED login such as ``JOHND01``, or a Decathlon Connect id), unique per user type.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mock_server.domain.activities.models import USER_TYPES, User
from mock_server.domain.errors import RuleViolation

if TYPE_CHECKING:
    from mock_server.domain.ports import Store


def search_by_external_id(store: Store, external_id: str, type: str) -> list[User]:
    """Users of ``type`` with that external id: a list of zero or one, as the documents show."""
    if type not in USER_TYPES:
        raise RuleViolation(errors={"type": [f"The type must be one of {', '.join(USER_TYPES)}."]})
    if not isinstance(external_id, str) or not external_id:
        raise RuleViolation(errors={"external_id": ["The external id field is required."]})
    user = store.get_user_by_external_id(type, external_id)
    return [user] if user is not None else []


def find_user(store: Store, uuid_or_external_id: str) -> User | None:
    """A user by uuid, else by external id (FED first, then DKTCONNECT); ``None`` if unknown.

    Lets a token or a test name a user either way without knowing which it holds.
    """
    user = store.get_user(uuid_or_external_id)
    if user is not None:
        return user
    for user_type in USER_TYPES:
        user = store.get_user_by_external_id(user_type, uuid_or_external_id)
        if user is not None:
            return user
    return None
