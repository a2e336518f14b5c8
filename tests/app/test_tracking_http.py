"""The Sports Tracking Data API through HTTP (Flask's test client): uploads and activities."""

from __future__ import annotations

import hashlib
import io
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from flask.testing import FlaskClient

from mock_server.domain.tracking import MAX_PHOTO_BYTES, THUMBNAIL_RECOMMENDED_BYTES

UPLOAD = "/sportstrackingdata/v2/upload"
ACTIVITIES = "/sportstrackingdata/v2/activities"
JPEG_HEAD = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
GPX = b'<?xml version="1.0"?><gpx version="1.1" creator="test"><trk><name>x</name></trk></gpx>'


def jpeg(size: int) -> bytes:
    return JPEG_HEAD + b"\x00" * (size - len(JPEG_HEAD))


def upload(client: FlaskClient, headers: dict[str, str], data: bytes,
           filename: str = "myphoto.jpeg") -> Any:
    return client.post(UPLOAD, data={"file": (io.BytesIO(data), filename)}, headers=headers,
                       content_type="multipart/form-data")


def path_of(url: str) -> str:
    return url.split("://", 1)[1].split("/", 1)[1].join(["/", ""])


class TestUpload:
    def test_round_trip_is_byte_for_byte_with_the_right_type(self, client, owner_headers):
        data = jpeg(2048)
        response = upload(client, owner_headers, data)
        assert response.status_code == 200, response.json
        url = response.json["url"]
        assert url.endswith("/" + hashlib.sha1(data).hexdigest())
        served = client.get(path_of(url))
        assert served.status_code == 200
        assert served.data == data
        assert served.content_type == "image/jpeg"
        assert served.headers["X-Content-Type-Options"] == "nosniff"

    def test_same_bytes_same_url(self, client, owner_headers):
        first = upload(client, owner_headers, GPX, "a.gpx").json["url"]
        second = upload(client, owner_headers, GPX, "b.GPX").json["url"]
        assert first == second

    @pytest.mark.parametrize("size,status", [
        (MAX_PHOTO_BYTES - 1, 200), (MAX_PHOTO_BYTES, 200), (MAX_PHOTO_BYTES + 1, 413)])
    def test_size_boundary(self, client, owner_headers, size, status):
        response = upload(client, owner_headers, jpeg(size))
        assert response.status_code == status, response.json
        if status == 413:
            assert response.json["code"] == 413
            assert str(MAX_PHOTO_BYTES) in response.json["message"]
        else:
            assert "300 KB" in " ".join(response.json["warnings"])

    def test_far_too_large_body_is_refused_before_being_read(self, client, owner_headers):
        response = upload(client, owner_headers, jpeg(6 * 1024 * 1024))
        assert response.status_code == 413
        assert response.json["code"] == 413

    def test_thumbnail_sized_file_has_no_warning(self, client, owner_headers):
        response = upload(client, owner_headers, jpeg(THUMBNAIL_RECOMMENDED_BYTES))
        assert response.status_code == 200
        assert "warnings" not in response.json

    @pytest.mark.parametrize("filename,data", [
        ("photo.jpeg", GPX), ("track.gpx", JPEG_HEAD + b"x" * 10), ("data.json", b"{nope"),
        ("track.tcx", GPX), ("doc.xml", b"<a><b></a>")])
    def test_content_must_match_the_extension(self, client, owner_headers, filename, data):
        response = upload(client, owner_headers, data, filename)
        assert response.status_code == 422
        assert "gpx" in response.json["message"] and "jpeg" in response.json["message"]
        assert "file" in response.json["errors"]

    @pytest.mark.parametrize("filename", ["photo.png", "noextension", "../../etc/passwd"])
    def test_other_extensions_are_refused_with_the_accepted_list(self, client, owner_headers,
                                                                 filename):
        response = upload(client, owner_headers, jpeg(100), filename)
        assert response.status_code == 422
        assert "gpx, tcx, json, xml, jpeg" in response.json["message"]

    def test_empty_file_and_missing_part(self, client, owner_headers):
        assert upload(client, owner_headers, b"").status_code == 422
        missing = client.post(UPLOAD, data={"other": (io.BytesIO(b"x"), "a.jpeg")},
                              headers=owner_headers, content_type="multipart/form-data")
        assert missing.status_code == 422
        assert "file" in missing.json["message"]

    @pytest.mark.parametrize("preamble", [b"", b"a preamble werkzeug's own parser reads\r\n"])
    def test_a_part_besides_file_is_refused_naming_it(self, client, owner_headers, preamble):
        """Both parsers (the in-memory one, and werkzeug's for a body with a preamble) report
        the other parts, so the strictness of JSON bodies holds for uploads too."""
        boundary = "b0undary"
        body = preamble + (
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nHoliday"
            f"\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"p.jpeg\"\r\nContent-Type: image/jpeg\r\n\r\n"
        ).encode() + jpeg(100) + f"\r\n--{boundary}--\r\n".encode()
        response = client.post(UPLOAD, data=body, headers=owner_headers,
                               content_type=f"multipart/form-data; boundary={boundary}")
        assert response.status_code == 422, response.json
        assert response.json["errors"] == {"title": ["Unknown field 'title'."]}
        assert "'title'" in response.json["message"]

    def test_the_documents_curl_with_a_json_content_type_is_accepted(self, client,
                                                                      owner_headers):
        boundary = "------------------------d74496d66958873e"
        data = jpeg(500)
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
                f"filename=\"myphoto.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n").encode() \
            + data + f"\r\n--{boundary}--\r\n".encode()
        response = client.post(UPLOAD, data=body,
                               headers={**owner_headers, "Content-Type": "application/json"})
        assert response.status_code == 200, response.json
        assert response.json["url"].endswith(hashlib.sha1(data).hexdigest())

    @pytest.mark.parametrize("content_type,body", [
        ("application/json", b'{"file": "x"}'), ("text/plain", b"hello")])
    def test_a_body_that_is_not_multipart_is_refused_with_415(self, client, owner_headers,
                                                              content_type, body):
        response = client.post(UPLOAD, data=body,
                               headers={**owner_headers, "Content-Type": content_type})
        assert response.status_code == 415
        assert "multipart/form-data" in response.json["message"]

    def test_upload_needs_key_and_token(self, client, owner_headers):
        no_token = {"X-Api-Key": owner_headers["X-Api-Key"]}
        assert upload(client, no_token, jpeg(100)).status_code == 401
        assert upload(client, {}, jpeg(100)).status_code == 401

    def test_concurrent_uploads_are_all_stored(self, app, owner_headers):
        payloads = [jpeg(1000 + i) for i in range(24)]

        def send(data: bytes) -> str:
            response = upload(app.test_client(), owner_headers, data)
            assert response.status_code == 200
            return response.json["url"]

        with ThreadPoolExecutor(max_workers=8) as pool:
            urls = list(pool.map(send, payloads))
        assert len(set(urls)) == len(payloads)
        client = app.test_client()
        for url, data in zip(urls, payloads, strict=True):
            assert client.get(path_of(url)).data == data

    def test_storage_cap_answers_507(self, owner_headers, make_app):
        small = make_app({"SEED": 1, "EVENTS": 10, "UPLOAD_STORAGE_BYTES": 5000})
        client = small.test_client()
        headers = dict(owner_headers)
        assert upload(client, headers, jpeg(4000)).status_code == 200
        full = upload(client, headers, jpeg(4001))
        assert full.status_code == 507
        assert full.json["code"] == 507


class TestActivities:
    def test_list_read_and_update(self, client, owner_headers):
        listed = client.get(ACTIVITIES, headers=owner_headers)
        assert listed.status_code == 200
        assert listed.json, "fixture users own activities"
        token = listed.json[0]["id"]
        read = client.get(f"{ACTIVITIES}/{token}", headers=owner_headers)
        assert read.status_code == 200
        assert read.json["id"] == token
        assert read.json["user"].startswith("/v2/users/")
        assert "dataSummaries" in read.json and "locations" in read.json

        photo = upload(client, owner_headers, jpeg(5000)).json["url"]
        old_thumbnail = read.json["thumbnail"]
        updated = client.put(f"{ACTIVITIES}/{token}", json={"images": [photo]},
                             headers=owner_headers)
        assert updated.status_code == 200
        assert updated.json["images"] == [photo]
        assert updated.json["thumbnail"] == old_thumbnail

        changed = client.put(f"{ACTIVITIES}/{token}", json={"thumbnail": photo},
                             headers=owner_headers)
        assert changed.json["thumbnail"] == photo
        assert changed.json["images"] == [photo]
        again = client.get(f"{ACTIVITIES}/{token}", headers=owner_headers).json
        assert again["thumbnail"] == photo
        previous = client.get(path_of(old_thumbnail))
        assert previous.status_code == 200, "the replaced thumbnail stays reachable"
        assert previous.content_type == "image/png"
        assert previous.data.startswith(b"\x89PNG")

    def test_default_thumbnail_is_a_generated_map(self, client, owner_headers):
        activity = client.get(ACTIVITIES, headers=owner_headers).json[0]
        assert "/maps/" in activity["thumbnail"] and activity["thumbnail"].endswith(".png")
        image = client.get(path_of(activity["thumbnail"]))
        assert image.status_code == 200 and image.data.startswith(b"\x89PNG")

    def test_unknown_token_404_and_other_users_activity_403(self, client, owner_headers,
                                                            other_headers):
        assert client.get(f"{ACTIVITIES}/eu200000000000000000",
                          headers=owner_headers).status_code == 404
        token = client.get(ACTIVITIES, headers=owner_headers).json[0]["id"]
        assert client.get(f"{ACTIVITIES}/{token}", headers=other_headers).status_code == 403
        put = client.put(f"{ACTIVITIES}/{token}", json={"images": []}, headers=other_headers)
        assert put.status_code == 403
        assert put.json["code"] == 403

    @pytest.mark.parametrize("body", [
        {"images": ["not a url"]}, {"thumbnail": "ftp://example.com/x"}, {}, {"name": "x"},
        {"images": "https://example.com/x"}])
    def test_invalid_updates_are_422(self, client, owner_headers, body):
        token = client.get(ACTIVITIES, headers=owner_headers).json[0]["id"]
        response = client.put(f"{ACTIVITIES}/{token}", json=body, headers=owner_headers)
        assert response.status_code == 422, response.json
        assert response.json["errors"]

    def test_malformed_json_is_400(self, client, owner_headers):
        token = client.get(ACTIVITIES, headers=owner_headers).json[0]["id"]
        response = client.put(f"{ACTIVITIES}/{token}", data="{oops",
                              headers={**owner_headers, "Content-Type": "application/json"})
        assert response.status_code == 400
        assert "JSON" in response.json["message"]

    def test_list_is_paginated_and_only_the_callers(self, client, owner_headers, services):
        from mock_server.seed import DEFAULT_USER_ID

        first = client.get(ACTIVITIES, headers=owner_headers).json
        assert all(a["user"] == f"/v2/users/{DEFAULT_USER_ID}" for a in first)
        past = client.get(f"{ACTIVITIES}?page=999", headers=owner_headers)
        assert past.status_code == 200 and past.json == []
        assert client.get(f"{ACTIVITIES}?page=0", headers=owner_headers).status_code == 422
        starts = [a["startdate"] for a in first]
        assert starts == sorted(starts, reverse=True)


def test_uploaded_json_is_served_as_json(client, owner_headers):
    data = json.dumps({"a": 1}).encode()
    url = upload(client, owner_headers, data, "x.json").json["url"]
    served = client.get(path_of(url))
    assert served.content_type == "application/json" and served.data == data
