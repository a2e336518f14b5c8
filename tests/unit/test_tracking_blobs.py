"""The content-addressed store behind ``/uploads/{sha1}``, over every state engine."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_server.domain.ports import BlobStore
from mock_server.domain.tracking.blobs import (
    blobs_from_snapshot,
    blobs_to_snapshot,
    is_valid_digest,
)
from mock_server.domain.tracking.uploads import UploadRejected, check_upload
from mock_server.state.replica import Replica
from mock_server.state.replicated import EngineBlobStore

BlobStoreFactory = Callable[[int], EngineBlobStore]


@pytest.fixture
def make_blobs(engine_factory: Callable[[], Any]) -> BlobStoreFactory:
    def make(cap: int) -> EngineBlobStore:
        engine = engine_factory()
        return EngineBlobStore(engine, Replica(engine), cap)

    return make


def sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def test_put_answers_the_sha1_and_get_gives_back_bytes_and_content_type(
        make_blobs: BlobStoreFactory) -> None:
    store = make_blobs(1024)
    digest = store.put(b"\xff\xd8\xffphoto", "image/jpeg")
    assert digest == sha1(b"\xff\xd8\xffphoto")
    assert store.get(digest) == (b"\xff\xd8\xffphoto", "image/jpeg")
    assert digest in store


def test_the_same_bytes_are_stored_once_under_one_digest(make_blobs: BlobStoreFactory) -> None:
    store = make_blobs(1024)
    first = store.put(b"same", "application/json")
    second = store.put(b"same", "application/xml")
    assert first == second
    assert len(store) == 1
    assert store.total_bytes == 4
    assert store.get(first) == (b"same", "application/json")  # the first content type stays


def test_unknown_digest_is_none(make_blobs: BlobStoreFactory) -> None:
    assert make_blobs(10).get("0" * 40) is None


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
def test_only_lowercase_40_hex_digests_are_ever_looked_up(make_blobs: BlobStoreFactory,
                                                         digest: object) -> None:
    store = make_blobs(10)
    assert not is_valid_digest(digest)
    assert store.get(digest) is None  # type: ignore[arg-type]
    assert digest not in store


@pytest.mark.parametrize("content_type", ["text/html\r\nSet-Cookie: x=1", "", "image", "a/b c"])
def test_content_types_that_could_break_a_header_are_refused(make_blobs: BlobStoreFactory,
                                                            content_type: str) -> None:
    with pytest.raises(ValueError):
        make_blobs(10).put(b"x", content_type)


def test_filling_the_cap_exactly_is_fine_one_more_byte_answers_507(
        make_blobs: BlobStoreFactory) -> None:
    store = make_blobs(10)
    store.put(b"0123456789", "application/json")
    with pytest.raises(UploadRejected) as caught:
        store.put(b"x", "application/json")
    assert caught.value.status == 507
    assert "10 of 10 bytes" in caught.value.message
    assert "Reset" in caught.value.message
    assert store.put(b"0123456789", "application/json") == sha1(b"0123456789")  # known: free


def test_export_and_the_snapshot_codec_round_trip_through_json(
        make_blobs: BlobStoreFactory) -> None:
    source = make_blobs(1000)
    digests = [source.put(bytes([i]) * (i + 1), "image/jpeg") for i in range(5)]
    snapshot = json.loads(json.dumps(source.export_state()))
    items = blobs_from_snapshot(snapshot, 1000)
    assert {digest: (data, ctype) for digest, ctype, data in items} == {
        d: source.get(d) for d in digests}
    assert blobs_to_snapshot(items) == snapshot


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
def test_a_bad_snapshot_is_refused(make_blobs: BlobStoreFactory,
                                   mutate: Callable[[dict[str, Any]], object]) -> None:
    store = make_blobs(100)
    store.put(b"kept", "application/json")
    snapshot = store.export_state()
    mutate(snapshot)
    with pytest.raises(ValueError):
        blobs_from_snapshot(snapshot, 100)


def test_a_snapshot_larger_than_the_cap_is_refused(make_blobs: BlobStoreFactory) -> None:
    big = make_blobs(100)
    big.put(b"x" * 50, "application/json")
    with pytest.raises(ValueError, match="cap"):
        blobs_from_snapshot(big.export_state(), 10)


def test_the_store_satisfies_the_port(make_blobs: BlobStoreFactory) -> None:
    assert isinstance(make_blobs(1), BlobStore)


def test_twenty_concurrent_uploads_leave_consistent_totals(make_blobs: BlobStoreFactory) -> None:
    """Half the threads upload the same photo: it must be stored once, and counted once."""
    store = make_blobs(10 * 1024 * 1024)
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


def test_concurrent_uploads_never_overshoot_the_cap(make_blobs: BlobStoreFactory) -> None:
    store = make_blobs(5 * 100)
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


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(blobs=st.lists(st.binary(max_size=200), max_size=10))
def test_round_trip_and_totals_for_any_bytes(make_blobs: BlobStoreFactory,
                                             blobs: list[bytes]) -> None:
    store = make_blobs(1_000_000)  # one store for every example: totals grow, digests repeat
    digests = [store.put(blob, "application/octet-stream") for blob in blobs]
    assert [store.get(d) for d in digests] == [(b, "application/octet-stream") for b in blobs]
    assert all(store.get(d) is not None for d in digests)
