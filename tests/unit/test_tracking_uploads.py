"""Upload rules of the Sports Tracking Data mock (DECISIONS.md Tracking, openapi uploadFile)."""

from __future__ import annotations

import io
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from mock_server.domain.errors import DomainError
from mock_server.domain.tracking.uploads import (
    ACCEPTED_EXTENSIONS,
    MAX_PHOTO_BYTES,
    THUMBNAIL_RECOMMENDED_BYTES,
    UploadRejected,
    check_parts,
    check_upload,
    read_limited,
)

ACCEPTED_LIST = "gpx, tcx, json, xml, jpeg, jpg"
GPX = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<gpx xmlns="http://www.topografix.com/GPX/1/1" version="1.1" creator="test">'
    b'<trk><trkseg><trkpt lat="50.74" lon="3.23"><ele>35</ele></trkpt></trkseg></trk></gpx>'
)
TCX = (
    b'<?xml version="1.0"?>'
    b'<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2">'
    b"<Activities/></TrainingCenterDatabase>"
)
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<gpx>&lol9;</gpx>"""
EXTERNAL_ENTITY = (
    b'<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b"<gpx>&xxe;</gpx>"
)


def real_jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, format="JPEG")
    return out.getvalue()


def jpeg_of_size(size: int) -> bytes:
    return b"\xff\xd8\xff\xe0" + b"\0" * (size - 4)


def rejection(filename: str | None, data: bytes) -> UploadRejected:
    with pytest.raises(UploadRejected) as caught:
        check_upload(filename, data)
    return caught.value


# --- accepted files ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "data", "kind", "content_type"),
    [
        ("myphoto.jpg", real_jpeg(), "jpeg", "image/jpeg"),
        ("myphoto.jpeg", real_jpeg(), "jpeg", "image/jpeg"),
        ("ride.gpx", GPX, "gpx", "application/gpx+xml"),
        ("ride.tcx", TCX, "tcx", "application/vnd.garmin.tcx+xml"),
        ("notes.xml", b"<anything><at-all/></anything>", "xml", "application/xml"),
        ("summary.json", b'{"distance": 18375, "ok": true}', "json", "application/json"),
    ],
)
def test_each_accepted_kind_is_recognised_with_its_content_type(
    filename: str, data: bytes, kind: str, content_type: str
) -> None:
    check = check_upload(filename, data)
    assert (check.kind, check.content_type, check.size, check.warnings) == (
        kind,
        content_type,
        len(data),
        [],
    )


@pytest.mark.parametrize("filename", ["PHOTO.JPG", "Photo.JpEg", "TRACK.GPX", "a.Tcx", "X.JSON"])
def test_extensions_are_case_insensitive(filename: str) -> None:
    data = {"jpg": real_jpeg(), "peg": real_jpeg(), "gpx": GPX, "tcx": TCX, "son": b"[]"}
    check_upload(filename, data[filename.lower()[-3:]])


def test_jpg_is_accepted_as_jpeg_like_the_documents_curl() -> None:
    assert check_upload("myphoto.jpg", real_jpeg()).kind == "jpeg"


def test_only_the_last_path_component_of_a_browser_file_name_counts() -> None:
    assert check_upload("C:\\Users\\me\\Pictures\\photo.jpg", real_jpeg()).kind == "jpeg"
    assert check_upload("../../etc/track.gpx", GPX).kind == "gpx"


@pytest.mark.parametrize(
    "root",
    [
        b'<gpx xmlns="http://www.topografix.com/GPX/1/0"/>',
        b'<g:gpx xmlns:g="http://www.topografix.com/GPX/1/1"/>',
        b"<gpx/>",
    ],
)
def test_gpx_root_is_compared_without_its_namespace(root: bytes) -> None:
    assert check_upload("t.gpx", root).kind == "gpx"


def test_json_with_a_byte_order_mark_is_accepted() -> None:
    assert check_upload("a.json", b"\xef\xbb\xbf{}").kind == "json"


# --- names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "filename", ["photo.png", "photo.jpg.exe", "archive.tar.gz", "track.fit", "x.JPG2"]
)
def test_other_extensions_answer_422_naming_the_extension_and_the_accepted_list(
    filename: str,
) -> None:
    error = rejection(filename, real_jpeg())
    assert error.status == 422
    assert "." + filename.rsplit(".", 1)[1] in error.message
    assert "not accepted" in error.message
    assert ACCEPTED_LIST in error.message


@pytest.mark.parametrize("filename", [None, "", "   "])
def test_a_missing_file_name_answers_422(filename: str | None) -> None:
    error = rejection(filename, real_jpeg())
    assert error.status == 422
    assert "no name" in error.message
    assert ACCEPTED_LIST in error.message


@pytest.mark.parametrize("filename", ["photo", "photo.", ".jpg", "dir.jpg/photo"])
def test_a_name_without_extension_answers_422(filename: str) -> None:
    error = rejection(filename, real_jpeg())
    assert error.status == 422
    assert "no extension" in error.message
    assert ACCEPTED_LIST in error.message


def test_a_hostile_long_name_is_shortened_in_the_message() -> None:
    error = rejection("x" * 10_000 + ".png", real_jpeg())
    assert len(error.message) < 400


# --- sizes ---------------------------------------------------------------------------------


def test_an_empty_file_answers_422() -> None:
    error = rejection("photo.jpg", b"")
    assert error.status == 422
    assert "empty" in error.message
    assert ACCEPTED_LIST in error.message


@pytest.mark.parametrize("size", [MAX_PHOTO_BYTES - 1, MAX_PHOTO_BYTES])
def test_files_up_to_3_mib_inclusive_are_accepted(size: int) -> None:
    assert MAX_PHOTO_BYTES == 3_145_728
    assert check_upload("big.jpg", jpeg_of_size(size)).size == size


def test_one_byte_over_3_mib_answers_413_saying_the_limit_in_bytes() -> None:
    error = rejection("big.jpg", jpeg_of_size(MAX_PHOTO_BYTES + 1))
    assert error.status == 413
    assert "3145728 bytes" in error.message
    assert str(MAX_PHOTO_BYTES + 1) in error.message
    assert error.errors is None


def test_size_is_checked_before_content_so_huge_junk_is_never_parsed() -> None:
    assert rejection("big.gpx", b"<" * (MAX_PHOTO_BYTES + 1)).status == 413


def test_up_to_300_kib_there_is_no_warning() -> None:
    assert THUMBNAIL_RECOMMENDED_BYTES == 307_200
    assert check_upload("t.jpg", jpeg_of_size(THUMBNAIL_RECOMMENDED_BYTES)).warnings == []


def test_over_300_kib_is_accepted_with_a_thumbnail_warning() -> None:
    check = check_upload("t.jpg", jpeg_of_size(THUMBNAIL_RECOMMENDED_BYTES + 1))
    assert len(check.warnings) == 1
    warning = check.warnings[0]
    assert "fine as a photo" in warning
    assert "300 KB" in warning
    assert "thumbnail" in warning


# --- content -------------------------------------------------------------------------------


def test_a_png_named_jpg_answers_422_about_the_magic_bytes() -> None:
    png = io.BytesIO()
    Image.new("RGB", (4, 4)).save(png, format="PNG")
    error = rejection("photo.jpg", png.getvalue())
    assert error.status == 422
    assert "FF D8 FF" in error.message
    assert ACCEPTED_LIST in error.message


@pytest.mark.parametrize(
    ("filename", "data", "expected"),
    [
        ("t.gpx", b"<gpx><trk></gpx>", "not well-formed"),
        ("t.gpx", b"not xml at all", "not well-formed"),
        ("t.gpx", GPX + b"<gpx/>", "not well-formed"),
        ("t.xml", b"\xff\xfe\x00garbage", "not well-formed"),
        ("t.gpx", b'<kml xmlns="http://www.opengis.net/kml/2.2"/>', "<kml>, expected <gpx>"),
        ("t.tcx", GPX, "<gpx>, expected <TrainingCenterDatabase>"),
        ("t.json", b"{'single': 'quotes'}", "not valid JSON"),
        ("t.json", b'{"a": 1', "not valid JSON"),
        ("t.json", b'{"a": NaN}', "not valid JSON"),
        ("t.json", '{"caf\u00e9": 1}'.encode("latin-1"), "not UTF-8"),
        ("t.json", b"[" * 200_000 + b"]" * 200_000, "nested too deeply"),
    ],
)
def test_content_that_does_not_match_its_extension_answers_422(
    filename: str, data: bytes, expected: str
) -> None:
    error = rejection(filename, data)
    assert error.status == 422
    assert expected in error.message
    assert ACCEPTED_LIST in error.message
    assert error.errors == {"file": [error.message]}


@pytest.mark.parametrize(
    "data",
    [BILLION_LAUGHS, EXTERNAL_ENTITY, b'<!DOCTYPE gpx SYSTEM "http://example.com/x.dtd"><gpx/>'],
    ids=["billion-laughs", "external-entity", "plain-doctype"],
)
def test_any_doctype_is_refused_before_entities_can_expand(data: bytes) -> None:
    started = time.perf_counter()
    error = rejection("bomb.gpx", data)
    assert time.perf_counter() - started < 1.0
    assert error.status == 422
    assert "DOCTYPE" in error.message
    assert ACCEPTED_LIST in error.message


def test_rejections_are_domain_errors_carrying_their_status() -> None:
    error = rejection("a.png", b"x")
    assert isinstance(error, DomainError)
    assert str(error) == error.message


# --- read_limited --------------------------------------------------------------------------


class EndlessStream:
    """A client that never stops sending; records how much the server asked for."""

    def __init__(self) -> None:
        self.delivered = 0
        self.largest_request = 0

    def read(self, size: int = -1) -> bytes:
        assert size > 0, "read_limited must never read without a bound"
        self.largest_request = max(self.largest_request, size)
        self.delivered += size
        return b"\xff" * size


def test_read_limited_returns_a_body_within_the_limit() -> None:
    assert read_limited(io.BytesIO(b"abc"), 3) == b"abc"
    assert read_limited(io.BytesIO(b""), 0) == b""


def test_read_limited_answers_413_one_byte_past_the_limit() -> None:
    with pytest.raises(UploadRejected) as caught:
        read_limited(io.BytesIO(b"abcd"), 3)
    assert caught.value.status == 413
    assert "3 bytes" in caught.value.message


def test_read_limited_stops_reading_an_endless_body_just_past_the_limit() -> None:
    stream = EndlessStream()
    with pytest.raises(UploadRejected) as caught:
        read_limited(stream, MAX_PHOTO_BYTES, chunk_size=64 * 1024)
    assert caught.value.status == 413
    assert "3145728 bytes (3 MiB)" in caught.value.message
    assert stream.delivered == MAX_PHOTO_BYTES + 1
    assert stream.largest_request <= 64 * 1024


def test_read_limited_refuses_nonsense_arguments() -> None:
    with pytest.raises(ValueError):
        read_limited(io.BytesIO(b""), -1)
    with pytest.raises(ValueError):
        read_limited(io.BytesIO(b""), 1, chunk_size=0)


@given(
    data=st.binary(max_size=300),
    limit=st.integers(min_value=0, max_value=300),
    chunk_size=st.integers(min_value=1, max_value=64),
)
def test_read_limited_is_exactly_a_bounded_read(data: bytes, limit: int, chunk_size: int) -> None:
    if len(data) <= limit:
        assert read_limited(io.BytesIO(data), limit, chunk_size) == data
    else:
        with pytest.raises(UploadRejected):
            read_limited(io.BytesIO(data), limit, chunk_size)


# --- properties ----------------------------------------------------------------------------


@given(data=st.binary(min_size=1, max_size=64), extension=st.sampled_from(["jpg", "jpeg"]))
def test_a_jpeg_is_accepted_exactly_when_it_starts_with_the_magic_bytes(
    data: bytes, extension: str
) -> None:
    if data.startswith(b"\xff\xd8\xff"):
        assert check_upload(f"p.{extension}", data).kind == "jpeg"
    else:
        assert rejection(f"p.{extension}", data).status == 422


@given(extension=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=6))
def test_every_extension_outside_the_list_answers_422(extension: str) -> None:
    if extension.lower() in ACCEPTED_EXTENSIONS:
        return
    assert rejection(f"file.{extension}", b"\xff\xd8\xff").status == 422


@given(
    extension=st.sampled_from(ACCEPTED_EXTENSIONS).flatmap(
        lambda ext: st.tuples(*(st.sampled_from([c.lower(), c.upper()]) for c in ext)).map("".join)
    )
)
def test_every_casing_of_an_accepted_extension_is_accepted(extension: str) -> None:
    content = {"gpx": GPX, "tcx": TCX, "json": b"{}", "xml": b"<x/>"}
    data = content.get(extension.lower(), b"\xff\xd8\xff\xe0")
    check_upload(f"file.{extension}", data)


def test_an_upload_has_only_the_file_part() -> None:
    check_parts(["file"])
    with pytest.raises(DomainError) as refused:
        check_parts(["file", "title", "title", "file2"])
    assert refused.value.status == 422
    assert refused.value.errors == {"title": ["Unknown field 'title'."],
                                    "file2": ["Unknown field 'file2'."]}
