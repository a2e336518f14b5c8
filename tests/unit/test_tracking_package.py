"""The tracking package's public names, and its independence from the web framework."""

from __future__ import annotations

from pathlib import Path

import mock_server.domain.tracking as tracking

PACKAGE = Path(tracking.__file__).parent
PUBLIC = {
    "ACCEPTED_EXTENSIONS", "CONTENT_TYPES", "DATATYPES", "DEFAULT_MAX_TOTAL_BYTES",
    "DEFAULT_PER_PAGE", "MAX_IMAGES", "MAX_PHOTO_BYTES",
    "MAX_URL_LENGTH", "ReadableStream", "SAFE_SERVE_HEADERS", "SPORTS",
    "THUMBNAIL_RECOMMENDED_BYTES",
    "ActivityForbidden", "ActivityNotFound", "ActivityRejected", "Datatype",
    "TrackingActivities", "TrackingActivity", "UploadCheck", "UploadKind",
    "UploadRejected", "activity_label", "blobs_from_snapshot", "blobs_to_snapshot",
    "check_upload", "content_digest", "format_timestamp", "storage_full",
    "is_valid_digest", "parse_timestamp", "read_limited", "render_track_map",
    "sport_id_from_iri", "sport_iri", "thumbnail_path",
}  # fmt: skip
WEB_FRAMEWORKS = {"flask", "werkzeug", "flask_cors", "connexion"}


def test_public_names_are_exactly_the_documented_ones() -> None:
    assert set(tracking.__all__) == PUBLIC
    assert all(hasattr(tracking, name) for name in PUBLIC)
