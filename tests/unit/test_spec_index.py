"""The spec's index: where the mock serves each operation (mounts and the root)."""

from __future__ import annotations

import copy

import pytest

from mock_server.openapi.spec import build_spec, load_spec


def test_every_operation_is_served_under_its_mount_and_at_the_root() -> None:
    for operation in load_spec().operations.values():
        mount = "/activities" if operation.path.startswith("/v1/") else "/sportstrackingdata"
        assert operation.mount == mount
        assert operation.roots == (mount, "")
        assert operation.mock_paths == (mount + operation.path, operation.path)


@pytest.mark.parametrize("request_path", ["/activities/v1/events/7", "/v1/events/7"])
def test_the_api_path_is_the_same_through_either_root(request_path: str) -> None:
    """Pagination links and `meta.path` keep the documented form (relative to the API root)."""
    assert load_spec().operation("getEvent").api_path(request_path) == "/v1/events/7"


def test_two_operations_may_not_share_a_path_on_the_mock() -> None:
    """A path written at the root that another operation has under its mount: a request to it
    would be either operation, so the spec is refused when it is indexed."""
    document = copy.deepcopy(load_spec().document)
    twin = copy.deepcopy(document["paths"]["/v1/events"])
    twin["servers"] = [{"url": "http://localhost:8000"}]
    twin["get"]["operationId"] = "listEventsTwin"
    document["paths"]["/activities/v1/events"] = twin
    with pytest.raises(ValueError, match="GET /activities/v1/events is both listEvents and "
                                         "listEventsTwin"):
        build_spec(document)
