"""Storage of uploaded files, addressed by the SHA-1 of their bytes.

The documents' upload answer is a URL ending in a 40-hex-digit hash
(``https://example.com/2caf4b77b497b64bef1c3ba2b1d0744f25db3ce3``); the mock serves uploads at
``/uploads/{sha1}``. Addressing by content means the same photo uploaded twice is stored once
and gets the same URL, and a URL can never name anything but a stored digest: only a string
matching ``[0-9a-f]{40}`` is ever looked up, and the store lives in memory, so nothing from a
client's file name reaches a file system.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import threading
from typing import Any, Protocol, runtime_checkable

from mock_server.domain.tracking.uploads import UploadRejected

__all__ = [
    "DEFAULT_MAX_TOTAL_BYTES",
    "BlobStore",
    "InMemoryBlobStore",
    "is_valid_digest",
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


@runtime_checkable
class BlobStore(Protocol):
    """Where uploaded bytes live; the HTTP layer depends on this, not on an implementation."""

    def put(self, data: bytes, content_type: str) -> str:
        """Store ``data`` and return its SHA-1 hex digest."""
        ...

    def get(self, digest: str) -> tuple[bytes, str] | None:
        """The bytes and content type stored under ``digest``, or ``None``."""
        ...

    def reset(self) -> None:
        """Forget every blob."""
        ...

    def export_state(self) -> dict[str, Any]:
        """A JSON-serialisable snapshot."""
        ...

    def import_state(self, state: dict[str, Any]) -> None:
        """Replace the content with a snapshot from ``export_state``."""
        ...


class InMemoryBlobStore:
    """A thread-safe, size-capped, content-addressed store of uploads.

    The cap protects the mock's memory from a client uploading in a loop: once the total would
    exceed ``max_total_bytes`` new content is refused with 507 Insufficient Storage (re-uploading
    content already stored still succeeds, since it costs nothing).
    """

    def __init__(self, max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES) -> None:
        if max_total_bytes < 0:
            raise ValueError("max_total_bytes must be >= 0")
        self.max_total_bytes = max_total_bytes
        self._lock = threading.Lock()
        self._blobs: dict[str, tuple[bytes, str]] = {}
        self._total = 0

    @property
    def total_bytes(self) -> int:
        """Bytes held now, each distinct content counted once."""
        with self._lock:
            return self._total

    def __len__(self) -> int:
        with self._lock:
            return len(self._blobs)

    def __contains__(self, digest: object) -> bool:
        if not is_valid_digest(digest):
            return False
        with self._lock:
            return digest in self._blobs

    def put(self, data: bytes, content_type: str) -> str:
        """Store ``data`` once and return its digest; the first content type stored wins.

        Hashing happens outside the lock so concurrent uploads of 3 MiB do not queue on it.
        """
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError("data must be bytes")
        if not isinstance(content_type, str) or not _CONTENT_TYPE.fullmatch(content_type):
            raise ValueError(f"not a plain content type: {content_type!r}")
        payload = bytes(data)
        digest = hashlib.sha1(payload, usedforsecurity=False).hexdigest()
        with self._lock:
            if digest in self._blobs:
                return digest
            if self._total + len(payload) > self.max_total_bytes:
                raise UploadRejected(
                    507,
                    f"The mock's upload storage is full: it holds {self._total} of "
                    f"{self.max_total_bytes} bytes and this file needs {len(payload)} more. "
                    "Reset the mock's state to free it.",
                )
            self._blobs[digest] = (payload, content_type)
            self._total += len(payload)
        return digest

    def get(self, digest: str) -> tuple[bytes, str] | None:
        """The stored bytes and content type, or ``None`` for an unknown or malformed digest."""
        if not is_valid_digest(digest):
            return None
        with self._lock:
            return self._blobs.get(digest)

    def reset(self) -> None:
        """Forget every blob (the admin reset between test runs)."""
        with self._lock:
            self._blobs = {}
            self._total = 0

    def export_state(self) -> dict[str, Any]:
        """Snapshot as JSON-ready data: ``{"blobs": {digest: {content_type, data(base64)}}}``."""
        with self._lock:
            items = sorted(self._blobs.items())
        return {
            "blobs": {
                digest: {
                    "content_type": content_type,
                    "data": base64.b64encode(data).decode("ascii"),
                }
                for digest, (data, content_type) in items
            }
        }

    def import_state(self, state: dict[str, Any]) -> None:
        """Replace everything with a snapshot, all or nothing.

        Each entry's digest is recomputed from its bytes, so a snapshot cannot make a URL serve
        content other than what its hash names. Raises ``ValueError`` for a bad snapshot.
        """
        if not isinstance(state, dict) or not isinstance(state.get("blobs"), dict):
            raise ValueError('a blob snapshot is {"blobs": {digest: {...}}}')
        blobs: dict[str, tuple[bytes, str]] = {}
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
            if hashlib.sha1(data, usedforsecurity=False).hexdigest() != digest:
                raise ValueError(f"blob {digest} does not hash to its digest")
            blobs[digest] = (data, content_type)
            total += len(data)
        if total > self.max_total_bytes:
            raise ValueError(
                f"the snapshot holds {total} bytes, above this store's cap of "
                f"{self.max_total_bytes}"
            )
        with self._lock:
            self._blobs = blobs
            self._total = total
