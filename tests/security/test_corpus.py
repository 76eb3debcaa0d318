"""The hostile-input corpus: crafted requests through every entry point (the API, the pages, the old
app's routes). Each is answered with its status and a clear message, never a 5xx, within 10 s, and
stores nothing.

Case families: non-images; decompression bombs by header; pixel and scan bombs that decode (40 MP in
every PNG mode, the progressive-JPEG scan bomb, 1000-frame GIF); corrupt files; too many bytes, files
or pixels; malformed and deeply nested JSON; odd request types; unknown addresses and methods; bad
filters and ids; the old routes' own bad input.
"""

import io
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.test import Client
from helpers import data_url, png_claiming

SLOWEST: list[tuple[float, str]] = []
MB = 2**20
UNKNOWN_ID = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"  # a TimeUUID nothing is stored under
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text y="9">7</text></svg>'
TEXT = b"hello, I am text"


@dataclass(frozen=True)
class Case:
    name: str
    send: Callable  # (client, images, seven) -> response
    status: int
    words: str  # part of the message the client is shown
    shape: str = "api"  # api: {"error"}; page: an HTML page; legacy: {"status": "error", "error"}




def multipart(path: str, field: str, *files: bytes, name: str = "x.png"):
    def send(client, images, seven):
        parts = [io.BytesIO(data) for data in files_of(images, seven)]
        for part in parts:
            part.name = name
        return client.post(path, {field: parts})

    def files_of(images, seven):
        return [data(images, seven) if callable(data) else data for data in files]

    return send


def api_file(*files, name: str = "x.png"):
    return multipart("/api/predict", "image", *files, name=name)


def page_file(*files, name: str = "x.png"):
    return multipart("/upload", "images", *files, name=name)


def api_json(body: bytes | str | Callable, path: str = "/api/predict"):
    def send(client, images, seven):
        content = body(images, seven) if callable(body) else body
        return client.post(path, content, content_type="application/json")

    return send


def api_image_json(image: Callable, path: str = "/api/predict"):
    return api_json(lambda images, seven: json.dumps({"image": data_url(image(images, seven))}), path)


def raw(data, content_type: str, path: str = "/api/predict"):
    def send(client, images, seven):
        return client.post(path, data(images, seven) if callable(data) else data, content_type=content_type)

    return send


def get(path: str, **query):
    return lambda client, images, seven: client.get(path, query)


def method(verb: str, path: str):
    return lambda client, images, seven: client.generic(verb, path)


def legacy(body, content_type: str = "application/x-www-form-urlencoded"):
    def send(client, images, seven):
        return client.post("/upload3", body(images, seven) if callable(body) else body, content_type=content_type)

    return send


def truncated(images, seven):
    return seven[: len(seven) // 2]


def damaged_idat(images, seven):
    data = bytearray(seven)
    start = data.index(b"IDAT") + 20
    data[start:start + 64] = bytes(64)  # the CRC no longer matches
    return bytes(data)


def truncated_jpeg(images, seven):
    return images.progressive_jpeg_digit(seven)[:900]


def over_the_upload_limit(images, seven):
    return seven + bytes(5 * MB)  # a valid PNG with 5 MB of trailing junk: over MAX_UPLOAD_MB


def jpeg_scan_bomb(images, seven):
    return images.scan_bomb_jpeg()


IMAGE_CASES = [
    # Not images (or not ones we read).
    Case("text", api_file(TEXT), 415, "not an image"),
    Case("svg", api_file(SVG, name="x.svg"), 415, "not an image"),
    Case("pdf", api_file(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", name="x.pdf"), 415, "not an image"),
    Case("html", api_file(b"<html><script>alert(1)</script></html>"), 415, "not an image"),
    Case("zip", api_file(b"PK\x03\x04" + bytes(60), name="x.zip"), 415, "not an image"),
    Case("zero-bytes", api_file(b""), 415, "not an image"),
    Case("xss-filename", api_file(TEXT, name="<img src=x onerror=alert(1)>.png"), 415, "not an image"),
    # Decompression bombs by header: refused before any pixel is decoded.
    Case("bomb-png-header", api_file(lambda i, s: png_claiming(40000, 40000)), 413, "too large"),
    Case("bomb-jpeg-header", api_file(lambda i, s: i.jpeg_claiming(65000, 65000)), 413, "too large"),
    Case("bomb-gif-header", api_file(lambda i, s: i.gif_claiming(65535, 65535)), 413, "too large"),
    Case("bomb-bmp-header", api_file(lambda i, s: i.bmp_claiming(100000, 100000)), 413, "too large"),
    Case("bomb-tiff-header", api_file(lambda i, s: i.tiff_claiming(100000, 100000)), 413, "too large"),
    Case("bomb-png-just-over", api_file(lambda i, s: png_claiming(8000, 5001)), 413, "too large"),
    # Bombs that decode: within the pixel limit, bounded in time and memory, and blank.
    Case("scan-bomb-jpeg", api_file(jpeg_scan_bomb), 422, "scans"),
    Case("png-16bit-40mp", api_file(lambda i, s: i.png_16bit_40mp()), 422, "no digit"),
    Case("png-rgba-40mp", api_file(lambda i, s: i.png_rgba_40mp()), 422, "no digit"),
    Case("png-16bit-rgba-40mp", api_file(lambda i, s: i.png_16bit_rgba_40mp()), 422, "no digit"),
    Case("png-palette-40mp", api_file(lambda i, s: i.png_palette_40mp()), 422, "no digit"),
    Case("png-bilevel-40mp", api_file(lambda i, s: i.png_bilevel_40mp()), 422, "no digit"),
    Case("jpeg-36mp", api_file(lambda i, s: i.big_jpeg()), 422, "no digit"),
    Case("progressive-jpeg-40mp-420", api_file(lambda i, s: i.progressive_jpeg_40mp(2)), 422, "no digit"),
    Case("progressive-jpeg-40mp-444", api_file(lambda i, s: i.progressive_jpeg_40mp(0)), 413,
         "pixels of progressive jpeg need about 226 mb"),
    Case("webp-40mp", api_file(lambda i, s: i.webp(7900, 5000)), 413, "pixels of webp need about 603 mb"),
    Case("webp-10mp", api_file(lambda i, s: i.webp(3900, 2560)), 422, "no digit"),
    Case("tiff-36mp", api_file(lambda i, s: i.tiff_40mp()), 422, "no digit"),
    Case("gif-1000-frames", api_file(lambda i, s: i.many_frame_gif()), 422, "no digit"),
    # Broken files.
    Case("truncated-png", api_file(truncated), 422, "truncated or corrupt"),
    Case("damaged-png", api_file(damaged_idat), 422, "truncated or corrupt"),
    Case("truncated-jpeg", api_file(truncated_jpeg), 422, "truncated or corrupt"),
    # Too many bytes, files or pixels.
    Case("file-over-limit", api_file(over_the_upload_limit), 413, "limit of 5 MB"),
    Case("21-files", api_file(*[lambda i, s: s] * 21), 413, "too many files"),
    Case("120-megapixels", api_file(*[lambda i, s: i.png_16bit_40mp()] * 3), 413, "megapixels together"),
    Case("good-then-bad", api_file(lambda i, s: s, TEXT), 415, "not an image"),
    Case("missing-field", lambda c, i, s: c.post("/api/predict", {"picture": "x"}), 400, "missing field 'image'"),
]

JSON_CASES = [
    Case("nested-arrays", api_json(lambda i, s: i.nested_json()), 400, "not valid json"),
    Case("nested-objects", api_json(lambda i, s: i.nested_object_json()), 400, "not valid json"),
    Case("malformed", api_json('{"image": '), 400, "not valid json"),
    Case("not-utf8", api_json(b'{"image": "\xff\xfe"}'), 400, "not valid json"),
    Case("not-an-object", api_json("[1, 2]"), 400, "must be an object"),
    Case("image-not-a-string", api_json('{"image": {"nested": [1]}}'), 400, "data url"),
    Case("bad-base64", api_json('{"image": "data:image/png;base64,@@@"}'), 400, "base64"),
    Case("data-url-not-base64", api_json('{"image": "data:image/png,hello"}'), 400, "base64-encoded"),
    Case("base64-svg", api_image_json(lambda i, s: SVG), 415, "not an image"),
    Case("base64-scan-bomb", api_image_json(jpeg_scan_bomb), 422, "scans"),
    Case("base64-over-limit", api_json(lambda i, s: json.dumps({"image": "A" * (7 * MB)})), 413, "limit"),
    Case("body-over-limit", api_json(lambda i, s: b'{"pad": "' + b" " * (8 * MB) + b'"}'), 413, "limit"),
    Case("bad-source", api_json(lambda i, s: json.dumps({"image": data_url(s), "source": "robot"})), 400,
         "source"),
]

RAW_CASES = [
    Case("raw-scan-bomb", raw(jpeg_scan_bomb, "image/jpeg"), 422, "scans"),
    Case("raw-over-limit", raw(over_the_upload_limit, "image/png"), 413, "limit"),
    Case("raw-empty", raw(b"", "image/png"), 400, "missing field 'image'"),
    Case("raw-text-as-png", raw(TEXT, "image/png"), 415, "not an image"),
    Case("raw-16bit-40mp", raw(lambda i, s: i.png_16bit_40mp(), "image/png"), 422, "no digit"),
    Case("text-plain", raw(b"7", "text/plain"), 415, "unsupported media type"),
    Case("xml", raw(b"<image/>", "application/xml"), 415, "unsupported media type"),
    Case("multipart-no-boundary", raw(b"--x\r\n", "multipart/form-data"), 400, "boundary"),
]

PREVIEW_CASES = [
    Case("preview-nested-json", api_json(lambda i, s: i.nested_json(), "/api/preview"), 400, "not valid json"),
    Case("preview-scan-bomb", api_image_json(jpeg_scan_bomb, "/api/preview"), 422, "scans"),
    Case("preview-16bit-40mp", api_image_json(lambda i, s: i.png_16bit_40mp(), "/api/preview"), 422, "no digit"),
    Case("preview-two-images", multipart("/api/preview", "image", lambda i, s: s, lambda i, s: s), 400,
         "exactly one"),
    Case("preview-bomb-header", raw(lambda i, s: png_claiming(40000, 40000), "image/png", "/api/preview"), 413,
         "too large"),
]

API_ROUTE_CASES = [
    Case("api-unknown-address", get("/api/nothing-here"), 404, "nothing at this address"),
    Case("api-id-not-a-uuid", get("/api/predictions/not-a-uuid"), 404, "nothing at this address"),
    Case("api-id-not-a-timeuuid", get("/api/predictions/6f1c4c84-8f55-4b43-9f9b-0a5d2a7f0d1e"), 404,
         "no such prediction"),
    Case("api-unknown-prediction", get(f"/api/predictions/{UNKNOWN_ID}"), 404, "no such prediction"),
    Case("api-unknown-image", get(f"/api/predictions/{UNKNOWN_ID}/image"), 404, "no such prediction"),
    Case("api-get-predict", get("/api/predict"), 405, "not allowed"),
    Case("api-delete-preview", method("DELETE", "/api/preview"), 405, "not allowed"),
    Case("api-post-input", method("POST", f"/api/predictions/{UNKNOWN_ID}/input.png"), 405, "not allowed"),
    Case("api-list-anonymous", get("/api/predictions"), 403, "credentials"),
]

PAGE_CASES = [
    Case("page-scan-bomb", page_file(jpeg_scan_bomb), 422, "scans", "page"),
    Case("page-svg", page_file(SVG), 415, "not an image", "page"),
    Case("page-file-over-limit", page_file(over_the_upload_limit), 413, "limit of 5 MB", "page"),
    Case("page-21-files", page_file(*[lambda i, s: s] * 21), 413, "too many files", "page"),
    Case("page-no-file", lambda c, i, s: c.post("/upload", {}), 400, "choose one or more", "page"),
    Case("page-put-upload", method("PUT", "/upload"), 405, "does not accept put", "page"),
    Case("page-post-draw", method("POST", "/draw"), 405, "does not accept post", "page"),
    Case("page-unknown-address", get("/no/such/page"), 404, "nothing at this address", "page"),
    Case("page-unknown-prediction", get(f"/predictions/{UNKNOWN_ID}"), 404, "no such prediction", "page"),
    Case("page-prediction-not-a-uuid", get("/predictions/../../etc/passwd"), 404, "nothing at this address", "page"),
    Case("result-too-long", get("/result", data="7" * 33), 400, "number of up to", "page"),
    Case("result-script", get("/result", data="<script>alert(1)</script>"), 400, "number of up to", "page"),
]

LEGACY_CASES = [
    Case("upload3-nested-json", legacy(lambda i, s: i.nested_json(), "application/json"), 400, "not valid json",
         "legacy"),
    Case("upload3-json-without-filedata", legacy('{"file": "x"}', "application/json"), 400,
         "missing field 'filedata'", "legacy"),
    Case("upload3-form-bad-base64", legacy("filedata=data%3Aimage%2Fpng%3Bbase64%2C%40%40"), 400, "base64",
         "legacy"),
    Case("upload3-json-label-form-svg", legacy(lambda i, s: "filedata=" + data_url(SVG).replace("+", "%2B"),
                                               "application/json;charset=UTF-8"), 415, "not an image", "legacy"),
    Case("upload3-json-label-junk", legacy("this is neither", "application/json;charset=UTF-8"), 400,
         "not valid json", "legacy"),
    Case("upload3-scan-bomb", legacy(lambda i, s: {"filedata": data_url(jpeg_scan_bomb(i, s), "image/jpeg")},
                                     "application/json"), 422, "scans", "legacy"),
    Case("upload3-get", get("/upload3"), 405, "does not accept get", "page"),
]

CASES = IMAGE_CASES + JSON_CASES + RAW_CASES + PREVIEW_CASES + API_ROUTE_CASES + PAGE_CASES + LEGACY_CASES


class TimedClient(Client):
    """Django's test client, timing each request alone (not the making of its hostile body)."""

    seconds = 0.0

    def request(self, **request):
        started = time.perf_counter()
        try:
            return super().request(**request)
        finally:
            self.seconds = time.perf_counter() - started


def message_of(response, shape: str) -> str:
    if shape == "page":
        assert response["Content-Type"].startswith("text/html")
        return response.content.decode()
    body = response.json()
    if shape == "legacy":
        assert body["status"] == "error"
    return body["error"]


@pytest.fixture(scope="module", autouse=True)
def report_the_slowest():
    """Prints the corpus' slowest answers at the end (pytest -s shows them)."""
    yield
    slowest = sorted(SLOWEST, reverse=True)[:5]
    print("\ncorpus: slowest answers: " + ", ".join(f"{name} {seconds:.2f} s" for seconds, name in slowest))


def test_the_corpus_is_large_and_reaches_every_entry_point():
    assert len(CASES) >= 60
    assert len({case.name for case in CASES}) == len(CASES)
    families = {"api": IMAGE_CASES + JSON_CASES + RAW_CASES, "preview": PREVIEW_CASES, "reads": API_ROUTE_CASES,
                "pages": PAGE_CASES, "old routes": LEGACY_CASES}
    assert all(len(cases) >= 5 for cases in families.values())


@pytest.mark.django_db
@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_hostile_request_is_refused_clearly_and_stores_nothing(case, images, seven, stored_rows):
    client = TimedClient(raise_request_exception=False)  # a bug must show as the 500 it would be
    before = stored_rows()
    response = case.send(client, images, seven)
    elapsed = client.seconds
    SLOWEST.append((elapsed, case.name))
    assert response.status_code < 500, response.content[:300]
    assert response.status_code == case.status, response.content[:300]
    assert case.words.lower() in message_of(response, case.shape).lower()
    assert elapsed < 10, f"{case.name} took {elapsed:.1f} s"
    assert stored_rows() == before, "a refused request stored something"


def test_the_photocd_webp_is_read_as_the_webp_it_is(client, images, seven, stored_rows):
    """A valid WebP whose ICC profile looks like PhotoCD at offset 2048: answered, not a KeyError."""
    before = stored_rows()
    response = client.post("/api/preview", {"image": data_url(images.photocd_webp(seven), "image/webp")},
                           content_type="application/json")
    assert response.status_code == 200 and response.json()["digit"] == 7
    assert stored_rows() == before
