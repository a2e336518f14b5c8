"""The content-addressed store behind ``/uploads/{sha1}``."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_server.domain.tracking.blobs import BlobStore, InMemoryBlobStore, is_valid_digest
from mock_server.domain.tracking.uploads import UploadRejected, check_upload


def sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def test_put_answers_the_sha1_and_get_gives_back_bytes_and_content_type() -> None:
    store = InMemoryBlobStore(1024)
    digest = store.put(b"\xff\xd8\xffphoto", "image/jpeg")
    assert digest == sha1(b"\xff\xd8\xffphoto")
    assert store.get(digest) == (b"\xff\xd8\xffphoto", "image/jpeg")
    assert digest in store


def test_the_same_bytes_are_stored_once_under_one_digest() -> None:
    store = InMemoryBlobStore(1024)
    first = store.put(b"same", "application/json")
    second = store.put(b"same", "application/xml")
    assert first == second
    assert len(store) == 1
    assert store.total_bytes == 4
    assert store.get(first) == (b"same", "application/json")  # the first content type stays


def test_unknown_digest_is_none() -> None:
    assert InMemoryBlobStore(10).get("0" * 40) is None


@pytest.mark.parametrize(
    "digest",
    [
        "../../etc/passwd",
        "A" * 40,
        "a" * 39,
        "a" * 41,
        "a" * 40 + "\n",
        "g" * 40,
        "",
        None,
        40,
    ],
)
def test_only_lowercase_40_hex_digests_are_ever_looked_up(digest: object) -> None:
    store = InMemoryBlobStore(10)
    assert not is_valid_digest(digest)
    assert store.get(digest) is None  # type: ignore[arg-type]
    assert digest not in store


@pytest.mark.parametrize("content_type", ["text/html\r\nSet-Cookie: x=1", "", "image", "a/b c"])
def test_content_types_that_could_break_a_header_are_refused(content_type: str) -> None:
    with pytest.raises(ValueError):
        InMemoryBlobStore(10).put(b"x", content_type)


def test_filling_the_cap_exactly_is_fine_one_more_byte_answers_507() -> None:
    store = InMemoryBlobStore(10)
    store.put(b"0123456789", "application/json")
    with pytest.raises(UploadRejected) as caught:
        store.put(b"x", "application/json")
    assert caught.value.status == 507
    assert "10 of 10 bytes" in caught.value.message
    assert "Reset" in caught.value.message
    assert store.put(b"0123456789", "application/json") == sha1(b"0123456789")  # known: free


def test_reset_forgets_everything() -> None:
    store = InMemoryBlobStore(100)
    digest = store.put(b"abc", "application/json")
    store.reset()
    assert (store.get(digest), len(store), store.total_bytes) == (None, 0, 0)


def test_export_import_round_trip_through_json() -> None:
    source = InMemoryBlobStore(1000)
    digests = [source.put(bytes([i]) * (i + 1), "image/jpeg") for i in range(5)]
    snapshot = json.loads(json.dumps(source.export_state()))
    target = InMemoryBlobStore(1000)
    target.import_state(snapshot)
    assert [target.get(d) for d in digests] == [source.get(d) for d in digests]
    assert target.total_bytes == source.total_bytes
    assert target.export_state() == snapshot


@pytest.mark.parametrize(
    "mutate",
    [
        lambda s: s["blobs"].update({"0" * 40: next(iter(s["blobs"].values()))}),  # wrong hash
        lambda s: next(iter(s["blobs"].values())).update(data="***"),  # not base64
        lambda s: s["blobs"].update({"../x": {"content_type": "a/b", "data": ""}}),  # bad key
        lambda s: next(iter(s["blobs"].values())).update(content_type="a/b\r\nX: y"),
        lambda s: s.pop("blobs"),
    ],
    ids=["digest-mismatch", "bad-base64", "bad-digest", "bad-content-type", "no-blobs"],
)
def test_a_bad_snapshot_is_refused_and_changes_nothing(
    mutate: Callable[[dict[str, Any]], object],
) -> None:
    store = InMemoryBlobStore(100)
    kept = store.put(b"kept", "application/json")
    snapshot = store.export_state()
    mutate(snapshot)
    with pytest.raises(ValueError):
        store.import_state(snapshot)
    assert store.get(kept) == (b"kept", "application/json")
    assert store.total_bytes == 4


def test_a_snapshot_larger_than_the_cap_is_refused() -> None:
    big = InMemoryBlobStore(100)
    big.put(b"x" * 50, "application/json")
    with pytest.raises(ValueError, match="cap"):
        InMemoryBlobStore(10).import_state(big.export_state())


def test_the_in_memory_store_satisfies_the_protocol() -> None:
    assert isinstance(InMemoryBlobStore(1), BlobStore)


def test_twenty_concurrent_uploads_leave_consistent_totals() -> None:
    """Half the threads upload the same photo: it must be stored once, and counted once."""
    store = InMemoryBlobStore(10 * 1024 * 1024)
    shared = b"\xff\xd8\xff" + b"shared" * 10_000
    payloads = [shared if i % 2 else b"\xff\xd8\xff" + bytes([i]) * (1000 + i) for i in range(20)]
    barrier = threading.Barrier(len(payloads))
    digests: list[str] = [""] * len(payloads)

    def upload(index: int) -> None:
        check = check_upload(f"photo{index}.jpg", payloads[index])
        barrier.wait()
        digests[index] = store.put(payloads[index], check.content_type)

    threads = [threading.Thread(target=upload, args=(i,)) for i in range(len(payloads))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    unique = set(payloads)
    assert digests == [sha1(p) for p in payloads]
    assert len(store) == len(unique) == 11
    assert store.total_bytes == sum(len(p) for p in unique)


def test_concurrent_uploads_never_overshoot_the_cap() -> None:
    store = InMemoryBlobStore(5 * 100)
    barrier = threading.Barrier(20)
    outcomes: list[int] = []
    lock = threading.Lock()

    def upload(index: int) -> None:
        barrier.wait()
        try:
            store.put(bytes([index]) * 100, "application/json")
            status = 200
        except UploadRejected as error:
            status = error.status
        with lock:
            outcomes.append(status)

    threads = [threading.Thread(target=upload, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [200] * 5 + [507] * 15
    assert store.total_bytes == 500


@settings(max_examples=50, deadline=None)
@given(blobs=st.lists(st.binary(max_size=200), max_size=10))
def test_round_trip_and_totals_for_any_bytes(blobs: list[bytes]) -> None:
    store = InMemoryBlobStore(10_000)
    digests = [store.put(blob, "application/octet-stream") for blob in blobs]
    assert [store.get(d) for d in digests] == [(b, "application/octet-stream") for b in blobs]
    assert store.total_bytes == sum(len(b) for b in set(blobs))
    assert len(store) == len(set(blobs))
