"""A picture of a number on every route: its answer, expect=digit, a row per digit, corrections per digit."""

import base64
import io
import json
import re
import uuid

import pytest

from recognizer.models import Prediction
from recognizer.recognition import ImageUpload
from recognizer.selectors import prediction_get, prediction_image_get
from recognizer.services import new_prediction_ids, predictions_create

pytestmark = pytest.mark.usefixtures("cassandra")


def data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


def assert_number_shape(body: dict, number: str) -> None:
    assert body["number"] == number and len(body["digits"]) == len(number)
    assert [entry["digit"] for entry in body["digits"]] == [int(d) for d in number]
    for entry in body["digits"]:
        assert entry["confidence"] == max(entry["probabilities"]) and len(entry["probabilities"]) == 10
        assert set(entry["box"]) == {"left", "top", "width", "height"} and entry["box"]["width"] > 0
    lefts = [entry["box"]["left"] for entry in body["digits"]]
    assert lefts == sorted(lefts)
    first = body["digits"][0]  # the single-digit fields are the first digit's
    assert (body["digit"], body["probabilities"]) == (first["digit"], first["probabilities"])


def test_the_api_answers_the_number_and_stores_a_row_per_digit(client, twenty_26, settings):
    settings.NUMBERFIGURE_HISTORY_PUBLIC = True
    response = client.post("/api/predict", {"image": io.BytesIO(twenty_26)}, format="multipart")
    assert response.status_code == 201, response.content
    body = response.json()
    assert_number_shape(body, "2026")
    assert body["id"] == body["digits"][0]["id"] and len({entry["id"] for entry in body["digits"]}) == 4

    for position, entry in enumerate(body["digits"]):
        stored = prediction_get(prediction_id=uuid.UUID(entry["id"]))
        assert (stored.digit, stored.position, stored.digit_count) == (entry["digit"], position, 4)
        assert str(stored.picture_id) == body["id"]
        # the original is stored once and every digit leads to it
        assert prediction_image_get(prediction_id=stored.id).data == prediction_image_get(
            prediction_id=uuid.UUID(body["id"])).data
        read = client.get(f"/api/predictions/{entry['id']}").json()  # any digit reads the number back whole
        assert read["number"] == "2026" and read["id"] == entry["id"] and read["position"] == position
    listed = client.get("/api/predictions", {"limit": 10}).json()["results"]
    assert [row["digit"] for row in listed if row["picture_id"] == body["id"]] == [2, 0, 2, 6]


def test_one_digit_answers_as_before_with_its_number(client, digit_png):
    png, label = digit_png(0)
    body = client.post("/api/predict", png, content_type="image/png").json()
    assert body["digit"] == label and body["number"] == str(label) and len(body["digits"]) == 1
    assert body["digits"][0]["id"] == body["id"] == body["picture_id"]


def test_expect_digit_refuses_a_number_naming_the_count_and_stores_nothing(client, twenty_26, settings):
    settings.NUMBERFIGURE_HISTORY_PUBLIC = True
    response = client.post("/api/predict?expect=digit", twenty_26, content_type="image/png")
    assert response.status_code == 422
    assert "found 4" in response.json()["error"]
    preview = client.post("/api/preview?expect=digit", {"image": data_url(twenty_26)}, content_type="application/json")
    assert preview.status_code == 422 and "found 4" in preview.json()["error"]
    assert client.post("/api/predict?expect=everything", twenty_26, content_type="image/png").status_code == 400
    assert client.get("/api/predictions", {"limit": 1}).json()["results"] == []


def test_expect_digit_takes_one_digit(client, digit_png):
    png, label = digit_png(0)
    response = client.post("/api/predict?expect=digit", png, content_type="image/png")
    assert response.status_code == 201 and response.json()["number"] == str(label)


def test_the_preview_answers_every_digit_with_its_input(client, twenty_26):
    body = client.post("/api/preview", {"image": data_url(twenty_26)}, content_type="application/json").json()
    assert_number_shape(body, "2026")
    assert all(entry["input"].startswith("data:image/png;base64,") for entry in body["digits"])


def test_the_old_upload3_answers_the_whole_number_in_data(client, twenty_26):
    response = client.post("/upload3", json.dumps({"filedata": data_url(twenty_26)}), content_type="application/json")
    assert response.status_code == 200 and response.json() == {"status": "success", "data": "2026"}
    shown = client.get("/result", {"data": response.json()["data"]})  # where the old draw page went next
    assert shown.status_code == 200 and re.search(r"The number is <span[^>]*>2026<", shown.content.decode())
    assert client.get("/result", {"data": "20x6"}).status_code == 400


def test_the_upload_page_shows_each_digit_boxed_and_labelled(client, twenty_26):
    response = client.post("/upload", {"images": io.BytesIO(twenty_26)})
    assert response.status_code == 200
    page = response.content.decode()
    assert re.search(r'data-testid="number"[^>]*>\s*2026\s*<', page)
    assert page.count('data-testid="digit-box"') == 4


def test_a_correction_changes_one_digit_only(client, twenty_26, django_user_model):
    client.force_login(django_user_model.objects.create_user("staff", password="pw-staff-123-long", is_staff=True))
    body = client.post("/api/predict", twenty_26, content_type="image/png").json()
    third = body["digits"][2]["id"]
    response = client.patch(f"/api/predictions/{third}", {"corrected_label": 7}, content_type="application/json")
    assert response.status_code == 200 and response.json()["corrected_label"] == 7
    read = client.get(f"/api/predictions/{body['id']}").json()
    assert [entry["corrected_label"] for entry in read["digits"]] == [None, None, 7, None]
    assert read["number"] == "2026"  # the model's reading; the correction is the digit's own


def test_a_retry_under_the_same_picture_id_rewrites_the_same_rows(twenty_26, cassandra, cassandra_keyspace):
    """What a retried Idempotency-Key request or an outbox replay does: the digits' ids follow from the picture's."""
    [picture_id] = new_prediction_ids(1)
    first, again = (predictions_create(uploads=[ImageUpload(twenty_26)], source="api", prediction_ids=[picture_id])
                    for _ in range(2))
    assert [digit.id for digit in first[0]] == [digit.id for digit in again[0]]
    assert first[0][0].id == picture_id
    count = cassandra.execute(f"SELECT COUNT(*) FROM {cassandra_keyspace}.{Prediction.__table_name__}").one()["count"]
    assert count == 4
