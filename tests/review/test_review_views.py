"""The review page's routes: who may use them, what they hand out, and to whom."""

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.test import Client

from recognizer.selectors import prediction_get

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("ann", password="pw-ann-123456", is_staff=True)


def reviewer(django_user_model, name: str) -> Client:
    client = Client()
    client.force_login(django_user_model.objects.create_user(name, password=f"pw-{name}-123456", is_staff=True))
    return client


def items(client, **params) -> dict:
    response = client.get("/review/items", {"count": 5, **params}, HTTP_ACCEPT="application/json")
    assert response.status_code == 200, response.content
    return response.json()


def decide(client, prediction_id, **form):
    return client.post(f"/review/{prediction_id}/decide", form, HTTP_ACCEPT="application/json")


def test_only_staff_review_and_the_history_and_admin_link_to_it(client, cassandra, django_user_model, staff):
    assert client.get("/review").status_code == 302
    client.force_login(django_user_model.objects.create_user("viewer", password="pw-viewer-1234"))
    assert client.get("/review").status_code == 302
    assert client.get("/review/items").status_code == 302
    client.force_login(staff)
    page = client.get("/review")
    assert page.status_code == 200 and b"data-testid=\"review-help\"" in page.content
    assert b'href="/review"' in client.get("/history").content
    staff.is_superuser = True
    staff.save()
    assert b'href="/review"' in client.get("/admin/").content


def test_bad_queries_and_decisions_are_clear_400s(client, staff, queue):
    (stored,) = queue(1)
    client.force_login(staff)
    bad = client.get("/review/items", {"digit": "x"}, HTTP_ACCEPT="application/json")
    assert bad.status_code == 400 and "digit" in bad.json()["error"]
    assert client.get("/review?date_from=2026-12-07&date_to=2026-12-01").status_code == 400
    assert client.get("/review/items", {"exclude": "nope"}, HTTP_ACCEPT="application/json").status_code == 400
    assert decide(client, stored.id, action="label").status_code == 400  # no label
    assert decide(client, stored.id, action="label", label="12").status_code == 400
    assert decide(client, stored.id, action="burn").status_code == 400
    assert prediction_get(prediction_id=stored.id).corrected_label is None


def test_items_come_most_doubtful_first_with_the_count_left(client, staff, queue):
    stored = queue(6)
    client.force_login(staff)
    body = items(client, count=6)
    assert body["left"] == 6
    doubts = [item["doubt"] for item in body["items"]]
    assert doubts[0] == max(doubts) and {item["id"] for item in body["items"]} == {str(p.id) for p in stored}
    first = body["items"][0]
    assert len(first["top"]) == 3 and first["top"][0]["digit"] == first["digit"]
    assert first["input_url"].startswith("data:image/png;base64,")


def test_a_confirmation_is_a_label_and_the_prediction_leaves_the_queue(client, staff, queue):
    stored = queue(2)
    client.force_login(staff)
    answer = decide(client, stored[0].id, action="label", label=str(stored[0].digit))
    assert answer.status_code == 200 and answer.json() == {"id": str(stored[0].id), "label": stored[0].digit,
                                                          "confirmed": True}
    assert prediction_get(prediction_id=stored[0].id).corrected_by == "ann"
    assert [item["id"] for item in items(client)["items"]] == [str(stored[1].id)]
    assert items(client)["left"] == 1


def test_a_deleted_prediction_leaves_the_queue(client, staff, queue):
    stored = queue(3)
    client.force_login(staff)
    assert client.post(f"/history/{stored[1].id}/delete").status_code == 302
    body = items(client)
    assert str(stored[1].id) not in {item["id"] for item in body["items"]} and len(body["items"]) == 2
    assert body["left"] == 2
    assert decide(client, stored[1].id, action="label", label="1").status_code == 404


def test_concurrent_reviewers_get_different_predictions_until_the_lease_ends(settings, django_user_model, queue):
    settings.NUMBERFIGURE_REVIEW_LEASE_SECONDS = 2
    stored = queue(8)
    clients = [reviewer(django_user_model, name) for name in ("ann", "bob", "cy", "dee")]
    with ThreadPoolExecutor(4) as pool:
        handed = list(pool.map(lambda client: [item["id"] for item in items(client, count=2)["items"]], clients))
    everyone = [item for mine in handed for item in mine]
    assert len(everyone) == len(set(everyone)) == 8  # nobody got another's
    late = reviewer(django_user_model, "eve")
    assert items(late, count=8)["items"] == []  # all held by someone
    assert set(handed[0]) <= {item["id"] for item in items(clients[0], count=8)["items"]}  # still ann's
    time.sleep(3)  # the leases end: unlabelled ones are handed out again
    assert {item["id"] for item in items(late, count=8)["items"]} == {str(p.id) for p in stored}


def test_a_skipped_prediction_comes_back_later(settings, client, staff, queue):
    settings.NUMBERFIGURE_REVIEW_SKIP_SECONDS = 2
    stored = queue(2)
    client.force_login(staff)
    first = items(client, count=1)["items"][0]["id"]
    assert decide(client, first, action="skip").json()["skipped"] is True
    assert [item["id"] for item in items(client, count=2, exclude="")["items"]] != [first]
    time.sleep(3)
    assert first in {item["id"] for item in items(client, count=2)["items"]}
    assert prediction_get(prediction_id=stored[0].id).corrected_label is None


def test_undo_clears_the_label_and_hands_the_prediction_back(client, staff, queue, django_user_model):
    stored = queue(1)
    client.force_login(staff)
    decide(client, stored[0].id, action="label", label="4")
    answer = decide(client, stored[0].id, action="undo")
    assert answer.json()["label"] is None and prediction_get(prediction_id=stored[0].id).corrected_label is None
    other = reviewer(django_user_model, "bob")
    assert items(other)["items"] == []  # still ann's to decide again
    assert [item["id"] for item in items(client)["items"]] == [str(stored[0].id)]
    decide(client, stored[0].id, action="label", label="9")
    assert prediction_get(prediction_id=stored[0].id).corrected_label == 9
    entry = json.loads(json.dumps(answer.json()))
    assert entry["id"] == str(stored[0].id)
