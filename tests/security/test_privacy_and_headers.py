"""Exposure: stored originals without metadata, CSP without inline script on every page and a CSP that loads
nothing on the JSON API, /metrics denied unless allowed, staff names for staff only, CSV cells never formulas; and
the old drawboard's body."""

import base64
import csv
import io
import re
import uuid
from html.parser import HTMLParser

import pytest
from PIL import Image

from recognizer.selectors import prediction_image_get
from recognizer.services import prediction_correct, prediction_store

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cassandra_keyspace")]


def upload(client, data: bytes, name: str) -> dict:
    part = io.BytesIO(data)
    part.name = name
    response = client.post("/api/predict", {"image": part})
    assert response.status_code == 201, response.content
    return response.json()


def test_a_phone_photo_is_stored_upright_without_its_exif_and_gps(client, images, seven):
    photo = images.with_gps_exif(seven)
    assert Image.open(io.BytesIO(photo)).getexif().get_ifd(0x8825)  # it does carry GPS
    answer = upload(client, photo, "phone.jpg")
    assert answer["digit"] == 7  # read upright
    stored = prediction_image_get(prediction_id=uuid.UUID(answer["id"]))
    assert stored.content_type == "image/jpeg"
    original = Image.open(io.BytesIO(stored.data))
    assert not original.getexif() and "exif" not in original.info
    assert b"SERIAL-12345" not in stored.data and b"PhoneMaker" not in stored.data
    sideways = Image.open(io.BytesIO(photo))
    assert original.size == sideways.size[::-1]  # turned upright before the tag went
    assert client.get(answer["image_url"]).content == stored.data


def test_a_png_keeps_its_pixels_byte_for_byte_but_loses_its_text(client, images, seven):
    tagged = images.png_with_text(seven)
    assert b"Jane Doe" in tagged
    stored = prediction_image_get(prediction_id=uuid.UUID(upload(client, tagged, "tagged.png")["id"]))
    assert b"Jane Doe" not in stored.data and b"52.5200" not in stored.data
    assert stored.data in (tagged.replace(chunk, b"") for chunk in text_chunks(tagged))
    assert Image.open(io.BytesIO(stored.data)).tobytes() == Image.open(io.BytesIO(tagged)).tobytes()


def text_chunks(png: bytes):
    """Every combination is not needed: the writer puts both text chunks together, before IDAT."""
    start, end = png.index(b"tEXt") - 4, png.index(b"IDAT") - 4
    yield png[start:end]


def test_an_image_without_metadata_is_stored_as_it_came(client, seven):
    stored = prediction_image_get(prediction_id=uuid.UUID(upload(client, seven, "plain.png")["id"]))
    assert stored.data == seven


def test_the_photocd_webp_is_stored_as_webp_without_its_icc_profile(client, images, seven):
    webp = images.photocd_webp(seven)
    stored = prediction_image_get(prediction_id=uuid.UUID(upload(client, webp, "x.webp")["id"]))
    assert stored.content_type == "image/webp" and b"PCD_" not in stored.data


def test_the_old_drawboard_form_body_labelled_json_is_read(client, seven, stored_rows):
    """The old jQuery drawboard posted `filedata=<url-encoded data URL>` as application/json;charset=UTF-8."""
    before = stored_rows()[0]
    data_url = "data:image/png;base64," + base64.b64encode(seven).decode()
    body = "filedata=" + re.sub(r"[^A-Za-z0-9]", lambda m: f"%{ord(m[0]):02X}", data_url)
    response = client.post("/upload3", body, content_type="application/json;charset=UTF-8")
    assert response.status_code == 200 and response.json() == {"status": "success", "data": "7"}
    assert stored_rows()[0] == before + 1


class Scripts(HTMLParser):
    """Inline scripts and inline event handlers of a page."""

    def __init__(self):
        super().__init__()
        self.inline: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.inline += [f"{tag} {name}=" for name in attributes if name.startswith("on")]
        self._in_inline_script = tag == "script" and "src" not in attributes and \
            attributes.get("type", "text/javascript") in ("text/javascript", "module")

    def handle_data(self, data):
        if self._in_inline_script and data.strip():
            self.inline.append("<script>" + data.strip()[:40])

    def handle_endtag(self, tag):
        self._in_inline_script = False


@pytest.fixture
def stored_prediction(cassandra, seven):
    prediction = prediction_store(source="upload", filename="=cmd|'/c calc'!A1", content_type="image/png",
                                  image=seven, input_png=seven, probabilities=[0.01] * 9 + [0.91],
                                  model_version="+1+1", latency_ms=1.0)
    prediction_correct(prediction=prediction, label=4, user="@alice")
    return prediction


def test_every_page_has_a_csp_and_runs_no_inline_script(client, admin_user, stored_prediction):
    client.force_login(admin_user)
    pages = ["/", "/draw", "/upload", "/upload2", "/result?data=3", f"/predictions/{stored_prediction.id}",
             "/history", f"/history/{stored_prediction.id}", "/stats", "/admin/", "/api/docs/", "/api/redoc/",
             "/no/such/page"]
    for path in pages:
        response = client.get(path)
        assert response.status_code in (200, 404), path
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
        parser = Scripts()
        parser.feed(response.content.decode())
        assert parser.inline == [], f"{path}: {parser.inline}"


def test_json_api_answers_may_load_nothing_and_be_framed_by_no_one(client, stored_prediction):
    answers = [client.get(f"/api/predictions/{stored_prediction.id}"), client.get("/api/no-such-address"),
               client.post("/api/preview", b"not an image", content_type="image/png")]
    for response in answers:
        assert response["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
        assert response["X-Frame-Options"] == "DENY"


def test_metrics_are_denied_by_default(client, settings):
    settings.NUMBERFIGURE_METRICS_ALLOWED_IPS = []
    response = client.get("/metrics")
    assert response.status_code == 403 and b"numberfigure_" not in response.content


def test_who_corrected_a_prediction_is_shown_to_staff_only(client, settings, admin_user, django_user_model,
                                                            stored_prediction):
    settings.NUMBERFIGURE_HISTORY_PUBLIC = True
    pages = [f"/predictions/{stored_prediction.id}", f"/history/{stored_prediction.id}", "/history/export.csv",
             "/history/export.jsonl"]

    def shown(path) -> bool:
        response = client.get(path)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        return "alice" in body.decode()

    assert not any(shown(path) for path in pages)  # anyone
    client.force_login(django_user_model.objects.create_user("member", password="pw-member-123"))
    assert not any(shown(path) for path in pages)  # a logged-in user who is not staff
    client.force_login(admin_user)
    assert all(shown(path) for path in pages)


def test_no_csv_cell_is_a_formula(client, admin_user, stored_prediction):
    client.force_login(admin_user)
    text = b"".join(client.get("/history/export.csv").streaming_content).decode()
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert row["filename"] == "'=cmd|'/c calc'!A1"
    assert row["model_version"] == "'+1+1" and row["corrected_by"] == "'@alice"
    assert not any(value.startswith(("=", "+", "-", "@", "\t", "\r")) for value in row.values())
