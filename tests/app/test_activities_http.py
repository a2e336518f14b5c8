"""The Sport Activities API through HTTP: auth, errors, pagination and the documented rules."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest

from mock_server.api.callers import api_user_id
from mock_server.settings import DEFAULT_API_KEY
from tests.conftest import LILLE, OTHER_USER_ID

EVENTS = "/activities/v1/events"
NEAR_LILLE = f"{EVENTS}?latitude={LILLE['latitude']}&longitude={LILLE['longitude']}"
KEY = {"X-Api-Key": DEFAULT_API_KEY}
CREATE = json.loads((Path(__file__).resolve().parents[2] / "fixtures" / "documents"
                     / "createEvent.request.json").read_text())


def create(client, headers, **changes):
    response = client.post(EVENTS, json={**CREATE, **changes}, headers=headers)
    assert response.status_code == 201, response.json
    return response.json["data"]


class TestAuth:
    def test_public_list_needs_only_the_key(self, client):
        assert client.get(NEAR_LILLE, headers=KEY).status_code == 200
        missing = client.get(NEAR_LILLE)
        assert missing.status_code == 401 and "X-Api-Key" in missing.json["message"]
        unknown = client.get(NEAR_LILLE, headers={"X-Api-Key": "nope"})
        assert unknown.status_code == 401 and "X-Api-Key" in unknown.json["message"]

    @pytest.mark.parametrize("authorization", [
        None, "Bearer", "Basic abc", "Bearer not.a.jwt",
        "Bearer " + jwt.encode({"sub": "28cce8e0-2d57-4e54-8888-2fc69690aeeb", "type": "FED"},
                               "another-secret-another-secret-000", algorithm="HS256")])
    def test_bad_or_missing_token_is_401(self, client, authorization):
        headers = dict(KEY)
        if authorization:
            headers["Authorization"] = authorization
        response = client.get("/activities/v1/auth/me", headers=headers)
        assert response.status_code == 401
        assert response.json["code"] == 401 and response.json["message"]

    def test_expired_token_is_498(self, client, headers_for):
        response = client.get("/activities/v1/auth/me",
                              headers=headers_for(ttl=timedelta(seconds=-1)))
        assert response.status_code == 498
        assert "expired" in response.json["message"].lower()

    def test_key_is_checked_before_the_token(self, client, owner_headers):
        response = client.get("/activities/v1/auth/me",
                              headers={"Authorization": owner_headers["Authorization"]})
        assert response.status_code == 401 and "X-Api-Key" in response.json["message"]

    def test_every_operation_but_the_public_list_needs_a_token(self, app, client):
        spec = app.extensions["mock_server.spec"]
        for operation in spec.operations.values():
            path = operation.mock_path.replace("{id}", "1").replace(
                "{user}", OTHER_USER_ID).replace("{token}", "abc")
            response = client.open(path, method=operation.method, headers=KEY)
            if operation.operation_id == "listEvents":
                assert response.status_code != 401
            else:
                assert response.status_code == 401, operation.operation_id

    def test_unverified_tokens_of_a_real_identity_provider(self, make_app):
        app = make_app({"SEED": 1, "EVENTS": 20, "VERIFY_TOKEN_SIGNATURE": False})
        claims = {"sub": "a-real-idp-user", "type": "DKTCONNECT", "given_name": "Ada",
                  "family_name": "L"}
        token = jwt.encode(claims, "idp-private-secret-0123456789abc", algorithm="HS256")
        me = app.test_client().get("/activities/v1/auth/me",
                                   headers={**KEY, "Authorization": f"Bearer {token}"})
        assert me.status_code == 200, me.json
        assert me.json["name"] == "Ada L" and me.json["type"] == "DKTCONNECT"
        assert me.json["id"] == api_user_id("a-real-idp-user")  # a stable uuid for the subject

    def test_several_api_keys(self, make_app):
        app = make_app({"SEED": 1, "EVENTS": 20, "API_KEYS": ["k1", "k2"]})
        client = app.test_client()
        assert client.get(NEAR_LILLE, headers={"X-Api-Key": "k2"}).status_code == 200
        assert client.get(NEAR_LILLE, headers=KEY).status_code == 401


class TestErrors:
    def test_malformed_json_is_400(self, client, owner_headers):
        response = client.post(EVENTS, data="{", headers={**owner_headers,
                                                          "Content-Type": "application/json"})
        assert response.status_code == 400
        assert response.json["code"] == 400 and "JSON" in response.json["message"]

    def test_wrong_content_type_is_415(self, client, owner_headers):
        response = client.post(EVENTS, data="title=x", headers={
            **owner_headers, "Content-Type": "application/x-www-form-urlencoded"})
        assert response.status_code == 415 and "application/json" in response.json["message"]

    def test_every_field_error_at_once(self, client, owner_headers):
        response = client.post(EVENTS, json={"title": 5, "level": [7], "surprise": 1},
                               headers=owner_headers)
        assert response.status_code == 422
        errors = response.json["errors"]
        for field in ("title", "level.0", "surprise", "description", "start_date", "slots"):
            assert field in errors, field

    def test_each_missing_field_is_named_once(self, client, owner_headers):
        """jsonschema reports `required` once per missing field; the answer says each once
        (it said each of the ten missing fields ten times, "and 99 more errors")."""
        response = client.post(EVENTS, json={"title": "Footing"}, headers=owner_headers)
        assert response.status_code == 422
        errors = response.json["errors"]
        assert len(errors) == 10 and errors["slots"] == ["The slots field is required."]
        assert all(len(messages) == 1 for messages in errors.values()), errors
        assert response.json["message"].endswith("(and 9 more errors)")

    def test_rule_errors_name_their_field(self, client, owner_headers):
        response = client.post(EVENTS, json={**CREATE, "end_date": "2018-07-20T00:00:00Z",
                                             "age_min": 30, "age_max": 20},
                               headers=owner_headers)
        assert response.status_code == 422
        assert {"end_date", "age_max"} <= set(response.json["errors"])

    def test_utc_written_plus_zero_is_accepted_and_answered_with_z(self, client, owner_headers):
        """What generated clients send for a UTC datetime (Python's isoformat()); openapi.yaml
        DateTime says why. Other offsets and milliseconds stay refused."""
        event = create(client, owner_headers, start_date="2027-03-07T09:00:00+00:00",
                       end_date="2027-03-07T10:30:00+00:00",
                       publish_date="2027-01-01T00:00:00+00:00")
        assert (event["start_date"], event["end_date"], event["publish_date"]) == (
            "2027-03-07T09:00:00Z", "2027-03-07T10:30:00Z", "2027-01-01T00:00:00Z")
        listed = client.get(NEAR_LILLE + "&start_date=2027-03-07T09:00:00%2B00:00", headers=KEY)
        assert listed.status_code == 200, listed.json
        for other in ("2027-03-07T10:00:00+01:00", "2027-03-07T09:00:00.000Z"):
            refused = client.post(EVENTS, json={**CREATE, "start_date": other},
                                  headers=owner_headers)
            assert refused.status_code == 422 and "start_date" in refused.json["errors"], other

    def test_unknown_query_parameter_is_422(self, client):
        response = client.get(NEAR_LILLE + "&lvl[]=5", headers=KEY)
        assert response.status_code == 422 and "lvl[]" in response.json["errors"]

    @pytest.mark.parametrize("query", ["&page=1&page=2", "&page=&page=2", "&latitude=50.6"])
    def test_a_single_value_parameter_given_twice_is_422(self, client, query):
        response = client.get(NEAR_LILLE + query, headers=KEY)
        assert response.status_code == 422, response.json
        name = query.split("=")[0][1:]
        assert any("takes one value" in m for m in response.json["errors"][name]), response.json

    def test_an_array_parameter_repeats(self, client):
        response = client.get(NEAR_LILLE + "&level[]=5&level[]=10", headers=KEY)
        assert response.status_code == 200, response.json

    def test_unknown_path_404_and_wrong_method_405(self, client):
        missing = client.get("/activities/v1/nothing", headers=KEY)
        assert missing.status_code == 404 and missing.json["code"] == 404
        wrong = client.delete(EVENTS, headers=KEY)
        assert wrong.status_code == 405
        assert wrong.headers["Allow"] == "GET, POST"
        assert wrong.json["code"] == 405


    @pytest.mark.parametrize("path, nearest", [
        ("/activities/v1/evnts", "Nearest: GET /activities/v1/events (listEvents): segment "
                                 "'evnts' where the spec has 'events'."),
        ("/v1/events/abc", "Nearest: GET /v1/events/{id} (getEvent): segment 'abc' cannot be "
                           "the {id} parameter"),
        ("/sportstrackingdata/v2/activitie", "Nearest: GET /sportstrackingdata/v2/activities "
                                             "(listActivities)"),
    ])
    def test_a_404_names_the_nearest_operation(self, client, path, nearest):
        missing = client.get(path, headers=KEY)
        assert missing.status_code == 404 and missing.json["code"] == 404
        message = missing.json["message"]
        assert message.startswith(f"No operation at GET {path}. {nearest}")
        assert message.endswith(
            " The APIs live under /activities/v1, /v1, /sportstrackingdata/v2 and /v2.")
        assert ".." not in message

    def test_a_404_far_from_every_operation_names_none(self, client):
        message = client.get("/favicon.ico").json["message"]
        assert message == ("No operation at GET /favicon.ico. The APIs live under "
                           "/activities/v1, /v1, /sportstrackingdata/v2 and /v2.")


class TestPagination:
    def test_links_and_meta_as_documented(self, client):
        page = client.get(NEAR_LILLE + "&level[]=5&level[]=10&page=2",
                          headers={**KEY, "X-Desired-Limit": "3"}).json
        meta, links = page["meta"], page["links"]
        assert meta["per_page"] == 3 and meta["current_page"] == 2
        assert (meta["from"], meta["to"]) == (4, 6)
        assert meta["path"] == "/v1/events"
        query = f"latitude={LILLE['latitude']}&longitude={LILLE['longitude']}&level[]=5&level[]=10"
        assert links["first"] == f"/v1/events?{query}&page=1"
        assert links["prev"] == f"/v1/events?{query}&page=1"
        assert links["next"] == f"/v1/events?{query}&page=3"
        assert links["last"] == f"/v1/events?{query}&page={meta['last_page']}"

    def test_walking_the_links_visits_every_event_once(self, client):
        seen: list[int] = []
        link = NEAR_LILLE.removeprefix("/activities")
        pages = 0
        while link:
            page = client.get("/activities" + link, headers={**KEY, "X-Desired-Limit": "7"}).json
            seen += [e["id"] for e in page["data"]]
            link = page["links"]["next"]
            pages += 1
        assert len(seen) == len(set(seen)) == page["meta"]["total"]
        assert pages == page["meta"]["last_page"]
        starts = [e for e in seen]
        assert starts

    def test_default_limit_is_25_and_bounds_are_enforced(self, client):
        assert client.get(NEAR_LILLE, headers=KEY).json["meta"]["per_page"] == 25
        for bad in ("0", "101", "ten"):
            response = client.get(NEAR_LILLE, headers={**KEY, "X-Desired-Limit": bad})
            assert response.status_code == 422 and "X-Desired-Limit" in response.json["errors"]

    def test_page_past_the_end_is_empty(self, client):
        page = client.get(NEAR_LILLE + "&page=100000", headers=KEY).json
        assert page["data"] == [] and page["meta"]["from"] is None and page["links"]["next"] is None


class TestRules:
    def test_created_event_is_listed_and_cancel_hides_it(self, client, owner_headers):
        event = create(client, owner_headers, latitude=43.2965, longitude=5.3698)
        near = f"{EVENTS}?latitude=43.2965&longitude=5.3698&distance=1"
        assert event["id"] in [e["id"] for e in client.get(near, headers=KEY).json["data"]]
        client.post(f"{EVENTS}/{event['id']}/cancel", headers=owner_headers)
        assert event["id"] not in [e["id"] for e in client.get(near, headers=KEY).json["data"]]

    def test_pending_event_is_the_owners_only(self, client, owner_headers, other_headers):
        event = create(client, owner_headers, status="PENDING")
        assert client.get(f"{EVENTS}/{event['id']}", headers=other_headers).status_code == 404
        assert client.get(f"{EVENTS}/{event['id']}", headers=owner_headers).status_code == 200
        published = client.patch(f"{EVENTS}/{event['id']}", json={"status": "PUBLISHED"},
                                 headers=owner_headers)
        assert published.json["data"]["status"] == "PUBLISHED"
        assert client.get(f"{EVENTS}/{event['id']}", headers=other_headers).status_code == 200

    def test_only_the_owner_changes_cancels_or_duplicates(self, client, owner_headers,
                                                          other_headers):
        event = create(client, owner_headers)
        for method, path, body in (("PATCH", "", {"title": "x"}), ("POST", "/cancel", None),
                                   ("POST", "/duplicate", None)):
            response = client.open(f"{EVENTS}/{event['id']}{path}", method=method, json=body,
                                   headers=other_headers)
            assert response.status_code == 403, path
            assert response.json["code"] == 403

    def test_full_event_and_disabled_subscriptions(self, client, owner_headers, other_headers,
                                                   headers_for):
        event = create(client, owner_headers, slots=1)
        url = f"{EVENTS}/{event['id']}/subscribers"
        assert client.post(url, json={"user": OTHER_USER_ID, "additional_subscribers": 1},
                           headers=other_headers).status_code == 422
        assert client.post(url, json={"user": OTHER_USER_ID},
                           headers=other_headers).status_code == 201
        third = "3d416216-7a1d-11e8-adc0-fa7ae01bbebc"
        full = client.post(url, json={"user": third}, headers=headers_for(third))
        assert full.status_code == 422 and "full" in full.json["message"].lower()
        closed = create(client, owner_headers, subscription_disabled=True)
        refused = client.post(f"{EVENTS}/{closed['id']}/subscribers", json={"user": third},
                              headers=headers_for(third))
        assert refused.status_code == 422 and "disabled" in refused.json["message"].lower()

    def test_subscribing_someone_else_is_forbidden(self, client, owner_headers, other_headers):
        event = create(client, owner_headers)
        response = client.post(f"{EVENTS}/{event['id']}/subscribers",
                               json={"user": "3d416216-7a1d-11e8-adc0-fa7ae01bbebc"},
                               headers=other_headers)
        assert response.status_code == 403

    def test_distance_filter_holds_for_every_listed_event(self, client):
        from mock_server.domain.geo import haversine_km

        for distance in (5, 30, 100):
            url = f"{NEAR_LILLE}&distance={distance}"
            data = client.get(url, headers={**KEY, "X-Desired-Limit": "100"}).json["data"]
            for event in data:
                assert haversine_km(LILLE["latitude"], LILLE["longitude"], event["latitude"],
                                    event["longitude"]) <= distance

    def test_query_string_parameters_keep_their_order_in_links(self, client):
        page = client.get(f"{EVENTS}?longitude=3.0573&distance=50&latitude=50.6292", headers=KEY)
        first = page.json["links"]["first"]
        assert urlsplit(first).query.startswith("longitude=3.0573&distance=50&latitude")
        assert parse_qs(urlsplit(first).query)["page"] == ["1"]
