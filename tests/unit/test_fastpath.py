"""The WSGI fast path on its own, and the one match per request it shares with the journal."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest

from mock_server.api.fastpath import ApiDispatcher
from mock_server.api.requests import Answer
from mock_server.app import create_app
from mock_server.controls.install import EXTENSION
from mock_server.openapi.matching import ENV_OPERATION, OperationMatch, OperationMatcher
from mock_server.openapi.spec import load_spec


class CountingMatcher(OperationMatcher):
    def __init__(self) -> None:
        super().__init__(load_spec().operations.values())
        self.calls = 0

    def match(self, method: str, path: str) -> OperationMatch | None:
        self.calls += 1
        return super().match(method, path)


def environ(method: str = "GET", path: str = "/v1/events/1", **extra: Any) -> dict[str, Any]:
    return {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "",
            "wsgi.input": io.BytesIO(b""), "wsgi.url_scheme": "http",
            "SERVER_NAME": "localhost", "SERVER_PORT": "80", **extra}


class Recorder:
    """A responder and an inner app that say whether, and with what, they were called."""

    def __init__(self) -> None:
        self.answered: list[OperationMatch] = []
        self.passed_on = 0

    def respond(self, env: dict[str, Any], match: OperationMatch) -> Answer:
        self.answered.append(match)
        return Answer(498, b'{"code": 498}', {"X-Extra": "1"})

    def inner(self, env: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        self.passed_on += 1
        start_response("404 Not Found", [])
        return [b"flask"]


def call(app: Any, env: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        seen.update(status=status, headers=headers)

    body = b"".join(app(env, start_response))
    return seen["status"], seen["headers"], body


@pytest.fixture
def parts() -> tuple[ApiDispatcher, CountingMatcher, Recorder]:
    matcher, recorder = CountingMatcher(), Recorder()
    return ApiDispatcher(recorder.inner, matcher, recorder.respond), matcher, recorder


def test_an_operation_is_answered_with_the_mocks_status_line(parts) -> None:
    dispatcher, matcher, recorder = parts
    env = environ()
    status, headers, body = call(dispatcher, env)
    assert status == "498 Token Expired" and body == b'{"code": 498}'
    assert headers == [("Content-Type", "application/json"), ("Content-Length", "13"),
                       ("X-Extra", "1")]
    [match] = recorder.answered
    assert match.operation.operation_id == "getEvent" and dict(match.path_values) == {"id": "1"}
    assert env[ENV_OPERATION] is match and matcher.calls == 1 and recorder.passed_on == 0


def test_the_outer_layers_match_is_used_not_redone(parts) -> None:
    dispatcher, matcher, recorder = parts
    theirs = OperationMatch(load_spec().operation("getEvent"), {"id": "7"})
    call(dispatcher, environ(path="/anything", **{ENV_OPERATION: theirs}))
    assert recorder.answered == [theirs] and matcher.calls == 0


def test_a_request_the_outer_layer_found_no_operation_for_goes_to_flask(parts) -> None:
    dispatcher, matcher, recorder = parts
    status, _, body = call(dispatcher, environ(**{ENV_OPERATION: None}))
    assert (status, body) == ("404 Not Found", b"flask")
    assert matcher.calls == 0 and recorder.answered == []


@pytest.mark.parametrize("method, path", [("HEAD", "/v1/events/1"), ("OPTIONS", "/v1/events"),
                                          ("GET", "/v1/nothing"), ("DELETE", "/v1/events")])
def test_what_no_operation_is_goes_to_flask(parts, method: str, path: str) -> None:
    dispatcher, _, recorder = parts
    call(dispatcher, environ(method, path))
    assert recorder.passed_on == 1 and recorder.answered == []


def test_in_the_app_the_journal_matches_once_for_every_layer() -> None:
    app = create_app({"SEED": 1, "EVENTS": 5})
    controls = app.extensions[EXTENSION]
    layers, layer = [], app.wsgi_app
    while layer is not None:
        layers.append(layer)
        layer = getattr(layer, "app", None)
    [dispatcher] = [x for x in layers if isinstance(x, ApiDispatcher)]
    assert dispatcher._matcher is controls.matcher  # one matcher per app

    calls: list[tuple[str, str]] = []
    original = controls.matcher.match

    def counting(method: str, path: str) -> OperationMatch | None:
        calls.append((method, path))
        return original(method, path)

    controls.matcher.match = counting  # type: ignore[method-assign]
    client = app.test_client()
    # A latency rule of 0 ms makes the fault layer look at the operation too.
    client.post("/__admin/faults", json={"kind": "latency", "latency_ms": 0},
                headers={"X-Admin-Key": "admin-dev-key"})
    calls.clear()
    answer = client.get("/v1/events/1", headers={"X-Api-Key": "aaa-bbb-ccc"})
    assert answer.status_code == 401  # answered by the pipeline (no token)
    assert calls == [("GET", "/v1/events/1")]
