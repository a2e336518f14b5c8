"""Makes the documents' own upload command work: a multipart body sent as application/json.

The Sports Tracking Data document uploads with `curl -H 'Content-Type: application/json'
-F 'file=@...'`: curl then sends a multipart body whose boundary appears nowhere in the
headers. Rather than refuse the documented command, this WSGI middleware reads the boundary
from the body's first line and restores a `multipart/form-data` content type (a decision in
openapi.yaml). Anything that is not such a body passes through untouched.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from mock_server.api.wsgi_input import replay_input

UPLOAD_PATH = re.compile(r"/v2/upload/?$")
# RFC 2046 boundary characters; the first line of the body is "--" + boundary.
BOUNDARY_LINE = re.compile(rb"^--([0-9A-Za-z'()+_,\-./:=? ]{1,70})\r?\n")
PEEK_BYTES = 80


class DocumentedCurlUpload:
    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        content_type = environ.get("CONTENT_TYPE", "")
        if (
            environ.get("REQUEST_METHOD") == "POST"
            and UPLOAD_PATH.search(environ.get("PATH_INFO", ""))
            and content_type.split(";")[0].strip().lower() == "application/json"
        ):
            stream = environ["wsgi.input"]
            head = stream.read(PEEK_BYTES)
            match = BOUNDARY_LINE.match(head)
            if match:
                boundary = match.group(1).decode("ascii").rstrip()
                environ["CONTENT_TYPE"] = f'multipart/form-data; boundary="{boundary}"'
            replay_input(environ, head)
        return self.app(environ, start_response)
