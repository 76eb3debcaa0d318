"""The pages and the old app's routes, through Django's test client, on the real model and node."""

import io
import json

import pytest
from helpers import data_url

from recognizer.models import Prediction
from recognizer.selectors import prediction_list

pytestmark = pytest.mark.usefixtures("cassandra")




def test_upload_page_offers_a_multi_file_form(client):
    page = client.get("/upload").content.decode()
    assert 'enctype="multipart/form-data"' in page and 'name="images"' in page and "multiple" in page


def test_uploading_two_files_shows_two_results_and_stores_them(client, digit_png):
    (first, a), (second, b) = digit_png(0), digit_png(1)
    response = client.post("/upload", {"images": [io.BytesIO(first), io.BytesIO(second)]})
    assert response.status_code == 200
    assert [r["digit"] for r in response.context["results"]] == [a, b]
    assert response.content.decode().count('data-testid="result"') == 2
    assert [p.digit for p in prediction_list(limit=5)] == [b, a]
    assert {p.source for p in prediction_list(limit=5)} == {"upload"}


def test_upload_of_a_non_image_says_so_on_the_page(client):
    response = client.post("/upload", {"images": [io.BytesIO(b"just text")]})
    assert response.status_code == 415
    assert "not an image" in response.context["error"]
    assert 'data-testid="error"' in response.content.decode()
    assert Prediction.objects.count() == 0


def test_upload_without_a_file_asks_for_one(client):
    response = client.post("/upload", {})
    assert response.status_code == 400 and "Choose" in response.context["error"]


def test_legacy_upload_with_field_file_shows_the_result(client, digit_png):
    png, label = digit_png(2)
    response = client.post("/upload", {"file": io.BytesIO(png)})
    assert response.status_code == 200
    assert response.context["results"][0]["digit"] == label


def test_legacy_draw_page_is_the_draw_page(client):
    legacy = client.get("/upload2")
    assert legacy.status_code == 200
    assert [t.name for t in legacy.templates][0] == "recognizer/draw.html"
    assert "<canvas" in legacy.content.decode()


@pytest.mark.parametrize("as_json", [False, True], ids=["form", "json"])
def test_legacy_upload3_answers_like_the_old_app(client, digit_png, as_json):
    png, label = digit_png(3)
    if as_json:
        response = client.post("/upload3", json.dumps({"filedata": data_url(png)}), content_type="application/json")
    else:
        response = client.post("/upload3", {"filedata": data_url(png)})
    assert response.status_code == 200
    assert response.json() == {"status": "success", "data": str(label)}
    assert prediction_list(limit=1)[0].source == "draw"


def test_legacy_upload3_refuses_bad_input_clearly(client):
    response = client.post("/upload3", {"filedata": "data:image/png;base64,!!"})
    assert response.status_code == 400 and response.json()["status"] == "error"
    assert client.post("/upload3", {}).json()["error"].startswith("Missing field 'filedata'")
    assert Prediction.objects.count() == 0


def test_legacy_result_page_shows_the_digit(client):
    response = client.get("/result", {"data": "7"})
    assert response.status_code == 200 and response.context["digit"] == "7"
    assert "The digit is" in response.content.decode()
    assert client.get("/result", {"data": "seven"}).status_code == 400


def test_stored_prediction_page_shows_both_images(client, digit_png):
    png, label = digit_png(4)
    created = client.post("/api/predict", {"image": io.BytesIO(png)}, format="multipart").json()
    page = client.get(created["url"])
    assert page.status_code == 200
    html = page.content.decode()
    assert f'/api/predictions/{created["id"]}/image' in html and f'/api/predictions/{created["id"]}/input.png' in html
    assert page.context["result"]["digit"] == label


def test_legacy_upload3_refuses_a_body_over_the_limit(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client.post("/upload3", json.dumps({"filedata": "data:image/png;base64," + "A" * 4000}),
                           content_type="application/json")
    assert response.status_code == 413 and response.json()["status"] == "error"
    assert Prediction.objects.count() == 0


def test_legacy_result_refuses_digits_of_other_scripts(client):
    assert client.get("/result", {"data": "²"}).status_code == 400
    assert client.get("/result", {"data": "٣"}).status_code == 400
