"""POST /api/predict and /api/preview against the real model and the real Cassandra node."""

import base64
import io
import json
import shutil
import time
import uuid
from pathlib import Path

import jsonschema
import pytest
from helpers import data_url
from PIL import Image

from recognizer.models import Prediction
from recognizer.selectors import prediction_get, prediction_image_get

# MNIST test images 0..9 are the digits 7 2 1 0 4 1 4 9 5 9.
SAMPLE = [0, 1, 2, 3, 4, 7, 8]

pytestmark = pytest.mark.usefixtures("cassandra")




def test_multipart_upload_is_recognised_and_stored_with_every_field(client, digit_png):
    png, label = digit_png(0)
    response = client.post("/api/predict", {"image": io.BytesIO(png)}, format="multipart")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["digit"] == label
    assert body["confidence"] == max(body["probabilities"]) > 0.9
    assert len(body["probabilities"]) == 10 and sum(body["probabilities"]) == pytest.approx(1, abs=1e-4)
    assert body["source"] == "api" and body["unsure"] is False
    assert body["created_at"].endswith("Z") and body["model_version"]

    stored = prediction_get(prediction_id=uuid.UUID(body["id"]))
    assert (stored.digit, stored.source, stored.content_type) == (label, "api", "image/png")
    assert stored.probabilities == pytest.approx(body["probabilities"])
    assert stored.latency_ms > 0 and stored.image_size == len(png)
    assert prediction_image_get(prediction_id=stored.id).data == png

    original = client.get(body["image_url"])
    assert original.status_code == 200 and original["Content-Type"] == "image/png"
    assert b"".join(original) == png
    model_input = Image.open(io.BytesIO(client.get(body["input_url"]).content))
    assert model_input.size == (28, 28)


@pytest.mark.parametrize("index", SAMPLE)
def test_json_data_url_reads_the_digit(client, digit_png, index):
    png, label = digit_png(index)
    response = client.post("/api/predict", {"image": data_url(png), "source": "draw"}, content_type="application/json")
    assert response.status_code == 201, response.content
    assert (response.json()["digit"], response.json()["source"]) == (label, "draw")


def test_bare_base64_and_raw_body_are_accepted(client, digit_png):
    png, label = digit_png(1)
    bare = client.post("/api/predict", {"image": base64.b64encode(png).decode()}, content_type="application/json")
    raw = client.post("/api/predict", png, content_type="image/png")
    assert (bare.status_code, raw.status_code) == (201, 201)
    assert bare.json()["digit"] == raw.json()["digit"] == label


def test_jpeg_is_stored_with_its_real_type(client, digit_png):
    jpeg, label = digit_png(2, fmt="JPEG")
    response = client.post("/api/predict", {"image": io.BytesIO(jpeg)}, format="multipart")
    assert response.status_code == 201
    assert response.json()["digit"] == label
    assert client.get(response.json()["image_url"])["Content-Type"] == "image/jpeg"


def test_several_images_answer_in_order(client, digit_png):
    files = [digit_png(i) for i in (0, 1, 2)]
    response = client.post("/api/predict", {"image": [io.BytesIO(png) for png, _ in files]}, format="multipart")
    assert response.status_code == 201
    results = response.json()["results"]
    assert [r["digit"] for r in results] == [label for _, label in files]
    assert len({r["id"] for r in results}) == 3


def test_preview_answers_without_storing(client, digit_png):
    png, label = digit_png(3)
    response = client.post("/api/preview", {"image": data_url(png)}, content_type="application/json")
    assert response.status_code == 200
    body = response.json()
    assert body["digit"] == label and "id" not in body
    assert Image.open(io.BytesIO(base64.b64decode(body["input"].split(",", 1)[1]))).size == (28, 28)
    assert Prediction.objects.count() == 0


def as_json_schema(node):
    """OpenAPI 3.0's ``nullable: true`` is JSON Schema's ``type: [..., "null"]``."""
    if isinstance(node, list):
        return [as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: as_json_schema(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable"):
        if "type" not in node:  # a nullable reference
            return {"anyOf": [converted, {"type": "null"}]}
        converted["type"] = [node["type"], "null"]
    return converted


def test_answers_match_the_published_schema(client, digit_png, settings):
    """What the API returns is exactly what /api/schema/ documents: fields, types, required."""
    settings.NUMBERFIGURE_HISTORY_PUBLIC = True
    schema = as_json_schema(json.loads(client.get("/api/schema/", HTTP_ACCEPT="application/json").content))
    prediction, picture = ({**schema["components"]["schemas"][name], "additionalProperties": False,
                            "components": schema["components"]} for name in ("Prediction", "Picture"))
    png, _ = digit_png(0)
    created = client.post("/api/predict", {"image": io.BytesIO(png)}, format="multipart").json()
    listed = client.get("/api/predictions", {"limit": 1}).json()["results"][0]
    read = client.get(f"/api/predictions/{created['id']}").json()

    jsonschema.validate(listed, prediction)
    for answer in (created, read):
        jsonschema.validate(answer, picture)
    assert set(created) == set(picture["required"]) and set(listed) == set(prediction["required"])
    assert created == read and listed == {name: created[name] for name in listed}


@pytest.mark.django_db
def test_schema_and_docs_are_served(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("reader", password="pw-reader-123-long"))
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")  # a reader's: with the history
    assert schema.status_code == 200
    paths = json.loads(schema.content)["paths"]
    assert {"/api/predict", "/api/preview", "/api/predictions", "/api/predictions/{prediction_id}"} <= set(paths)
    assert client.get("/api/docs/").status_code == 200


def test_a_new_model_is_picked_up_without_restart_and_recorded(client, digit_png, settings, tmp_path):
    """What `train` or `train --load` does to a running server: replace the files in the model folder."""
    model_dir = tmp_path / "model"
    shutil.copytree(Path(settings.NUMBERFIGURE_MODEL_DIR), model_dir)
    settings.NUMBERFIGURE_MODEL_DIR = model_dir
    png, _ = digit_png(0)
    first = client.post("/api/predict", png, content_type="image/png").json()

    card = json.loads((model_dir / "card.json").read_text())
    card["version"] = "2099-01-01-reloaded"
    (model_dir / "card.json").write_text(json.dumps(card))
    time.sleep(1.1)  # the server looks at the model folder at most once a second
    second = client.post("/api/predict", png, content_type="image/png").json()

    assert first["model_version"] != "2099-01-01-reloaded"
    assert second["model_version"] == "2099-01-01-reloaded"
    assert prediction_get(prediction_id=uuid.UUID(second["id"])).model_version == "2099-01-01-reloaded"
