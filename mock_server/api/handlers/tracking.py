"""Sports Tracking Data API v2 handlers: upload, list, read and update activities."""

from __future__ import annotations

from mock_server.api.calls import Call, Reply
from mock_server.domain.tracking.paths import upload_path
from mock_server.domain.tracking.uploads import (
    ACCEPTED_EXTENSIONS,
    MAX_PHOTO_BYTES,
    UploadRejected,
    check_parts,
    check_upload,
    read_limited,
)
from mock_server.services import Services


def upload_file(services: Services, call: Call) -> Reply:
    storage = call.files.get("file") if call.files is not None else None
    if storage is None:
        raise UploadRejected(
            422,
            "Missing the multipart part 'file' (send -F 'file=@/path/myphoto.jpg'); accepted "
            f"extensions: {', '.join(ACCEPTED_EXTENSIONS)}.",
        )
    check_parts([*call.form_fields, *call.files])
    data = read_limited(storage.stream, MAX_PHOTO_BYTES)
    accepted = check_upload(storage.filename, data)
    digest = services.blobs.put(data, accepted.content_type)
    body: dict[str, object] = {"url": call.base_url + upload_path(digest)}
    if accepted.warnings:
        body["warnings"] = list(accepted.warnings)
    return Reply(200, body)


def list_activities(services: Services, call: Call) -> Reply:
    page = services.activities.list_for_user(call.user.id, call.query["page"])
    return Reply(200, [activity.to_json(call.base_url, details=False) for activity in page])


def get_activity(services: Services, call: Call) -> Reply:
    activity = services.activities.get(call.path["token"], call.user.id)
    return Reply(200, activity.to_json(call.base_url))


def update_activity(services: Services, call: Call) -> Reply:
    activity = services.activities.update(
        call.path["token"],
        call.user.id,
        images=call.body.get("images"),
        thumbnail=call.body.get("thumbnail"),
    )
    return Reply(200, activity.to_json(call.base_url, details=False))
