"""Behaviour checks of the Sports Tracking Data API: uploads, activity photos and thumbnail."""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import urlsplit

import requests
from hypothesis import strategies as st

from ..strategies import UPLOAD_KINDS, jpeg_bytes, upload_files
from .compare import differences
from .context import CheckContext
from .registry import TRACKING, behaviour_check

#: Documented limit of an upload (DECISIONS.md, Tracking): 3 MiB inclusive.
MAX_UPLOAD_BYTES = 3 * 1024 * 1024


def _upload(ctx: CheckContext, name: str, data: bytes, content_type: str, *,
            expect: int | tuple[int, ...]) -> requests.Response:
    return ctx.call("POST", "tracking", "/v2/upload", files={"file": (name, data, content_type)},
                    expect=expect, what=f"uploading {name} ({len(data)} bytes)")


@behaviour_check(
    rule=("An uploaded file is served back byte for byte at the URL the upload answered, and "
          "the URL's last segment is the SHA-1 of the bytes."),
    cites=(f"{TRACKING} > Photos and Thumbnails > Upload a photo (\"we provide an API to store "
           "pictures online\")", "openapi.yaml > uploadFile (content-addressed URL)"),
    operations=("uploadFile",),
    api="tracking",
)
def uploaded_file_comes_back_byte_for_byte(ctx: CheckContext) -> None:
    def prop(value: tuple[str, bytes, str]) -> None:
        name, data, content_type = value
        response = _upload(ctx, name, data, content_type, expect=200)
        url = (ctx.json(response) or {}).get("url")
        if not isinstance(url, str) or not url:
            ctx.fail("the upload answer has no `url`", response)
        digest = hashlib.sha1(data).hexdigest()
        ctx.expect(urlsplit(url).path.rstrip("/").endswith(digest),
                   f"the URL {url!r} does not end with the SHA-1 of the bytes ({digest})",
                   response)
        served = ctx.get_url(ctx.target.resolve("tracking", url))
        ctx.expect(served.status_code == 200, f"GET {url} answered {served.status_code}", served)
        ctx.expect(served.content == data, f"GET {url} served {len(served.content)} bytes that "
                   f"differ from the {len(data)} uploaded", served)

    ctx.run_property(upload_files(), prop)


@behaviour_check(
    rule=("A photo must be under 3 MB: an upload of 3 MiB (3,145,728 bytes) is accepted and "
          "one byte more is refused with 413."),
    cites=(f"{TRACKING} > Photos and Thumbnails (\"Photo | Mandatory | less than 3Mo\")",
           "openapi.yaml > uploadFile (413)", "DECISIONS.md > Tracking (3 MiB inclusive)"),
    operations=("uploadFile",),
    api="tracking",
)
def upload_over_3mb_is_refused(ctx: CheckContext) -> None:
    salt = str(ctx.seed).encode()
    _upload(ctx, "at-limit.jpg", jpeg_bytes(salt, size=MAX_UPLOAD_BYTES), "image/jpeg",
            expect=200)
    ctx.examples += 1
    _upload(ctx, "over-limit.jpg", jpeg_bytes(salt, size=MAX_UPLOAD_BYTES + 1), "image/jpeg",
            expect=413)
    ctx.examples += 1
    response = _upload(ctx, "far-over-limit.jpg",
                       jpeg_bytes(salt, size=MAX_UPLOAD_BYTES + 512 * 1024), "image/jpeg",
                       expect=(413,))
    del response
    ctx.examples += 1


#: Fields of a tracking activity that a PUT of images or thumbnail leaves alone.
_ACTIVITY_KEPT = ("id", "name", "user", "sport", "startdate", "duration", "latitude",
                  "longitude", "manual", "comment")


@behaviour_check(
    rule=("PUT /v2/activities/{token} with `images` replaces the list and with `thumbnail` "
          "replaces the thumbnail: the answer and a later GET show exactly the URLs sent, and "
          "the activity's other fields keep their value."),
    cites=(f"{TRACKING} > Photos and Thumbnails > Add photo to an activity",
           f"{TRACKING} > Photos and Thumbnails > Change the thumbnail",
           "openapi.yaml > updateActivity (images replaces the whole list)"),
    operations=("listActivities", "getActivity", "updateActivity", "uploadFile"),
    api="tracking",
)
def activity_photos_and_thumbnail_are_replaced_as_sent(ctx: CheckContext) -> None:
    listed = ctx.json(ctx.call("GET", "tracking", "/v2/activities", expect=200,
                               what="listing one's activities"))
    if not isinstance(listed, list) or not listed:
        ctx.skip("the user has no activity to put photos on")
    # The last one: the checks that only read an activity take the first (checks run side
    # by side, and this one changes what it works on).
    token = listed[-1]["id"]
    path = f"/v2/activities/{token}"
    original = ctx.json(ctx.call("GET", "tracking", path, expect=200))

    def upload(data: bytes) -> str:
        response = _upload(ctx, "photo.jpg", jpeg_bytes(data), "image/jpeg", expect=200)
        return str(ctx.json(response)["url"])

    def prop(value: tuple[list[bytes], bool]) -> None:
        photos, with_thumbnail = value
        before = ctx.json(ctx.call("GET", "tracking", path, expect=200))
        body: dict[str, Any] = {"images": [upload(photo) for photo in photos]}
        if with_thumbnail:
            body["thumbnail"] = upload(b"thumbnail" + bytes(len(photos)))
        response = ctx.call("PUT", "tracking", path, json=body, expect=200,
                            what=f"PUT {path} with {sorted(body)}")
        answered = ctx.json(response)
        expected = dict(before, **body)
        problems = differences(expected, answered, ("images", "thumbnail", *_ACTIVITY_KEPT))
        ctx.expect(not problems, "the PUT answer is not the activity with what was sent:\n"
                   + "\n".join(problems), response)
        read = ctx.json(ctx.call("GET", "tracking", path, expect=200))
        problems = differences(answered, read, ("images", "thumbnail", *_ACTIVITY_KEPT))
        ctx.expect(not problems, "GET after PUT differs from the PUT answer:\n"
                   + "\n".join(problems))

    try:
        ctx.run_property(st.tuples(st.lists(st.binary(max_size=64), max_size=3), st.booleans()),
                         prop, max_examples=min(ctx.max_examples, 5))
    finally:
        restore: dict[str, Any] = {"images": original.get("images") or []}
        if original.get("thumbnail"):
            restore["thumbnail"] = original["thumbnail"]
        ctx.target.request("PUT", "tracking", path, json=restore)



def own_activity(ctx: CheckContext) -> dict[str, Any]:
    """The user's first activity, which the checks that do not change it work on."""
    listed = ctx.json(ctx.call("GET", "tracking", "/v2/activities", expect=200,
                               what="listing one's activities"))
    if not isinstance(listed, list) or not listed:
        ctx.skip("the user has no activity")
    return dict(listed[0])


@behaviour_check(
    rule=("Another user can neither read nor change someone's tracking activity: reading or "
          "putting photos on it is refused without giving away its data, it is unchanged "
          "afterwards, and it is not in the other user's list of activities."),
    cites=(f"{TRACKING} > Photos and Thumbnails > Add photo to an activity (your activity)",
           "openapi.yaml > listActivities (the caller's own activities), getActivity, "
           "updateActivity (another user's activity answers 403)"),
    operations=("listActivities", "getActivity", "updateActivity"),
    read_only_ok=True, read_only_operations=("listActivities", "getActivity"),
    needs_other_user=True, api="tracking",
)
def other_users_activity_is_private(ctx: CheckContext) -> None:
    activity = own_activity(ctx)
    path = f"/v2/activities/{activity['id']}"
    before = ctx.json(ctx.call("GET", "tracking", path, expect=200))
    attempts = [("GET", {})]
    if not ctx.read_only:
        attempts.append(("PUT", {"json": {"images": ["https://example.com/not-yours.jpg"],
                                          "thumbnail": "https://example.com/not-yours.jpg"}}))
    for method, kwargs in attempts:
        response = ctx.call(method, "tracking", path, user="other", **kwargs)
        ctx.examples += 1
        ctx.expect(not 200 <= response.status_code < 300, f"{method} {path} of another user's "
                   f"activity answered {response.status_code}", response)
        leaked = [name for name in ("name", "user", "startdate", "thumbnail")
                  if isinstance(before.get(name), str) and len(before[name]) > 3
                  and before[name] in response.text]
        ctx.expect(not leaked, f"the refusal of {method} {path} shows the activity's "
                   f"{', '.join(leaked)}", response)
    after = ctx.json(ctx.call("GET", "tracking", path, expect=200))
    problems = differences(before, after, _ACTIVITY_KEPT)
    planted = [name for name in ("images", "thumbnail")
               if "not-yours" in json.dumps(after.get(name))]
    ctx.expect(not problems and not planted, "another user's refused requests changed the "
               "activity:\n" + "\n".join(problems + [f"{name} holds what the other user sent"
                                                      for name in planted]))
    theirs = ctx.json(ctx.call("GET", "tracking", "/v2/activities", user="other", expect=200,
                               what="the other user listing their activities"))
    ids = {item.get("id") for item in theirs} if isinstance(theirs, list) else set()
    ctx.expect(activity["id"] not in ids, f"activity {activity['id']} is in another user's "
               "list of activities")


#: The documented extensions (jpg as jpeg, DECISIONS.md) and a few a server must refuse.
#: `.fit` is left out of both: the real service added it after the documents (2.28.0).
ACCEPTED_EXTENSIONS = ("gpx", "tcx", "json", "xml", "jpeg", "jpg", "JPEG", "Gpx")
REFUSED_EXTENSIONS = ("png", "gif", "txt", "pdf", "exe", "html", "svg", "zip", "jpeg.exe", "")


@behaviour_check(
    rule=("POST /v2/upload takes only the documented extensions, both ways: a file named "
          ".gpx, .tcx, .json, .xml, .jpeg or .jpg (any case) with matching content is stored, "
          "and the same content named with any other extension, or none, is refused with 422."),
    cites=(f"{TRACKING} > Photos and Thumbnails > Upload a photo (\"This API point only accept "
           "these files extensions : gpx,tcx,json,xml,jpeg\")",
           "openapi.yaml > uploadFile (another extension answers 422)",
           "DECISIONS.md > Tracking (.jpeg and .jpg both accepted)"),
    operations=("uploadFile",),
    api="tracking",
)
def upload_accepts_only_the_documented_extensions(ctx: CheckContext) -> None:
    samples: dict[str, tuple[bytes, str]] = {}
    for kind in UPLOAD_KINDS:
        drawn: list[tuple[str, bytes, str]] = []
        ctx.run_property(upload_files(kinds=(kind,)), drawn.append, max_examples=1)
        samples[kind] = drawn[-1][1:]
    for extension in ACCEPTED_EXTENSIONS:
        data, content_type = samples[extension.lower()]
        _upload(ctx, f"whitelist.{extension}", data, content_type, expect=200)
        ctx.examples += 1
    for extension in REFUSED_EXTENSIONS:
        name = f"whitelist.{extension}" if extension else "whitelist"
        _upload(ctx, name, samples["jpeg"][0], "application/octet-stream", expect=422)
        ctx.examples += 1


_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF8", b"RIFF")


@behaviour_check(
    rule=("Every tracking activity has a thumbnail, generated by default (a map or a picture "
          "of the sport), and its URL serves an image."),
    cites=(f"{TRACKING} > Photos and Thumbnails (\"By default, for each sport activity the API "
           "generates a thumbnail (a map or a picture of the sport practiced)\")",
           "openapi.yaml > TrackingActivity.thumbnail"),
    operations=("listActivities",),
    writes=False, api="tracking",
)
def every_activity_has_a_thumbnail_that_is_served(ctx: CheckContext) -> None:
    listed = ctx.json(ctx.call("GET", "tracking", "/v2/activities", expect=200,
                               what="listing one's activities"))
    if not isinstance(listed, list) or not listed:
        ctx.skip("the user has no activity")
    served_one = False
    for activity in listed[:10]:
        url = activity.get("thumbnail")
        ctx.expect(isinstance(url, str) and url, f"activity {activity.get('id')} has no "
                   f"thumbnail ({url!r})")
        resolved = ctx.target.resolve("tracking", str(url))
        if not _generated_thumbnail(ctx, resolved):
            continue  # a client set it (PUT thumbnail): its own URL, not ours to fetch
        served = ctx.get_url(resolved, user=None, api_key=False)
        ctx.examples += 1
        ctx.expect(served.status_code == 200, f"the thumbnail of activity {activity.get('id')}"
                   f" ({url}) answered {served.status_code}", served)
        is_image = served.headers.get("Content-Type", "").startswith("image/") or \
            served.content.startswith(_IMAGE_MAGIC)
        ctx.expect(is_image, f"the thumbnail of activity {activity.get('id')} ({url}) is not "
                   f"an image ({served.headers.get('Content-Type')!r})", served)
        served_one = True
    ctx.expect(served_one, "none of the first activities has a generated thumbnail left: every "
               "thumbnail points elsewhere")


#: Where the real service's generated thumbnails live (a map of the track, or a picture of
#: the sport): shared/reference/README.md.
GENERATED_THUMBNAIL_HOSTS = ("linkdata-ressources-eu2.geonaute.com",)


def _generated_thumbnail(ctx: CheckContext, url: str) -> bool:
    """Whether a thumbnail is the API's own (on the target, or the service's map host), so
    the check never fetches an address a client (or a fuzzer) put there."""
    host = urlsplit(url).hostname
    return ctx.target.split(url) is not None or host == urlsplit(
        ctx.target.root("tracking")).hostname or host in GENERATED_THUMBNAIL_HOSTS
