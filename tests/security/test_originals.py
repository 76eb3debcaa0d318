"""Stored originals hold the picture and nothing else: hidden chunks and segments that Pillow does not
report, and bytes after the end marker, are gone in every accepted format."""

import io
import uuid

import pytest
from PIL import Image

from recognizer.selectors import prediction_image_get

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cassandra_keyspace")]


def stored_original(client, data: bytes, name: str):
    part = io.BytesIO(data)
    part.name = name
    response = client.post("/api/predict", {"image": part})
    assert response.status_code == 201, response.content
    answer = response.json()
    assert answer["digit"] == 7
    stored = prediction_image_get(prediction_id=uuid.UUID(answer["id"]))
    assert client.get(answer["image_url"]).content == stored.data  # what anyone with the id reads
    return stored


def pixels(data: bytes) -> bytes:
    return Image.open(io.BytesIO(data)).convert("L").tobytes()


@pytest.mark.parametrize(("maker", "name", "content_type"), [
    ("png_with_hidden_chunks", "x.png", "image/png"),
    ("jpeg_with_app11_and_trailer", "x.jpg", "image/jpeg"),
    ("webp_with_hidden_chunks", "x.webp", "image/webp"),
    ("gif_with_comment_and_trailer", "x.gif", "image/gif"),
    ("tiff_with_tags_and_trailer", "x.tif", "image/tiff"),
])
def test_hidden_parts_and_trailing_bytes_are_not_stored(client, images, seven, maker, name, content_type):
    upload = getattr(images, maker)(seven)
    assert images.HIDDEN in upload and upload.endswith(images.TRAILER)
    stored = stored_original(client, upload, name)
    assert stored.content_type == content_type
    assert images.HIDDEN not in stored.data and b"TRAILING" not in stored.data
    assert pixels(stored.data) == pixels(upload)  # the picture itself is the same (all lossless but JPEG's, untouched)


def test_a_png_is_rebuilt_from_its_pixel_chunks_byte_for_byte(client, images, seven):
    stored = stored_original(client, images.png_with_hidden_chunks(seven), "x.png")
    assert stored.data == seven  # the canvas PNG it was made from: IHDR, IDAT, IEND
    assert b"tIME" not in stored.data


def test_a_jpeg_keeps_its_coded_data_and_loses_every_other_segment(client, images, seven):
    upload = images.jpeg_with_app11_and_trailer(seven)
    stored = stored_original(client, upload, "x.jpg")
    assert b"\xff\xeb" not in stored.data.split(b"\xff\xda")[0] and b"\xff\xfe" not in stored.data
    assert stored.data.endswith(b"\xff\xd9") and stored.data[-1000:] == upload[:-len(images.TRAILER)][-1000:]


def test_a_progressive_jpeg_without_hidden_parts_is_stored_as_it_came(client, images, seven):
    """Its ten scans, with tables between them, are walked through to EOI: nothing of the picture is lost."""
    progressive = images.progressive_jpeg_digit(seven)
    assert progressive.count(b"\xff\xda") > 5
    assert stored_original(client, progressive, "p.jpg").data == progressive
