"""User look-ups by external id and by either identifier."""

from __future__ import annotations

import pytest

from mock_server.domain.activities.users import find_user, search_by_external_id
from mock_server.domain.errors import RuleViolation
from mock_server.seed import DEFAULT_USER_ID, build_fixtures
from mock_server.state.memory import InMemoryStore

STORE = InMemoryStore(build_fixtures(seed=42, events=0))


def test_search_by_external_id_finds_the_documented_user() -> None:
    found = search_by_external_id(STORE, "ZXXDOEJ", "FED")
    assert [user.to_json() for user in found] == [
        {
            "id": "1c4884b6-c92b-4b0a-9808-373049fe6c25",
            "type": "FED",
            "name": "John D",
            "photo": "//iam.subsidia.org/photos/users/JOHND01.jpg",
            "title": "Leader magasin",
            "site_id": "0070064800648",
            "mail": "hello@world.com",
            "site": {"id": 648, "name": "Magasin b'Twin village"},
        }
    ]


def test_search_is_per_type() -> None:
    assert search_by_external_id(STORE, "ZXXDOEJ", "DKTCONNECT") == []
    assert search_by_external_id(STORE, "NOBODY", "FED") == []


def test_search_refuses_an_unknown_type() -> None:
    with pytest.raises(RuleViolation) as caught:
        search_by_external_id(STORE, "ZXXDOEJ", "GOOGLE")
    assert set(caught.value.errors or {}) == {"type"}


def test_find_user_by_uuid_or_external_id() -> None:
    by_uuid = find_user(STORE, DEFAULT_USER_ID)
    assert by_uuid is not None and by_uuid.external_id == "JOHND01"
    assert find_user(STORE, "JOHND01") == by_uuid
    dkt = find_user(STORE, "1000000000001")
    assert dkt is not None and dkt.id == "3d416216-7a1d-11e8-adc0-fa7ae01bbebc"
    assert find_user(STORE, "nobody") is None
