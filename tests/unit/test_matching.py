"""Naming a raw request's operation, and the nearest one for a miss."""

from __future__ import annotations

import copy

import pytest

from mock_server.openapi.matching import OperationMatcher
from mock_server.openapi.spec import build_spec, load_spec


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
    # The spec's paths as written, at the root (its http://localhost:8000 server entry).
    ("GET", "/v1/events", "listEvents", {}),
    ("GET", "/v1/events/mine", "listMyEvents", {}),
    ("GET", "/v1/events/12", "getEvent", {"id": "12"}),
    ("DELETE", "/v1/events/3/subscribers/4c68165b-3869-4c22-8098-a4a429c97509",
     "removeSubscriber", {"id": "3", "user": "4c68165b-3869-4c22-8098-a4a429c97509"}),
    ("POST", "/v2/upload", "uploadFile", {}),
    ("PUT", "/v2/activities/eu2cbe4bbb24082fd9ad", "updateActivity",
     {"token": "eu2cbe4bbb24082fd9ad"}),
])
def test_matches_like_the_apps_routes(matcher: OperationMatcher, method: str, path: str,
                                      operation: str, values: dict) -> None:
    found = matcher.match(method, path)
    assert found is not None
    assert found.operation.operation_id == operation and found.path_values == values


@pytest.mark.parametrize("method, path", [
    ("GET", "/activities/v1/events/abc"), ("GET", "/activities/v1/events/"),
    ("DELETE", "/activities/v1/events/1"), ("GET", "/v1/events/abc"),
    ("GET", "/activities/v1/events/1/subscribers/not-a-uuid"),
    # Each API at its own version only, and never under the other API's mount.
    ("GET", "/v2/events"), ("POST", "/v1/upload"), ("GET", "/sportstrackingdata/v1/events"),
    ("GET", "/activities/v2/activities"),
])
def test_does_not_match_what_the_app_would_refuse(matcher: OperationMatcher, method: str,
                                                  path: str) -> None:
    assert matcher.match(method, path) is None


@pytest.mark.parametrize("method, path, operation, reason", [
    ("GET", "/activities/v1/event/1", "getEvent", "segment 'event' where the spec has 'events'"),
    ("DELETE", "/activities/v1/events/1", "getEvent", "method DELETE is not documented"),
    ("GET", "/v1/event", "listEvents", "segment 'event' where the spec has 'events'"),
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


def test_the_nearest_of_a_root_path_is_the_root_path(matcher: OperationMatcher) -> None:
    miss = matcher.nearest("GET", "/v1/event/1")
    assert miss is not None and (miss.operation_id, miss.path) == ("getEvent", "/v1/events/{id}")


def test_a_spec_without_the_root_server_serves_the_mounts_only() -> None:
    """The root is the spec's choice (a server entry), not the matcher's: without the entry a
    path as written is a miss, and the nearest operation says the API root is missing."""
    document = copy.deepcopy(load_spec().document)
    for item in [document, *document["paths"].values()]:
        item["servers"] = [s for s in item["servers"] if s["url"] != "http://localhost:8000"]
    mounted_only = OperationMatcher(build_spec(document).operations.values())
    assert mounted_only.match("GET", "/activities/v1/events") is not None
    assert mounted_only.match("GET", "/v1/events") is None
    miss = mounted_only.nearest("GET", "/v1/events")
    assert miss is not None and miss.operation_id == "listEvents"
    assert any("lacks the API root /activities" in text for text in miss.reasons), miss.reasons


def test_the_nearest_operation_is_remembered_per_method_and_path(
        matcher: OperationMatcher) -> None:
    """A 404 names it, so a client that keeps missing must not pay difflib every time."""
    first = matcher.nearest("get", "/v1/evnts/remembered")
    assert first is not None and matcher.nearest("GET", "/v1/evnts/remembered") is first
    assert matcher.nearest("POST", "/v1/evnts/remembered") is not first
