"""Where the mock serves what the tracking API hands out URLs for.

The real service serves uploads from a storage host and generated maps from a CDN
(``.../prod/{user}/maps/{activity id}.png``); the mock serves both on its own host, under
these paths, so the domain can name them and ``mock_server.web.files`` can route them.
"""

from __future__ import annotations

from urllib.parse import quote

UPLOADS_PREFIX = "/uploads"
THUMBNAILS_PREFIX = "/thumbnails"


def upload_path(digest: str) -> str:
    """The content-addressed path of an uploaded file."""
    return f"{UPLOADS_PREFIX}/{digest}"


def thumbnail_path(user_id: str, activity_id: str) -> str:
    """Path of an activity's generated map on the mock, mirroring the real service's
    ``.../prod/{user}/maps/{activity id}.png``; the user id is percent-encoded so any id is safe
    as one path segment."""
    return f"{THUMBNAILS_PREFIX}/{quote(user_id, safe='')}/maps/{activity_id}.png"
