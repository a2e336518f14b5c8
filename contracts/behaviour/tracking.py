"""Behaviour checks of the Sports Tracking Data API: uploads, activity photos and thumbnail."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlsplit

import requests
from hypothesis import strategies as st

from ..strategies import jpeg_bytes, upload_files
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
    token = listed[0]["id"]
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

