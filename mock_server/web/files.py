"""Serves what the tracking API hands out URLs for: uploaded files and generated thumbnails.

These are not API operations (the real service serves them from a storage host, e.g.
`https://example.com/<sha1>` in the documents, or a `linkdata-ressources` CDN for maps), so
they need neither API key nor token, exactly like the real URLs.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort

from mock_server.domain.tracking import SAFE_SERVE_HEADERS
from mock_server.domain.tracking.blobs import is_valid_digest
from mock_server.domain.tracking.paths import THUMBNAILS_PREFIX, UPLOADS_PREFIX
from mock_server.domain.tracking.thumbnails import render_track_map
from mock_server.services import Services

CACHE_FOREVER = "public, max-age=31536000, immutable"  # content-addressed: never changes


def files_blueprint(services: Services) -> Blueprint:
    blueprint = Blueprint("files", __name__)

    @blueprint.get(f"{UPLOADS_PREFIX}/<digest>")
    def uploaded(digest: str) -> Response:
        found = services.blobs.get(digest) if is_valid_digest(digest) else None
        if found is None:
            abort(404)
        data, content_type = found
        # An uploaded .xml may be SVG or XHTML with a script: never let it run in our origin.
        return Response(data, content_type=content_type, headers={
            **SAFE_SERVE_HEADERS, "Cache-Control": CACHE_FOREVER, "ETag": f'"{digest}"'})

    @blueprint.get(f"{THUMBNAILS_PREFIX}/<user_id>/maps/<activity_id>.png")
    def thumbnail(user_id: str, activity_id: str) -> Response:
        track = services.activities.map_track(user_id, activity_id)
        if track is None:
            abort(404)
        return Response(render_track_map(track), content_type="image/png")

    return blueprint
