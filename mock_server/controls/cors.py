"""CORS for browser-based clients: off unless origins are configured.

A browser app served from `http://localhost:3000` can only call the mock on `:8000` if the mock
answers CORS. flask-cors does it for the app's own routes (the two APIs, uploads, thumbnails);
answers made outside Flask (an injected fault, a `Prefer` override) get the same headers from
``cors_headers`` so a browser can read those too. The admin API is left out: it is driven by
test code and the CLI, not by a page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

#: Request headers a browser client of the two APIs (or of the test controls) may send.
ALLOWED_HEADERS = ("Authorization", "Content-Type", "X-Api-Key", "X-Desired-Limit", "Prefer",
                   "X-Request-Id")
#: Response headers a browser client may read besides the CORS-safelisted ones.
EXPOSED_HEADERS = ("Allow", "Location", "X-Request-Id", "X-Mock-Fault", "Preference-Applied",
                   "X-Contract-Violations")
#: Paths that get CORS headers: the APIs and the URLs they hand out.
CORS_PATHS = (r"/activities/.*", r"/sportstrackingdata/.*", r"/v1/.*", r"/v2/.*", r"/uploads/.*",
              r"/thumbnails/.*")


def cors_headers(environ: Mapping[str, Any], origins: Sequence[str]) -> list[tuple[str, str]]:
    """The CORS headers flask-cors would add, for an answer made outside Flask."""
    origin = environ.get("HTTP_ORIGIN")
    if not origins or not origin:
        return []
    if "*" not in origins and origin.lower() not in {o.lower() for o in origins}:
        return []
    return [("Access-Control-Allow-Origin", origin),
            ("Access-Control-Expose-Headers", ", ".join(EXPOSED_HEADERS)),
            ("Vary", "Origin")]
