"""Behaviour checks of events: create, read, patch, cancel, duplicate, who may see and change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from ..strategies import DATE_FORMAT, event_bodies, event_patches, format_date
from .compare import differences, expected_read
from .context import CheckContext
from .registry import ACTIVITIES, behaviour_check

#: Fields of an event that a duplicate keeps (all but id, status and the places taken).
COPIED_FIELDS = (
    "title", "description", "start_date", "end_date", "publish_date", "picture", "sport_id",
    "latitude", "longitude", "extra_location", "level", "age_min", "age_max", "slots_limit",
    "owner_message", "equipment_provided", "equipment_required", "equipment_linked",
    "subscription_disabled",
)


@behaviour_check(
    rule=("An event created with POST /v1/events reads back as sent: every field as given, "
          "`slots` as `slots_limit` with all places free, PUBLISHED unless asked PENDING, owned "
          "by the caller; GET /v1/events/{id} shows the same event."),
    cites=(f"{ACTIVITIES} > Events > Add a new sport activity",
           f"{ACTIVITIES} > Events > Get a sport activity",
           "openapi.yaml > createEvent (slots read back as slots_limit)"),
    operations=("createEvent", "getEvent", "getAuthenticatedUser", "cancelEvent"),
)
def created_event_reads_back_as_sent(ctx: CheckContext) -> None:
    me = ctx.me()

    def prop(body: dict[str, Any]) -> None:
        created = ctx.create_event(body)
        expected = expected_read(body)
        expected.setdefault("status", "PUBLISHED")
        expected["slots"] = body["slots"]
        problems = differences(expected, created)
        if (created.get("owner") or {}).get("id") != me.get("id"):
            problems.append(f"owner.id: expected the caller {me.get('id')!r}, got "
                            f"{(created.get('owner') or {}).get('id')!r}")
        ctx.expect(not problems, "the created event differs from what was sent:\n"
                   + "\n".join(problems))
        read = ctx.get_event(created["id"])
        problems = differences(created, read, created.keys())
        ctx.expect(not problems, f"GET /v1/events/{created['id']} differs from the creation "
                   "answer:\n" + "\n".join(problems))

    ctx.run_property(event_bodies(statuses=(None, "PUBLISHED", "PENDING"),
                                  subscription_disabled=None), prop)


@behaviour_check(
    rule=("PATCH /v1/events/{id} changes only the fields it is given: they take the sent "
          "values, every other field keeps its value, and a later GET agrees."),
    cites=(f"{ACTIVITIES} > Events > Modify a sport activity (\"you can just pass the fields "
           "you want to modify\")", "openapi.yaml > patchEvent"),
    operations=("createEvent", "patchEvent", "getEvent", "cancelEvent"),
)
def patch_changes_only_given_fields(ctx: CheckContext) -> None:
    strategy = st.tuples(event_bodies(statuses=(None, "PUBLISHED", "PENDING"),
                                      subscription_disabled=None), event_patches())

    def prop(value: tuple[dict[str, Any], dict[str, Any]]) -> None:
        body, patch = value
        before = ctx.create_event(body)
        response = ctx.call("PATCH", "activities", f"/v1/events/{before['id']}", json=patch,
                            expect=200, what=f"PATCH /v1/events/{before['id']}")
        after = ctx.json(response).get("data") or {}
        expected = dict(before)
        expected.update(expected_read(patch))
        if "slots" in patch:
            # No one subscribed, so every place of the new capacity is free.
            expected["slots"] = patch["slots"]
        problems = differences(expected, after, expected.keys())
        ctx.expect(not problems, f"PATCH with {sorted(patch)} changed the event otherwise than "
                   "asked:\n" + "\n".join(problems), response)
        read = ctx.get_event(before["id"])
        problems = differences(after, read, after.keys())
        ctx.expect(not problems, "GET after PATCH differs from the PATCH answer:\n"
                   + "\n".join(problems))

    ctx.run_property(strategy, prop)


@behaviour_check(
    rule=("POST /v1/events/{id}/cancel answers the event with status CANCELED and nothing else "
          "changed; it leaves the public list, its owner can still read it, and it cannot be "
          "cancelled or modified again (422)."),
    cites=(f"{ACTIVITIES} > Events > Cancel a sport activity",
           f"{ACTIVITIES} > Events > List of sport activities",
           "openapi.yaml > cancelEvent", "DECISIONS.md > Events (CANCELED is final)"),
    operations=("createEvent", "cancelEvent", "listEvents", "getEvent", "patchEvent"),
)
def cancel_gives_canceled_and_hides_from_public_list(ctx: CheckContext) -> None:
    lat, lon = ctx.isolated_point()
    query = {"latitude": lat, "longitude": lon, "distance": 20}

    def prop(body: dict[str, Any]) -> None:
        event = ctx.create_event(body)
        listed = ctx.public_ids(query)
        ctx.expect(event["id"] in listed, f"the new PUBLISHED event {event['id']} at "
                   f"({body['latitude']}, {body['longitude']}) is not in the public list 20 km "
                   "around it")
        response = ctx.call("POST", "activities", f"/v1/events/{event['id']}/cancel",
                            expect=200, what="cancelling an event")
        canceled = ctx.json(response).get("data") or {}
        expected = dict(event, status="CANCELED")
        problems = differences(expected, canceled, expected.keys())
        ctx.expect(not problems, "the cancel answer is not the event with status CANCELED:\n"
                   + "\n".join(problems), response)
        listed = ctx.public_ids(query)
        ctx.expect(event["id"] not in listed,
                   f"the CANCELED event {event['id']} is still in the public list")
        read = ctx.get_event(event["id"])
        ctx.expect(read.get("status") == "CANCELED",
                   f"the owner reads status {read.get('status')!r} after cancelling, expected "
                   "CANCELED")
        ctx.call("POST", "activities", f"/v1/events/{event['id']}/cancel", expect=422,
                 what="cancelling a CANCELED event again")
        ctx.call("PATCH", "activities", f"/v1/events/{event['id']}", json={"title": "again"},
                 expect=422, what="modifying a CANCELED event")

    near = event_bodies(near=(lat, lon), statuses=(None, "PUBLISHED"), spread_km=2)
    ctx.run_property(near, prop, max_examples=min(ctx.max_examples, 5))


@behaviour_check(
    rule=("POST /v1/events/{id}/duplicate answers 201 with a copy under a new id, in PENDING "
          "status, with the same details and all places free, which reads back as answered; "
          "the original is unchanged; the copy stays out of the public list until a PATCH of "
          "`status` publishes it."),
    cites=(f"{ACTIVITIES} > Events > Duplicate a sport activity (\"in pending status. To "
           "publish the event, you will have to do a PATCH on the status field\")",
           "openapi.yaml > duplicateEvent (links GetEvent, PatchEvent)"),
    operations=("createEvent", "duplicateEvent", "getEvent", "listEvents", "patchEvent",
                "cancelEvent"),
)
def duplicate_gives_pending_copy_with_new_id(ctx: CheckContext) -> None:
    lat, lon = ctx.isolated_point()
    query = {"latitude": lat, "longitude": lon, "distance": 20}

    def prop(body: dict[str, Any]) -> None:
        original = ctx.create_event(body)
        response = ctx.call("POST", "activities", f"/v1/events/{original['id']}/duplicate",
                            expect=201, what="duplicating an event")
        copy = ctx.json(response).get("data") or {}
        ctx.expect(isinstance(copy.get("id"), int) and copy["id"] != original["id"],
                   f"the duplicate's id {copy.get('id')!r} is not a new id (original "
                   f"{original['id']})", response)
        ctx.created("main", copy["id"])
        problems = differences(original, copy, COPIED_FIELDS)
        if copy.get("status") != "PENDING":
            problems.append(f"status: expected 'PENDING', got {copy.get('status')!r}")
        if copy.get("slots") != copy.get("slots_limit"):
            problems.append(f"slots: expected all {copy.get('slots_limit')} places free, got "
                            f"{copy.get('slots')!r}")
        if (copy.get("owner") or {}).get("id") != (original.get("owner") or {}).get("id"):
            problems.append("owner: the copy has another owner")
        ctx.expect(not problems, "the duplicate is not a pending copy:\n" + "\n".join(problems),
                   response)
        again = ctx.get_event(original["id"])
        problems = differences(original, again, original.keys())
        ctx.expect(not problems, "duplicating changed the original:\n" + "\n".join(problems))
        problems = differences(copy, ctx.get_event(copy["id"]), copy.keys())
        ctx.expect(not problems, f"GET /v1/events/{copy['id']} differs from the duplicate "
                   "answer:\n" + "\n".join(problems))
        ctx.expect(copy["id"] not in ctx.public_ids(query),
                   f"the PENDING copy {copy['id']} is in the public list")
        ctx.call("PATCH", "activities", f"/v1/events/{copy['id']}",
                 json={"status": "PUBLISHED"}, expect=200, what="publishing the copy")
        ctx.expect(copy["id"] in ctx.public_ids(query),
                   f"the copy {copy['id']} published with PATCH status is not in the public list")

    near = event_bodies(near=(lat, lon), statuses=(None, "PUBLISHED"), spread_km=2,
                        subscription_disabled=None)
    ctx.run_property(near, prop, max_examples=min(ctx.max_examples, 5))


@behaviour_check(
    rule=("Another user can neither modify, cancel nor duplicate someone's event: each "
          "answers 403 and the event is left unchanged."),
    cites=(f"{ACTIVITIES} > Events > Cancel a sport activity (\"if you are allowed to\")",
           f"{ACTIVITIES} > Errors (403 Forbidden -- You are not allowed)",
           "openapi.yaml > patchEvent, cancelEvent, duplicateEvent (owner only, 403)"),
    operations=("createEvent", "patchEvent", "cancelEvent", "duplicateEvent", "getEvent"),
    needs_other_user=True,
)
def other_users_event_cannot_be_changed(ctx: CheckContext) -> None:
    def prop(value: tuple[dict[str, Any], dict[str, Any]]) -> None:
        body, patch = value
        event = ctx.create_event(body)
        path = f"/v1/events/{event['id']}"
        ctx.call("PATCH", "activities", path, json=patch, user="other", expect=403,
                 what="another user modifying the event")
        ctx.call("POST", "activities", path + "/cancel", user="other", expect=403,
                 what="another user cancelling the event")
        response = ctx.call("POST", "activities", path + "/duplicate", user="other",
                            expect=403, what="another user duplicating the event")
        del response
        problems = differences(event, ctx.get_event(event["id"]), event.keys())
        ctx.expect(not problems, "another user's refused requests changed the event:\n"
                   + "\n".join(problems))

    ctx.run_property(st.tuples(event_bodies(), event_patches()), prop,
                     max_examples=min(ctx.max_examples, 5))


@behaviour_check(
    rule=("A PENDING event is shown only to its owner: anyone else reading it, or listing its "
          "subscribers, gets 404, which does not reveal that it exists, and it is not in the "
          "public list."),
    cites=(f"{ACTIVITIES} > Events > Get a sport activity (\"a pending event that belongs to "
           "you\")", "openapi.yaml > getEvent, listSubscribers (anyone who can see the event)",
           "DECISIONS.md > Events (PENDING hidden from the public list, 404 to anyone else)"),
    operations=("createEvent", "getEvent", "listSubscribers", "listEvents", "cancelEvent"),
    needs_other_user=True,
)
def pending_event_is_visible_only_to_its_owner(ctx: CheckContext) -> None:
    lat, lon = ctx.isolated_point()

    def prop(body: dict[str, Any]) -> None:
        event = ctx.create_event(body)
        ctx.get_event(event["id"])
        ctx.call("GET", "activities", f"/v1/events/{event['id']}", user="other", expect=404,
                 what="another user reading a PENDING event")
        ctx.call("GET", "activities", f"/v1/events/{event['id']}/subscribers", user="other",
                 expect=404, what="another user listing the subscribers of a PENDING event")
        ctx.expect(event["id"] not in ctx.public_ids({"latitude": lat, "longitude": lon,
                                                      "distance": 20}),
                   f"the PENDING event {event['id']} is in the public list")

    ctx.run_property(event_bodies(near=(lat, lon), spread_km=2, statuses=("PENDING",)), prop,
                     max_examples=min(ctx.max_examples, 3))


#: Fields of an event the server owns, each with a value a client might try to set: none
#: is in the create or patch schema, so a deployment refuses them (422, our decision of
#: refusing unknown fields) or ignores them, but never applies them.
SERVER_FIELDS: dict[str, Any] = {
    "id": 2_000_000_001,
    "owner": {"id": "00000000-0000-4000-8000-000000000000", "type": "FED", "name": "Mallory"},
    "status": "CANCELED",
    "slots_limit": 9_999,
}


@behaviour_check(
    rule=("Fields the server owns (`id`, `owner`, `status: CANCELED`, `slots_limit`) sent in a "
          "create or a patch are refused or ignored, never applied: a created or patched "
          "event keeps its own id, its owner is the caller, it is CANCELED only through the "
          "cancel operation, and its capacity is the `slots` sent."),
    cites=(f"{ACTIVITIES} > Events > Add a new sport activity (the documented body)",
           f"{ACTIVITIES} > Events > Modify a sport activity",
           "openapi.yaml > EventCreate, EventPatch (additionalProperties: false; status "
           "PUBLISHED or PENDING)", "DECISIONS.md > Events (CANCELED only through cancel)"),
    operations=("createEvent", "patchEvent", "getEvent", "getAuthenticatedUser", "cancelEvent"),
)
def server_fields_cannot_be_set_by_the_client(ctx: CheckContext) -> None:
    me = ctx.me()
    lat, lon = ctx.isolated_point()

    def applied(event: dict[str, Any], field: str, sent: dict[str, Any]) -> str | None:
        """What of `field` the event shows that only the client's request could have set."""
        if field == "id" and event.get("id") == SERVER_FIELDS["id"]:
            return f"id is the {SERVER_FIELDS['id']} sent"
        if field == "owner" and (event.get("owner") or {}).get("id") != me["id"]:
            return f"owner is {event.get('owner')!r}, not the caller {me['id']}"
        if field == "status" and event.get("status") == "CANCELED":
            return "status is CANCELED without a cancel"
        if field == "slots_limit" and event.get("slots_limit") != sent["slots"]:
            return f"slots_limit is {event.get('slots_limit')}, the body's slots {sent['slots']}"
        return None

    def prop(body: dict[str, Any]) -> None:
        for field in SERVER_FIELDS:
            attempt_field(body, field)

    def attempt_field(body: dict[str, Any], field: str) -> None:
        attempt = {**body, field: SERVER_FIELDS[field]}
        response = ctx.call("POST", "activities", "/v1/events", json=attempt,
                            what=f"creating an event with `{field}` in the body")
        if 200 <= response.status_code < 300:
            created = ctx.json(response).get("data") or {}
            if isinstance(created.get("id"), int):
                ctx.created("main", created["id"])
            found = applied(created, field, body) or applied(
                ctx.get_event(created.get("id", 0)), field, body)
            ctx.expect(found is None, f"POST /v1/events with `{field}` applied it: {found}",
                       response)
        event = ctx.create_event(body)
        response = ctx.call("PATCH", "activities", f"/v1/events/{event['id']}",
                            json={field: SERVER_FIELDS[field]},
                            what=f"patching `{field}` of event {event['id']}")
        read = ctx.get_event(event["id"])
        found = applied(read, field, body)
        ctx.expect(found is None, f"PATCH /v1/events/{event['id']} with `{field}` (answered "
                   f"{response.status_code}) applied it: {found}", response)

    bodies = event_bodies(near=(lat, lon), spread_km=2, statuses=(None, "PUBLISHED"))
    ctx.run_property(bodies, prop, max_examples=min(ctx.max_examples, 3))


def _refused_bodies(body: dict[str, Any], title: str) -> list[tuple[str, dict[str, Any]]]:
    """Bodies valid but for one documented rule: (what is wrong, body)."""
    marked = {**body, "title": title, "start_date": "2099-06-01T10:00:00Z",
              "end_date": "2099-06-01T12:00:00Z", "status": "PUBLISHED"}
    return [
        ("end_date before start_date", {**marked, "end_date": "2099-06-01T08:00:00Z"}),
        ("age_min above age_max", {**marked, "age_min": 60, "age_max": 20}),
        ("an unknown field", {**marked, "colour": "red"}),
    ]


@behaviour_check(
    rule=("A refused create or patch leaves no trace: after a 4xx to POST /v1/events the "
          "event is neither in the caller's `mine` nor in the public list, and after a 4xx to "
          "PATCH /v1/events/{id} the event reads back exactly as before."),
    cites=(f"{ACTIVITIES} > Errors (4xx: the request is refused)",
           "openapi.yaml > createEvent (422: end_date after start_date, age_min <= age_max, "
           "unknown fields)", "openapi.yaml > patchEvent (the same rules apply to the result)"),
    operations=("createEvent", "patchEvent", "getEvent", "listMyEvents", "listEvents",
                "cancelEvent"),
)
def refused_writes_leave_no_trace(ctx: CheckContext) -> None:
    lat, lon = ctx.isolated_point()
    query = {"latitude": lat, "longitude": lon, "distance": 20}

    def prop(body: dict[str, Any]) -> None:
        title = ctx.marker()
        for wrong, refused in _refused_bodies(body, title):
            response = ctx.call("POST", "activities", "/v1/events", json=refused,
                                what=f"creating an event with {wrong}")
            ctx.expect(400 <= response.status_code < 500, f"POST /v1/events with {wrong} "
                       f"answered {response.status_code}, expected a 4xx refusal", response)
        mine = ctx.pages("/v1/events/mine", {"type": "created"}, last=2)
        listed = ctx.pages("/v1/events", query, user=None)
        traces = [f"event {event.get('id')} in {where}" for where, events in
                  (("mine", mine), ("the public list", listed))
                  for event in events if event.get("title") == title]
        ctx.expect(not traces, "refused creates left events behind: " + ", ".join(traces))
        event = ctx.create_event(body)
        before = ctx.get_event(event["id"])
        start = datetime.strptime(body["start_date"], DATE_FORMAT).replace(tzinfo=UTC)
        patches = [
            ("end_date before start_date",
             {"end_date": format_date(start - timedelta(hours=1)), "title": title}),
            ("age_min above age_max", {"age_min": 60, "age_max": 20, "title": title}),
            ("an unknown field", {"colour": "red", "title": title}),
        ]
        for wrong, patch in patches:
            response = ctx.call("PATCH", "activities", f"/v1/events/{event['id']}",
                                json=patch, what=f"patching an event with {wrong}")
            ctx.expect(400 <= response.status_code < 500, f"PATCH with {wrong} answered "
                       f"{response.status_code}, expected a 4xx refusal", response)
            problems = differences(before, ctx.get_event(event["id"]), before.keys())
            ctx.expect(not problems, f"PATCH with {wrong} answered {response.status_code} "
                       "but changed the event:\n" + "\n".join(problems), response)

    bodies = event_bodies(near=(lat, lon), spread_km=2, statuses=(None, "PUBLISHED"))
    ctx.run_property(bodies, prop, max_examples=min(ctx.max_examples, 3))
