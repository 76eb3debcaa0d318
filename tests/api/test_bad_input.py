"""Bad input gets a clear 4xx JSON error and stores nothing."""

import base64
import io

import pytest
from helpers import png_claiming
from PIL import Image

from recognizer.models import OriginalChunk, Prediction

pytestmark = pytest.mark.usefixtures("cassandra")




def blank_png() -> bytes:
    out = io.BytesIO()
    Image.new("L", (280, 280), 255).save(out, "PNG")
    return out.getvalue()


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text y="9">7</text></svg>'


def assert_refused(response, status: int, words: str) -> None:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    assert words.lower() in response.json()["error"].lower()
    assert Prediction.objects.count() == 0
    assert OriginalChunk.objects.count() == 0


@pytest.mark.parametrize(
    ("payload", "status", "words"),
    [
        (b"hello, I am text", 415, "not an image"),
        (SVG, 415, "not an image"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", 415, "not an image"),
        (b"", 415, "not an image"),
        (png_claiming(40000, 40000), 413, "too large"),
        (blank_png(), 422, "no digit"),
    ],
    ids=["text", "svg", "pdf", "zero-bytes", "decompression-bomb", "blank"],
)
def test_unusable_file_is_refused(client, payload, status, words):
    response = client.post("/api/predict", {"image": io.BytesIO(payload)}, format="multipart")
    assert_refused(response, status, words)


def test_truncated_image_is_refused(client, digit_png):
    png, _ = digit_png(0)
    response = client.post("/api/predict", {"image": io.BytesIO(png[: len(png) // 2])}, format="multipart")
    assert_refused(response, 422, "truncated")


def test_file_over_the_size_limit_is_refused(client, digit_png, settings):
    png, _ = digit_png(0)
    settings.NUMBERFIGURE_MAX_UPLOAD_BYTES = len(png) - 1
    response = client.post("/api/predict", {"image": io.BytesIO(png)}, format="multipart")
    assert_refused(response, 413, "limit")


def test_too_many_files_are_refused(client, digit_png, settings):
    settings.NUMBERFIGURE_MAX_FILES = 2
    png, _ = digit_png(0)
    response = client.post("/api/predict", {"image": [io.BytesIO(png) for _ in range(3)]}, format="multipart")
    assert_refused(response, 413, "too many files")


def test_one_bad_file_among_good_ones_stores_nothing(client, digit_png):
    png, _ = digit_png(0)
    files = [io.BytesIO(png), io.BytesIO(b"not an image")]
    assert_refused(client.post("/api/predict", {"image": files}, format="multipart"), 415, "not an image")


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ('{"image": ', 400, "json"),
        ("[1, 2]", 400, "object"),
        ("{}", 400, "missing field 'image'"),
        ('{"image": "data:image/png;base64,@@@not base64@@@"}', 400, "base64"),
        ('{"image": 42}', 400, "data url"),
        ('{"image": "aGVsbG8=", "source": "robot"}', 400, "source"),
        ('{"image": "aGVsbG8="}', 415, "not an image"),
    ],
    ids=["malformed-json", "not-an-object", "missing-field", "bad-base64", "not-a-string", "bad-source", "base64-text"],
)
def test_bad_json_is_refused(client, body, status, words):
    assert_refused(client.post("/api/predict", body, content_type="application/json"), status, words)


def test_missing_multipart_field_is_refused(client):
    assert_refused(client.post("/api/predict", {"picture": "x"}, format="multipart"), 400, "missing field 'image'")


def test_unsupported_request_type_is_refused(client):
    assert_refused(client.post("/api/predict", "7", content_type="text/plain"), 415, "unsupported media type")


def test_oversized_base64_is_refused_before_decoding(client, settings):
    settings.NUMBERFIGURE_MAX_UPLOAD_BYTES = 1000
    body = {"image": base64.b64encode(b"x" * 5000).decode()}
    assert_refused(client.post("/api/predict", body, content_type="application/json"), 413, "limit")


def test_unknown_prediction_is_a_json_404(client):
    assert client.get("/api/predictions/1b4e28ba-2fa1-11d2-883f-0016d3cca427").status_code == 404
    response = client.get("/api/predictions/6f1c4c84-8f55-4b43-9f9b-0a5d2a7f0d1e")  # not a TimeUUID
    assert response.status_code == 404 and "error" in response.json()
