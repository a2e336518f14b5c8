"""One base URL serves both APIs: the spec's paths as written at the root (`/v1/...`, `/v2/...`).

A tool that takes one base URL for the whole document (schemathesis, Prism, Postman, generated
clients) sends `/v1/events` and `/v2/upload` to it; the mounted paths keep working beside them,
on the same state.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

from mock_server.settings import DEFAULT_API_KEY
from tests.conftest import LILLE, OTHER_USER_ID

KEY = {"X-Api-Key": DEFAULT_API_KEY}
NEAR_LILLE = f"latitude={LILLE['latitude']}&longitude={LILLE['longitude']}"
CREATE = json.loads((Path(__file__).resolve().parents[2] / "fixtures" / "documents"
                     / "createEvent.request.json").read_text())
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 500


def _filled(path: str) -> str:
    return (path.replace("{id}", "1").replace("{user}", OTHER_USER_ID)
            .replace("{token}", "abc"))


def test_every_operation_answers_at_the_root_as_under_its_mount(app, client, owner_headers):
    spec = app.extensions["mock_server.spec"]
    for operation in spec.operations.values():
        if operation.method != "GET":
            continue
        mounted = client.get(_filled(operation.mock_path), headers=owner_headers)
        at_root = client.get(_filled(operation.path), headers=owner_headers)
        assert at_root.status_code == mounted.status_code, operation.operation_id
        assert at_root.data == mounted.data, operation.operation_id


def test_the_root_needs_the_same_credentials(app, client):
    spec = app.extensions["mock_server.spec"]
    for operation in spec.operations.values():
        response = client.open(_filled(operation.path), method=operation.method, headers=KEY)
        if operation.needs_bearer:
            assert response.status_code == 401, operation.operation_id
            assert response.json["code"] == 401 and "token" in response.json["message"].lower()
        else:  # the public list: past authentication, refused for its missing coordinates
            assert response.status_code == 422, operation.operation_id
            assert set(response.json["errors"]) >= {"latitude", "longitude"}


def test_pagination_links_keep_the_documented_form_and_work_at_the_root(client):
    seen: list[int] = []
    link = f"/v1/events?{NEAR_LILLE}"
    pages = 0
    while link:
        page = client.get(link, headers={**KEY, "X-Desired-Limit": "9"}).json
        assert page["meta"]["path"] == "/v1/events"
        assert page["links"]["first"] == f"/v1/events?{NEAR_LILLE}&page=1"
        seen += [event["id"] for event in page["data"]]
        link = page["links"]["next"]  # relative to the API root: requestable as it is
        pages += 1
    assert len(seen) == len(set(seen)) == page["meta"]["total"] > 9
    assert pages == page["meta"]["last_page"]


def test_both_roots_share_one_state(client, owner_headers, other_headers):
    created = client.post("/v1/events", json=CREATE, headers=owner_headers)
    assert created.status_code == 201, created.json
    event_id = created.json["data"]["id"]
    mounted = client.get(f"/activities/v1/events/{event_id}", headers=owner_headers)
    assert mounted.status_code == 200 and mounted.json == created.json
    joined = client.post(f"/v1/events/{event_id}/subscribers",
                         json={"user": OTHER_USER_ID}, headers=other_headers)
    assert joined.status_code == 201, joined.json
    listed = client.get(f"/activities/v1/events/{event_id}/subscribers", headers=owner_headers)
    assert OTHER_USER_ID in json.dumps(listed.json)


def test_uploads_at_the_root_including_the_documents_curl(client, owner_headers):
    form = client.post("/v2/upload", data={"file": (io.BytesIO(JPEG), "myphoto.jpg")},
                       headers=owner_headers, content_type="multipart/form-data")
    assert form.status_code == 200, form.json
    boundary = "------------------------d74496d66958873e"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"myphoto.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n").encode() + JPEG + (
                f"\r\n--{boundary}--\r\n").encode()
    documented = client.post("/v2/upload", data=body, headers={
        **owner_headers, "Content-Type": "application/json"})
    assert documented.status_code == 200, documented.json
    assert documented.json["url"] == form.json["url"]
    served = client.get("/" + form.json["url"].split("://", 1)[1].split("/", 1)[1])
    assert served.status_code == 200 and served.data == JPEG


def test_unknown_root_paths_and_methods_get_the_json_errors(client):
    missing = client.get("/v1/nothing", headers=KEY)
    assert missing.status_code == 404 and missing.json["code"] == 404
    assert missing.json["message"].endswith(
        "The APIs live under /activities/v1, /v1, /sportstrackingdata/v2 and /v2.")
    wrong = client.delete("/v1/events", headers=KEY)
    assert wrong.status_code == 405 and wrong.headers["Allow"] == "GET, POST"
    assert wrong.json["code"] == 405
    # Each API keeps its own version: the tracking API has no /v1 at the root.
    assert client.post("/v1/upload", headers=KEY).status_code == 404
    assert client.get("/v2/events", headers=KEY).status_code == 404
