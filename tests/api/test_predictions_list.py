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
