"""Storage of uploaded files, addressed by the SHA-1 of their bytes.

The documents' upload answer is a URL ending in a 40-hex-digit hash
(``https://example.com/2caf4b77b497b64bef1c3ba2b1d0744f25db3ce3``); the mock serves uploads at
``/uploads/{sha1}``. Addressing by content means the same photo uploaded twice is stored once
and gets the same URL, and a URL can never name anything but a stored digest: only a string
matching ``[0-9a-f]{40}`` is ever looked up, and stores keep bytes in memory or a database, so
nothing from a client's file name reaches a file system.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from typing import Any

from mock_server.domain.tracking.uploads import UploadRejected

__all__ = [
    "DEFAULT_MAX_TOTAL_BYTES",
    "blobs_from_snapshot",
    "blobs_to_snapshot",
    "check_content_type",
    "content_digest",
    "is_valid_digest",
    "storage_full",
]

#: Default cap on all stored uploads together: about 21 full-size photos of 3 MiB.
DEFAULT_MAX_TOTAL_BYTES = 64 * 1024 * 1024

_DIGEST = re.compile(r"[0-9a-f]{40}")
# type/subtype with the usual token characters and an optional parameter: nothing that could
# break out of a header line when the blob is served.
_CONTENT_TYPE = re.compile(r"[A-Za-z0-9][\w.+-]*/[A-Za-z0-9][\w.+-]*(; ?[\w.-]+=[\w.-]+)?")


def is_valid_digest(digest: object) -> bool:
    """Whether ``digest`` is a lowercase SHA-1 hex digest, the only name a blob can have."""
    return isinstance(digest, str) and _DIGEST.fullmatch(digest) is not None


def content_digest(data: bytes) -> str:
    """The name of a blob: the SHA-1 of its bytes (the documents' URLs end in one)."""
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()


def check_content_type(content_type: object) -> str:
    """A plain ``type/subtype`` (nothing that could break out of a header line when served)."""
    if not isinstance(content_type, str) or not _CONTENT_TYPE.fullmatch(content_type):
        raise ValueError(f"not a plain content type: {content_type!r}")
    return content_type


def storage_full(held: int, cap: int, wanted: int) -> UploadRejected:
    """The 507 of an upload the storage cap refuses (re-uploading stored content never is)."""
    return UploadRejected(
        507,
        f"The mock's upload storage is full: it holds {held} of {cap} bytes and this file "
        f"needs {wanted} more. Reset the mock's state to free it.",
    )


def blobs_to_snapshot(items: list[tuple[str, str, bytes]]) -> dict[str, Any]:
    """Snapshot as JSON-ready data: ``{"blobs": {digest: {content_type, data(base64)}}}``."""
    return {"blobs": {digest: {"content_type": content_type,
                               "data": base64.b64encode(data).decode("ascii")}
                      for digest, content_type, data in sorted(items)}}


def blobs_from_snapshot(state: object, cap: int) -> list[tuple[str, str, bytes]]:
    """Every blob of a snapshot as (digest, content type, bytes), checked whole.

    Each digest is recomputed from its bytes, so a snapshot cannot make a URL serve content
    other than what its hash names. Raises ``ValueError`` for a bad snapshot or one over
    ``cap`` bytes.
    """
    if not isinstance(state, dict) or not isinstance(state.get("blobs"), dict):
        raise ValueError('a blob snapshot is {"blobs": {digest: {...}}}')
    items: list[tuple[str, str, bytes]] = []
    total = 0
    for digest, entry in state["blobs"].items():
        if not is_valid_digest(digest):
            raise ValueError(f"not a SHA-1 hex digest: {digest!r}")
        if not isinstance(entry, dict):
            raise ValueError(f"blob {digest} is not an object")
        content_type = entry.get("content_type")
        if not isinstance(content_type, str) or not _CONTENT_TYPE.fullmatch(content_type):
            raise ValueError(f"blob {digest} has a bad content type: {content_type!r}")
        try:
            data = base64.b64decode(entry.get("data", ""), validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise ValueError(f"blob {digest} has data that is not base64") from None
        if content_digest(data) != digest:
            raise ValueError(f"blob {digest} does not hash to its digest")
        items.append((digest, content_type, data))
        total += len(data)
    if total > cap:
        raise ValueError(f"the snapshot holds {total} bytes, above this store's cap of {cap}")
    return items
