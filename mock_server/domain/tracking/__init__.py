"""The Sports Tracking Data API's domain: uploads, their storage, activities, map thumbnails.

Plain Python, no Flask: the HTTP layer (``mock_server.api.handlers``) turns these calls and their
exceptions into responses. Every exception here is a ``mock_server.domain.errors.DomainError``
carrying its HTTP status:

    UploadRejected     413 / 422 (check_upload, read_limited), 507 (storage_full: the cap)
    ActivityNotFound   404
    ActivityForbidden  403
    ActivityRejected   422, ``errors`` names the field (``images[0]``, ``thumbnail``)
"""

from mock_server.domain.tracking.activities import (
    DEFAULT_PER_PAGE,
    MAX_IMAGES,
    MAX_URL_LENGTH,
    ActivityForbidden,
    ActivityNotFound,
    ActivityRejected,
    TrackingActivities,
    TrackingActivity,
    format_timestamp,
    parse_timestamp,
)
from mock_server.domain.tracking.blobs import (
    DEFAULT_MAX_TOTAL_BYTES,
    blobs_from_snapshot,
    blobs_to_snapshot,
    content_digest,
    is_valid_digest,
    storage_full,
)
from mock_server.domain.tracking.paths import thumbnail_path
from mock_server.domain.tracking.referentials import (
    DATATYPES,
    SPORTS,
    Datatype,
    activity_label,
    sport_id_from_iri,
    sport_iri,
)
from mock_server.domain.tracking.thumbnails import render_track_map
from mock_server.domain.tracking.uploads import (
    ACCEPTED_EXTENSIONS,
    CONTENT_TYPES,
    MAX_PHOTO_BYTES,
    SAFE_SERVE_HEADERS,
    THUMBNAIL_RECOMMENDED_BYTES,
    ReadableStream,
    UploadCheck,
    UploadKind,
    UploadRejected,
    check_upload,
    read_limited,
)

__all__ = [
    "ACCEPTED_EXTENSIONS",
    "CONTENT_TYPES",
    "DATATYPES",
    "DEFAULT_MAX_TOTAL_BYTES",
    "DEFAULT_PER_PAGE",
    "MAX_IMAGES",
    "MAX_PHOTO_BYTES",
    "MAX_URL_LENGTH",
    "SAFE_SERVE_HEADERS",
    "SPORTS",
    "THUMBNAIL_RECOMMENDED_BYTES",
    "ActivityForbidden",
    "ActivityNotFound",
    "ActivityRejected",
    "Datatype",
    "ReadableStream",
    "TrackingActivities",
    "TrackingActivity",
    "UploadCheck",
    "UploadKind",
    "UploadRejected",
    "activity_label",
    "blobs_from_snapshot",
    "blobs_to_snapshot",
    "content_digest",
    "storage_full",
    "check_upload",
    "format_timestamp",
    "is_valid_digest",
    "parse_timestamp",
    "read_limited",
    "render_track_map",
    "sport_id_from_iri",
    "sport_iri",
    "thumbnail_path",
]
