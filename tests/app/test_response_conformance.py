"""Every response of a full client session conforms to openapi.yaml, judged by openapi-core.

The mock validates its own responses with validators compiled from the spec; this test uses
an independent implementation (openapi-core) as the oracle, so a bug shared by the mock's
validator and its handlers cannot hide.
"""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from mock_server.openapi.spec import load_spec
from tests.conftest import OTHER_USER_ID

DOCUMENTS = Path(__file__).resolve().parents[2] / "fixtures" / "documents"


@pytest.fixture(scope="module")
def oracle() -> OpenAPI:
    document = copy.deepcopy(load_spec().document)
    for path, item in document["paths"].items():
        item["servers"] = [{"url": "/activities" if path.startswith("/v1") else
                            "/sportstrackingdata"}]
    return OpenAPI.from_dict(document)


def check(oracle: OpenAPI, client, method: str, url: str, headers: dict, **kwargs):
    response = client.open(url, method=method, headers=headers, **kwargs)
    parts = urlsplit(url)
    args = {}
    for pair in filter(None, parts.query.split("&")):
        key, _, value = pair.partition("=")
        args.setdefault(key, []).append(value)
    body = kwargs.get("json")
    request = MockRequest(
        "http://localhost", method.lower(), parts.path,
        args={k: v if len(v) > 1 else v[0] for k, v in args.items()},
        headers=headers,
        data=json.dumps(body).encode() if body is not None else None,
        content_type="application/json" if body is not None else None,
    )
    result = oracle.unmarshal_response(
        request,
        MockResponse(response.data, status_code=response.status_code,
                     content_type=response.content_type),
    )
    assert result.errors == [], (method, url, response.status_code, result.errors)
    return response


def test_a_whole_client_session_conforms(oracle, client, owner_headers, other_headers):
    create = json.loads((DOCUMENTS / "createEvent.request.json").read_text())
    calls = [
        ("GET", "/activities/v1/events?latitude=50.6292&longitude=3.0573&level[]=5", {}, None),
        ("GET", "/activities/v1/events/mine?type=created", owner_headers, None),
        ("GET", "/activities/v1/events/mine?type=subscribed", other_headers, None),
        ("GET", "/activities/v1/auth/me", owner_headers, None),
        ("GET", "/activities/v1/auth/me", other_headers, None),
        ("GET", "/activities/v1/users/search_user_by_external_id?external_id=ZXXDOEJ&type=FED",
         owner_headers, None),
        ("POST", "/activities/v1/events", owner_headers, create),
        ("POST", "/activities/v1/events", owner_headers, {"title": ""}),
        ("GET", "/activities/v1/events/999999", owner_headers, None),
    ]
    key_only = {"X-Api-Key": owner_headers["X-Api-Key"]}
    for method, url, headers, body in calls:
        kwargs = {"json": body} if body is not None else {}
        check(oracle, client, method, url, headers or key_only, **kwargs)

    event = client.post("/activities/v1/events", json=create, headers=owner_headers).json["data"]
    base = f"/activities/v1/events/{event['id']}"
    for method, url, headers, body in [
        ("GET", base, owner_headers, None),
        ("PATCH", base, owner_headers, {"title": "Renamed"}),
        ("PATCH", base, other_headers, {"title": "Not mine"}),
        ("POST", f"{base}/subscribers", other_headers, {"user": OTHER_USER_ID}),
        ("GET", f"{base}/subscribers", owner_headers, None),
        ("GET", f"{base}/subscribers/me", other_headers, None),
        ("PATCH", f"{base}/subscribers/{OTHER_USER_ID}", owner_headers,
         {"has_attended": True, "children": [{"name": "Suzie"}]}),
        ("DELETE", f"{base}/subscribers/{OTHER_USER_ID}", other_headers, None),
        ("POST", f"{base}/duplicate", owner_headers, None),
        ("POST", f"{base}/cancel", owner_headers, None),
        ("POST", f"{base}/cancel", owner_headers, None),
    ]:
        kwargs = {"json": body} if body is not None else {}
        check(oracle, client, method, url, headers, **kwargs)

    activities = check(oracle, client, "GET", "/sportstrackingdata/v2/activities", owner_headers)
    token = activities.json[0]["id"]
    check(oracle, client, "GET", f"/sportstrackingdata/v2/activities/{token}", owner_headers)
    uploaded = client.post("/sportstrackingdata/v2/upload", headers=owner_headers,
                           data={"file": (io.BytesIO(b'{"a": 1}'), "a.json")},
                           content_type="multipart/form-data")
    assert uploaded.status_code == 200
    check(oracle, client, "PUT", f"/sportstrackingdata/v2/activities/{token}", owner_headers,
          json={"images": [uploaded.json["url"]], "thumbnail": uploaded.json["url"]})
