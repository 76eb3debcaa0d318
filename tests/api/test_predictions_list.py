"""GET /api/predictions: who may list, keyset paging through `next`, filters."""

import io

import pytest
from django.test import Client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cassandra")]


@pytest.fixture
def posted(client, digit_png):
    """Five API predictions of MNIST test digits 7 2 1 0 4, oldest first."""
    return [client.post("/api/predict", {"image": io.BytesIO(digit_png(i)[0])}, format="multipart").json()
            for i in range(5)]


def test_listing_needs_a_login_unless_the_history_is_public(posted, django_user_model, settings):
    assert Client().get("/api/predictions").status_code == 403
    settings.NUMBERFIGURE_HISTORY_PUBLIC = True
    assert Client().get("/api/predictions").status_code == 200
    settings.NUMBERFIGURE_HISTORY_PUBLIC = False
    member = Client()
    member.force_login(django_user_model.objects.create_user("reader", password="pw-reader-123"))
    assert member.get("/api/predictions").status_code == 200


def test_next_links_page_through_everything_newest_first(posted, admin_client):
    seen, url = [], "/api/predictions?limit=2"
    while url:
        body = admin_client.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
        assert len(seen) <= 5
    assert seen == [p["id"] for p in reversed(posted)]


def test_filters_and_bad_parameters(posted, admin_client):
    assert [r["id"] for r in admin_client.get("/api/predictions?digit=1").json()["results"]] == [posted[2]["id"]]
    assert admin_client.get("/api/predictions?source=draw").json()["results"] == []
    for bad in ("limit=0", "limit=x", "digit=10", "source=robot", "before=nonsense",
                "before=6f1c4c84-8f55-4b43-9f9b-0a5d2a7f0d1e"):  # the last is a UUID, but not a TimeUUID
        response = admin_client.get(f"/api/predictions?{bad}")
        assert response.status_code == 400 and response.json()["error"], bad


def test_a_raw_body_over_the_limit_is_refused_unread(client, settings):
    settings.NUMBERFIGURE_MAX_UPLOAD_BYTES = 1000
    response = client.post("/api/predict", b"\x89PNG" + b"\0" * 5000, content_type="image/png")
    assert response.status_code == 413 and "limit" in response.json()["error"]


def test_previous_links_page_back_to_the_newest(posted, admin_client):
    older = admin_client.get("/api/predictions?limit=2").json()["next"]
    page = admin_client.get(older).json()
    assert [row["id"] for row in page["results"]] == [posted[2]["id"], posted[1]["id"]]
    newest = admin_client.get(page["previous"]).json()
    assert [row["id"] for row in newest["results"]] == [posted[4]["id"], posted[3]["id"]]
    assert newest["previous"] is None and newest["next"]


def test_the_api_takes_the_history_pages_filters(posted, admin_client):
    admin_client.patch(f"/api/predictions/{posted[0]['id']}", {"corrected_label": 1}, content_type="application/json")
    assert [r["id"] for r in admin_client.get("/api/predictions?label=1").json()["results"]] == [posted[0]["id"]]
    today = posted[0]["created_at"][:10]
    assert len(admin_client.get(f"/api/predictions?date_from={today}&date_to={today}").json()["results"]) == 5
    assert admin_client.get("/api/predictions?date_from=2999-01-01").json()["results"] == []
    narrowed = admin_client.get("/api/predictions?source=api&limit=2").json()
    assert "source=api" in narrowed["next"]  # links keep the filters
