"""Naming a raw request's operation, and the nearest one for a miss."""

from __future__ import annotations

import pytest

from mock_server.openapi.matching import OperationMatcher
from mock_server.openapi.spec import load_spec


@pytest.fixture(scope="module")
def matcher() -> OperationMatcher:
    return OperationMatcher(load_spec().operations.values())


@pytest.mark.parametrize("method, path, operation, values", [
    ("GET", "/activities/v1/events", "listEvents", {}),
    ("GET", "/activities/v1/events/mine", "listMyEvents", {}),
    ("GET", "/activities/v1/events/12", "getEvent", {"id": "12"}),
    ("patch", "/activities/v1/events/12", "patchEvent", {"id": "12"}),
    ("GET", "/activities/v1/events/3/subscribers/me", "getMySubscription", {"id": "3"}),
    ("DELETE", "/activities/v1/events/3/subscribers/4c68165b-3869-4c22-8098-a4a429c97509",
     "removeSubscriber", {"id": "3", "user": "4c68165b-3869-4c22-8098-a4a429c97509"}),
    ("PUT", "/sportstrackingdata/v2/activities/eu2cbe4bbb24082fd9ad", "updateActivity",
     {"token": "eu2cbe4bbb24082fd9ad"}),
])
def test_matches_like_the_apps_routes(matcher: OperationMatcher, method: str, path: str,
                                      operation: str, values: dict) -> None:
    found = matcher.match(method, path)
    assert found is not None
    assert found.operation.operation_id == operation and found.path_values == values


@pytest.mark.parametrize("method, path", [
    ("GET", "/activities/v1/events/abc"), ("GET", "/activities/v1/events/"),
    ("DELETE", "/activities/v1/events/1"), ("GET", "/v1/events"),
    ("GET", "/activities/v1/events/1/subscribers/not-a-uuid"),
])
def test_does_not_match_what_the_app_would_refuse(matcher: OperationMatcher, method: str,
                                                  path: str) -> None:
    assert matcher.match(method, path) is None


@pytest.mark.parametrize("method, path, operation, reason", [
    ("GET", "/activities/v1/event/1", "getEvent", "segment 'event' where the spec has 'events'"),
    ("DELETE", "/activities/v1/events/1", "getEvent", "method DELETE is not documented"),
    ("GET", "/v1/events", "listEvents", "lacks the API root /activities"),
    ("GET", "/activities/v1/events/abc", "getEvent", "cannot be the {id} parameter"),
    ("GET", "/activities/v1/events/", "listEvents", "ends with a slash"),
    ("POST", "/sportstrackingdata/v2/uploads", "uploadFile", "'uploads' where the spec"),
])
def test_the_nearest_operation_and_why_it_missed(matcher: OperationMatcher, method: str,
                                                 path: str, operation: str,
                                                 reason: str) -> None:
    miss = matcher.nearest(method, path)
    assert miss is not None and miss.operation_id == operation
    assert any(reason in text for text in miss.reasons), miss.reasons
    assert 0 < miss.similarity <= 1
