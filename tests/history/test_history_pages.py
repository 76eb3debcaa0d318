"""History, correction and deletion through the pages and the API: who may do what, CSRF, exports."""

import csv
import io
import json

import numpy as np
import pytest
from django.core.management import call_command
from django.test import Client
from helpers import peaked

from recognizer.ml.mnist import read_idx
from recognizer.preprocessing import to_png
from recognizer.selectors import prediction_get, prediction_stats
from recognizer.services import prediction_correct, prediction_store

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cassandra")]


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("staff", password="pw-staff-123", is_staff=True)


@pytest.fixture
def member(django_user_model):
    return django_user_model.objects.create_user("member", password="pw-member-123")


@pytest.fixture
def mnist_input(mnist_test):
    """MNIST test image ``index`` as the model's float input, and its label."""
    images, labels = mnist_test
    return lambda index: (images[index].astype(np.float32) / 255, int(labels[index]))


@pytest.fixture
def stored(digit_png, mnist_input):
    """Three predictions with real 28×28 inputs made from MNIST digits 7, 2, 1."""
    made = []
    for index in (0, 1, 2):
        array, label = mnist_input(index)
        probabilities = peaked(label, 0.91, 0.01)
        made.append(prediction_store(source="upload", filename=f"{index}.png", content_type="image/png",
                                      image=digit_png(index)[0], input_png=to_png(array),
                                      probabilities=probabilities, model_version="t", latency_ms=2.0))
    return made


def test_history_needs_login_unless_public(client, member, stored, settings):
    assert client.get("/history").status_code == 302
    settings.NUMBERFIGURE_HISTORY_PUBLIC = True
    assert client.get("/history").status_code == 200
    settings.NUMBERFIGURE_HISTORY_PUBLIC = False
    client.force_login(member)
    page = client.get("/history")
    assert page.status_code == 200
    assert [row.id for row in page.context["rows"]] == [p.id for p in reversed(stored)]


def test_history_filters_and_invalid_filters(client, staff, stored):
    client.force_login(staff)
    assert [r.id for r in client.get("/history", {"digit": "2"}).context["rows"]] == [stored[1].id]
    assert client.get("/history", {"digit": "12"}).status_code == 400
    assert client.get("/history", {"date_from": "2026-02-02", "date_to": "2026-01-01"}).status_code == 400
    bad_cursor = client.get("/history", {"before": "6f1c4c84-8f55-4b43-9f9b-0a5d2a7f0d1e"})  # not a TimeUUID
    assert bad_cursor.status_code == 400 and "Enter a prediction id." in bad_cursor.content.decode()


def test_older_and_newer_links_walk_the_history_and_keep_the_filters(client, staff, stored):
    client.force_login(staff)
    newest = client.get("/history", {"source": "upload", "limit": "2"})
    assert [r.id for r in newest.context["rows"]] == [stored[2].id, stored[1].id]
    assert newest.context["newer_url"] is None and "source=upload" in newest.context["older_url"]
    oldest = client.get("/history" + newest.context["older_url"])
    assert [r.id for r in oldest.context["rows"]] == [stored[0].id] and oldest.context["older_url"] is None
    back = client.get("/history" + oldest.context["newer_url"])
    assert [r.id for r in back.context["rows"]] == [stored[2].id, stored[1].id]
    assert back.context["newer_url"] is None  # the newest page again


def test_staff_corrects_and_stats_follow(client, staff, stored):
    client.force_login(staff)
    target = stored[0]
    response = client.post(f"/history/{target.id}", {"label": "4"})
    assert response.status_code == 302
    assert prediction_get(prediction_id=target.id).corrected_label == 4
    assert prediction_get(prediction_id=target.id).corrected_by == "staff"
    assert prediction_stats().labelled == 1
    assert [r.id for r in client.get("/history", {"label": "4"}).context["rows"]] == [target.id]
    stats_page = client.get("/stats")
    assert stats_page.status_code == 200 and stats_page.context["stats"].confusion[4][7] == 1


def test_non_staff_cannot_correct_or_delete(client, member, stored):
    client.force_login(member)
    target = stored[0]
    assert client.post(f"/history/{target.id}", {"label": "4"}).status_code == 302  # to the login page
    assert client.post(f"/history/{target.id}/delete").status_code == 302
    assert prediction_get(prediction_id=target.id).corrected_label is None
    api = client.patch(f"/api/predictions/{target.id}", {"corrected_label": 4}, content_type="application/json")
    assert api.status_code == 403 and "error" in api.json()
    assert client.delete(f"/api/predictions/{target.id}").status_code == 403
    assert Client().delete(f"/api/predictions/{target.id}").status_code in (401, 403)
    assert prediction_get(prediction_id=target.id) is not None


def test_csrf_is_enforced_on_forms_and_session_api(staff, stored):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff)
    target = stored[0]
    assert browser.post(f"/history/{target.id}", {"label": "4"}).status_code == 403
    assert browser.post(f"/history/{target.id}/delete").status_code == 403
    api = browser.patch(f"/api/predictions/{target.id}", {"corrected_label": 4}, content_type="application/json")
    assert api.status_code == 403
    assert prediction_get(prediction_id=target.id).corrected_label is None
    # With the token from the page, the same form works.
    page = browser.get(f"/history/{target.id}")
    token = page.cookies["csrftoken"].value
    assert browser.post(f"/history/{target.id}", {"label": "4", "csrfmiddlewaretoken": token}).status_code == 302


def test_api_token_lets_staff_correct_and_delete(staff, stored):
    from recognizer.tokens.services import token_create

    _, key = token_create(user=staff, name="label sync")
    api = Client(HTTP_AUTHORIZATION=f"Token {key}")
    target = stored[1]
    response = api.patch(f"/api/predictions/{target.id}", {"corrected_label": 3}, content_type="application/json")
    assert response.status_code == 200 and response.json()["corrected_label"] == 3
    bad = api.patch(f"/api/predictions/{target.id}", {"corrected_label": 12}, content_type="application/json")
    assert bad.status_code == 400 and "corrected_label" in bad.json()["error"]
    assert api.delete(f"/api/predictions/{target.id}").status_code == 204
    assert prediction_get(prediction_id=target.id) is None
    assert api.get(f"/api/predictions/{target.id}").status_code == 404


def test_staff_deletes_from_the_page(client, staff, stored):
    client.force_login(staff)
    assert client.post(f"/history/{stored[2].id}/delete").status_code == 302
    assert prediction_get(prediction_id=stored[2].id) is None
    assert prediction_stats().total == 2


def test_exports_stream_every_matching_row(client, staff, stored):
    client.force_login(staff)
    response = client.get("/history/export.csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["id"] for r in rows] == [str(p.id) for p in reversed(stored)]
    lines = b"".join(client.get("/history/export.jsonl", {"digit": "1"}).streaming_content).decode().splitlines()
    assert [json.loads(line)["id"] for line in lines] == [str(stored[2].id)]


def test_export_dataset_round_trips_through_idx(stored, mnist_input, tmp_path):
    prediction_correct(prediction=stored[0], label=7, user="staff")
    prediction_correct(prediction=stored[1], label=3, user="staff")
    call_command("export_dataset", str(tmp_path), stdout=io.StringIO())
    labels = read_idx(tmp_path / "labels-idx1-ubyte")
    images = read_idx(tmp_path / "images-idx3-ubyte")
    assert sorted(labels.tolist()) == [3, 7] and images.shape == (2, 28, 28)
    assert sorted(p.parent.name for p in tmp_path.glob("png/*/*.png")) == ["3", "7"]
    expected = {7: mnist_input(0)[0], 3: mnist_input(1)[0]}
    for image, label in zip(images, labels, strict=True):
        assert np.abs(image / 255 - expected[int(label)]).max() < 1 / 255 + 1e-6
    call_command("export_dataset", str(tmp_path / "all"), confident_above=0.9, stdout=io.StringIO())
    assert len(read_idx(tmp_path / "all" / "labels-idx1-ubyte")) == 3


def test_admin_index_lists_predictions(client, staff):
    client.force_login(staff)
    page = client.get("/admin/").content.decode()
    assert 'href="/history"' in page and "Predictions" in page and 'href="/stats"' in page


def test_csv_export_does_not_hand_spreadsheets_a_formula(client, staff):
    probabilities = [0.02] * 9 + [0.82]
    prediction_store(source="api", filename='=HYPERLINK("http://x")', content_type="image/png", image=b"i",
                      input_png=b"p", probabilities=probabilities, model_version="t", latency_ms=1.0)
    client.force_login(staff)
    rows = list(csv.DictReader(io.StringIO(b"".join(client.get("/history/export.csv").streaming_content).decode())))
    assert rows[0]["filename"] == '\'=HYPERLINK("http://x")'
