"""The request adapter, the form parsing and the error mapping that every path shares."""

from __future__ import annotations

import io
import logging
from typing import Any

import pytest
from werkzeug.exceptions import BadRequest
from werkzeug.test import EnvironBuilder

from mock_server.api.answers import answer_for_exception
from mock_server.api.multipart import FormLimits, FormTooLarge, read_form, simple_form
from mock_server.api.requests import (
    BodyLimits,
    BodyTooLarge,
    parse_args,
    read_body,
    read_incoming,
)
from mock_server.controls.proxy import request_violations
from mock_server.errors import ApiError
from mock_server.openapi.matching import OperationMatcher
from mock_server.openapi.spec import load_spec
from mock_server.openapi.validation import compile_validators
from tests.multipart_bodies import CONTENT_TYPE, JPEG, field, file_part, form

SPEC = load_spec()
MATCHER = OperationMatcher(SPEC.operations.values())


@pytest.mark.parametrize("query, expected", [
    ("", {}),
    ("b=1&a=2&b=3", {"b": ["1", "3"], "a": ["2"]}),
    ("level[]=5&empty=&flag", {"level[]": ["5"], "empty": [""], "flag": [""]}),
    ("q=caf%C3%A9+run", {"q": ["café run"]}),
    ("na%FFme=1", {"na%FFme": ["1"]}),  # not UTF-8: stays percent-encoded
    ("raw=\xe9", {"raw": ["%E9"]}),  # a raw latin-1 byte from the server, not UTF-8 either
])
def test_the_query_is_decoded_as_werkzeug_decodes_request_args(query: str,
                                                                expected: dict) -> None:
    assert parse_args(query) == expected


def test_the_body_is_read_to_content_length_and_refused_past_the_limit() -> None:
    env = {"wsgi.input": io.BytesIO(b"0123456789"), "CONTENT_LENGTH": "4"}
    assert read_body(env, 100) == b"0123"
    with pytest.raises(BodyTooLarge) as refused:
        read_body({"wsgi.input": io.BytesIO(b"x" * 20), "CONTENT_LENGTH": "20"}, 10)
    assert refused.value.status == 413


def chunked(data: bytes) -> dict[str, Any]:
    """A chunked request as a server that decodes it hands it on: no length, a terminated
    stream (waitress instead sets the length once it has the whole body)."""
    return {"wsgi.input": io.BytesIO(data), "wsgi.input_terminated": True,
            "HTTP_TRANSFER_ENCODING": "chunked"}


def test_a_body_without_length_is_read_only_from_a_chunked_terminated_stream() -> None:
    assert read_body({"wsgi.input": io.BytesIO(b"abc")}, 100) == b""
    no_body = {"wsgi.input": io.BytesIO(b"abc"), "wsgi.input_terminated": True}
    assert read_body(no_body, 100) == b""  # neither length nor chunks: no body (RFC 9112)
    assert read_body(chunked(b"abc"), 100) == b"abc"
    assert read_body(chunked(b"x" * 10), 10) == b"x" * 10
    with pytest.raises(BodyTooLarge):  # werkzeug alone would cut it at 10 bytes silently
        read_body(chunked(b"x" * 20), 10)


def test_an_incoming_request_as_the_pipeline_sees_it() -> None:
    env = EnvironBuilder(path="/activities/v1/events/7", base_url="http://mock.test:8123",
                         query_string="b=1", headers={"X-Api-Key": "k"}).get_environ()
    match = MATCHER.match("GET", "/activities/v1/events/7")
    assert match is not None
    incoming = read_incoming(env, match, BodyLimits(max_content_length=100))
    assert incoming.base_url == "http://mock.test:8123"
    assert incoming.path == "/activities/v1/events/7" and incoming.query_string == "b=1"
    assert dict(incoming.path_values) == {"id": "7"} and incoming.files is None
    assert incoming.view.header_value("X-Api-Key") == "k"
    assert incoming.view.query_values("b") == ["1"]


def test_a_multipart_operation_gets_its_files_and_no_body_to_validate() -> None:
    body = form(file_part(), field("note", b"hello"))
    env = EnvironBuilder(path="/v2/upload", method="POST", data=body,
                         content_type=CONTENT_TYPE).get_environ()
    match = MATCHER.match("POST", "/v2/upload")
    assert match is not None
    incoming = read_incoming(env, match, BodyLimits(max_content_length=10_000))
    assert incoming.view.body_bytes() == b""
    assert list(incoming.files) == ["file"] and incoming.files["file"].read() == JPEG


def _files(files: Any) -> list[tuple[str, str | None, bytes]]:
    return [(name, storage.filename, storage.read()) for name, storage in files.items(multi=True)]


def test_both_parsers_find_the_same_parts() -> None:
    parts = (file_part(), field("note", b"x"), file_part(b"second", "b.gpx"))
    quick = simple_form(form(*parts), CONTENT_TYPE, FormLimits())
    assert quick is not None
    assert simple_form(form(*parts, preamble=True), CONTENT_TYPE, FormLimits()) is None
    werkzeug = read_form(form(*parts, preamble=True), CONTENT_TYPE, FormLimits())
    assert _files(quick.files) == _files(werkzeug.files) == [
        ("file", "myphoto.jpg", JPEG), ("file", "b.gpx", b"second")]
    assert quick.fields == werkzeug.fields == ("note",)


@pytest.mark.parametrize("preamble", [False, True])
def test_both_parsers_apply_the_same_limits(preamble: bool) -> None:
    # werkzeug also caps each 64 KiB chunk it buffers by the field limit: keep it above that.
    limits = FormLimits(max_parts=3, max_field_bytes=100_000)
    ok = form(file_part(), field("a", b"a" * 100_000), field("b", b""), preamble=preamble)
    assert list(read_form(ok, CONTENT_TYPE, limits).files) == ["file"]
    for body in (form(file_part(), *(field(f"f{i}", b"") for i in range(3)), preamble=preamble),
                 form(file_part(), field("a", b"a" * 100_001), preamble=preamble)):
        with pytest.raises(FormTooLarge) as refused:
            read_form(body, CONTENT_TYPE, limits)
        assert refused.value.status == 413 and "at most 3 parts" in refused.value.message


def test_a_body_that_is_not_multipart_has_no_parts() -> None:
    form = read_form(b'{"file": 1}', "application/json", FormLimits())
    assert list(form.files) == [] and form.fields == ()


def test_one_error_mapping_for_refusals_http_errors_and_bugs(
        caplog: pytest.LogCaptureFixture) -> None:
    env = {"REQUEST_METHOD": "POST", "PATH_INFO": "/v2/upload"}
    refusal = answer_for_exception(ApiError(422, "no", {"f": ["bad"]}), env)
    assert (refusal.status, refusal.body) == (
        422, b'{"code":422,"message":"no","errors":{"f":["bad"]}}')
    assert answer_for_exception(BadRequest(), env).status == 400
    with caplog.at_level(logging.ERROR, logger="mock_server"):
        bug = answer_for_exception(KeyError("x"), env)
    assert (bug.status, bug.body) == (500, b'{"code":500,"message":"Internal server error: '
                                           b'KeyError."}')
    assert "unhandled error on POST /v2/upload" in caplog.text


def test_the_proxy_reads_the_query_as_the_mock_does() -> None:
    operation = SPEC.operation("listEvents")
    env = {"QUERY_STRING": "latitude=50&longitude=3&na%FFme=1", "HTTP_X_API_KEY": "k"}
    found = request_violations(operation, compile_validators(SPEC)["listEvents"], env, b"", {})
    assert [v.get("where") for v in found] == ["na%FFme"]
