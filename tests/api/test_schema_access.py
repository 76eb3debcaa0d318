"""The OpenAPI schema lists to each caller what it may call: the staff operations
(correcting, deleting) to staff only; and a Host header we do not serve gets a generic message."""

import json

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

DETAIL = "/api/predictions/{prediction_id}"


def operations(client: Client) -> dict[str, set[str]]:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    return {path: set(item) - {"parameters"} for path, item in json.loads(response.content)["paths"].items()}


def test_anonymous_callers_see_the_public_operations_only(settings):
    settings.NUMBERFIGURE_HISTORY_PUBLIC = False
    listed = operations(Client())
    assert listed["/api/predict"] == {"post"} and listed["/api/preview"] == {"post"}
    assert listed[DETAIL] == {"get"}  # no patch, no delete
    assert "/api/predictions" not in listed  # the history needs a login


def test_staff_see_the_operations_that_change_predictions(django_user_model):
    browser = Client()
    browser.force_login(django_user_model.objects.create_user("staff", password="pw-staff-123-long", is_staff=True))
    listed = operations(browser)
    assert listed[DETAIL] == {"get", "patch", "delete"} and listed["/api/predictions"] == {"get"}


@pytest.mark.parametrize("path", ["/", "/api/predictions"])
def test_an_unknown_host_gets_a_generic_400(path):
    response = Client().get(path, HTTP_HOST="attacker.example")
    assert response.status_code == 400
    body = response.content.decode()
    assert "not served at the host name" in body
    assert "attacker.example" not in body and "ALLOWED_HOSTS" not in body
