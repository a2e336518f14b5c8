"""Bodies and forms past the mock's limits get the spec's JSON 413, whichever path and parser.

The limits are werkzeug's, as Flask sets them: at most 1,000 parts in a form, at most 500,000
bytes in a part that is not a file, at most 4 MiB of body (a 3 MiB upload and its envelope).
Each case is sent as a plain body (the mock's quick parser) and with a preamble (werkzeug's
parser), through both request paths (``conftest.py``).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from mock_server.api.http_status import status_line
from mock_server.domain.tracking import MAX_PHOTO_BYTES
from tests.multipart_bodies import BOUNDARY, CONTENT_TYPE, JPEG, field, file_part, form, many_fields

UPLOAD = "/sportstrackingdata/v2/upload"
PARSERS = pytest.mark.parametrize("preamble", [False, True], ids=["quick-parser", "werkzeug"])


def post(client, headers, body: bytes):
    return client.post(UPLOAD, data=body, headers={**headers, "Content-Type": CONTENT_TYPE})


def assert_form_read(response, *names: str) -> None:
    """The form was within the limits and parsed: the upload then refuses its text parts by
    name (an upload has only the part `file`, DECISIONS.md, Tracking), not with a 413."""
    assert response.status_code == 422, response.data[:300]
    assert set(response.json["errors"]) == set(names)


def assert_form_refused(response) -> None:
    assert response.status_code == 413, response.data[:300]
    assert response.content_type == "application/json"
    assert response.json["code"] == 413
    assert "Multipart form too large" in response.json["message"]


@PARSERS
def test_a_plain_upload_goes_through_either_parser(client, owner_headers, preamble):
    response = post(client, owner_headers, form(file_part(), preamble=preamble))
    assert response.status_code == 200, response.json
    assert response.json["url"].startswith("http://localhost/uploads/")
    assert_form_read(post(client, owner_headers, form(file_part(), field("note", b"hi"),
                                                      preamble=preamble)), "note")


@PARSERS
@pytest.mark.parametrize("disposition", ["form-data", "form-data; filename=\"a.jpg\""],
                         ids=["field", "file"])
def test_a_part_without_a_name_is_refused_by_name_not_with_a_500(client, owner_headers,
                                                                   preamble, disposition):
    """werkzeug keys such a part by None; the refusal still lists it, as "" (found by plain
    schemathesis, which answered a 500 before)."""
    unnamed = (f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
               + b"v\r\n")
    response = post(client, owner_headers, form(file_part(), unnamed, preamble=preamble))
    assert_form_read(response, "")
    assert "part without a name" in response.json["message"]


@PARSERS
def test_a_thousand_parts_are_read(client, owner_headers, preamble):
    body = form(file_part(), *many_fields(999), preamble=preamble)
    response = post(client, owner_headers, body)
    assert response.status_code == 422, response.json
    assert len(response.json["errors"]) == 999


@PARSERS
@pytest.mark.parametrize("fields", [1000, 1099])
def test_too_many_parts_is_a_json_413(client, owner_headers, preamble, fields):
    assert_form_refused(post(client, owner_headers,
                             form(file_part(), *many_fields(fields), preamble=preamble)))


@PARSERS
def test_a_text_field_over_500000_bytes_is_a_json_413(client, owner_headers, preamble):
    at_limit = post(client, owner_headers, form(file_part(), field("note", b"a" * 500_000),
                                                preamble=preamble))
    assert_form_read(at_limit, "note")
    assert_form_refused(post(client, owner_headers,
                             form(file_part(), field("note", b"a" * 500_001),
                                  preamble=preamble)))


@PARSERS
def test_a_file_part_over_the_upload_limit_is_the_uploads_413(client, owner_headers,
                                                              preamble):
    photo = JPEG + b"\x00" * (MAX_PHOTO_BYTES + 1 - len(JPEG))
    response = post(client, owner_headers, form(file_part(photo), preamble=preamble))
    assert response.status_code == 413 and response.json["code"] == 413
    assert str(MAX_PHOTO_BYTES) in response.json["message"]


def test_a_body_over_4_mib_is_refused_before_it_is_read(client, owner_headers):
    body = form(file_part(JPEG + b"\x00" * (5 * 1024 * 1024)))
    response = post(client, owner_headers, body)
    assert response.status_code == 413 and response.json["code"] == 413
    assert "Request body too large" in response.json["message"]


def test_an_oversized_json_body_gets_the_same_413(client, owner_headers):
    response = client.post("/v1/events", data=b'{"title": "' + b"a" * (5 * 1024 * 1024) + b'"}',
                           headers={**owner_headers, "Content-Type": "application/json"})
    assert response.status_code == 413 and response.json["code"] == 413


def test_a_query_that_is_not_utf8_is_a_validation_error(client):
    """Raw bytes werkzeug cannot decode stay percent-encoded: a 422 naming them, not a 500."""
    response = client.get("/v1/events?latitude=50&longitude=3&na%FFme=1",
                          headers={"X-Api-Key": "aaa-bbb-ccc"})
    assert response.status_code == 422, response.data
    assert "na%FFme" in response.json["errors"]


def test_the_status_line_has_the_mocks_reason_phrase(client, headers_for):
    """werkzeug alone would send "498 UNKNOWN" and upper-case phrases."""
    expired = client.get("/v1/auth/me", headers=headers_for(ttl=timedelta(seconds=-1)))
    assert expired.status == status_line(498) == "498 Token Expired"
    missing = client.get("/v1/events/999999", headers=headers_for())
    assert missing.status == "404 Not Found"
    unknown = client.get("/v1/nothing")
    assert unknown.status == "404 Not Found"
    created = client.post("/v1/events", json={}, headers=headers_for())
    assert created.status == "422 Unprocessable Entity"
