"""One client address for rate limits, login lockouts and logs: the trusted proxy's header, validated,
else the peer."""

import base64
import json
import logging

import pytest
from django.test import Client

NGINX = "127.0.0.1"  # the test client's peer address, in TRUSTED_PROXIES by default, as nginx would be


@pytest.fixture
def behind_nginx(settings):
    """The app as compose runs it: the client's address in X-Real-IP, set by the proxy."""
    settings.NUMBERFIGURE_CLIENT_IP_META_KEY = "HTTP_X_REAL_IP"


def login(client: Client, password: str, address: str, **extra):
    return client.post("/admin/login/", {"username": "admin", "password": password},
                       HTTP_X_REAL_IP=address, REMOTE_ADDR=extra.pop("peer", NGINX), **extra)


@pytest.mark.django_db
@pytest.mark.usefixtures("behind_nginx")
def test_a_lockout_through_the_proxy_keeps_out_only_the_address_that_guessed(django_user_model, settings):
    django_user_model.objects.create_user("admin", password="right-password-123", is_staff=True)
    attacker, owner = Client(), Client()
    statuses = [login(attacker, "wrong", "198.51.100.66").status_code for _ in range(settings.AXES_FAILURE_LIMIT + 1)]
    assert statuses == [200] * (settings.AXES_FAILURE_LIMIT - 1) + [429, 429]
    assert login(attacker, "right-password-123", "198.51.100.66").status_code == 429
    assert login(owner, "right-password-123", "203.0.113.20").status_code == 302  # the owner gets in


@pytest.mark.django_db
@pytest.mark.usefixtures("behind_nginx")
def test_a_direct_client_cannot_pick_its_address_with_the_header(django_user_model, settings):
    """A peer that is no trusted proxy (gunicorn reached directly) is counted by its own address."""
    django_user_model.objects.create_user("admin", password="right-password-123", is_staff=True)
    direct = Client()
    for n in range(settings.AXES_FAILURE_LIMIT):
        login(direct, "wrong", f"198.51.100.{n}", peer="203.0.113.99")  # a new "address" on each try
    assert login(direct, "right-password-123", "198.51.100.200", peer="203.0.113.99").status_code == 429


@pytest.mark.usefixtures("behind_nginx", "cassandra_keyspace")
def test_x_forwarded_for_counts_the_address_the_proxy_appended(settings, client, seven):
    settings.NUMBERFIGURE_CLIENT_IP_META_KEY = "HTTP_X_FORWARDED_FOR"
    settings.NUMBERFIGURE_RATE_LIMITS = {"predict": "1/m", "preview": "1/m", "api": "1/m"}
    body = {"image": "data:image/png;base64," + base64.b64encode(seven).decode()}

    def preview(forwarded: str) -> int:
        return client.post("/api/preview", body, content_type="application/json",
                           HTTP_X_FORWARDED_FOR=forwarded).status_code

    assert preview("1.1.1.1, 198.51.100.7") == 200  # the client's forged entry, then what nginx appended
    assert preview("2.2.2.2, 198.51.100.7") == 429  # the same client, whatever it writes first
    assert preview("198.51.100.8, 10.0.0.5") == 200  # a load balancer (trusted) appended after the client


BAD_VALUES = ["", "not-an-address", "999.1.1.1", "198.51.100.1, ", "198.51.100.1,,", "::::", "1" * 2000,
              "198.51.100.1 198.51.100.2", "\u0661\u0662\u0663.1.1.1", "fe80::1%eth0%"]


@pytest.mark.django_db
@pytest.mark.usefixtures("behind_nginx", "cassandra_keyspace")
@pytest.mark.parametrize("value", BAD_VALUES)
def test_a_bad_header_value_is_answered_and_counted_as_the_peer(value, client, seven, caplog):
    caplog.set_level(logging.INFO, logger="numberfigure.requests")
    body = {"image": "data:image/png;base64," + base64.b64encode(seven).decode()}
    preview = client.post("/api/preview", body, content_type="application/json", HTTP_X_REAL_IP=value)
    assert preview.status_code == 200
    page = client.post("/admin/login/", {"username": "admin", "password": "wrong"}, HTTP_X_REAL_IP=value)
    assert page.status_code == 200  # the form again
    clients = [json.loads(r.getMessage())["client"] for r in caplog.records if r.name == "numberfigure.requests"]
    assert clients == [NGINX, NGINX]


@pytest.mark.usefixtures("behind_nginx")
def test_the_request_log_names_the_client_behind_the_proxy(client, caplog):
    caplog.set_level(logging.INFO, logger="numberfigure.requests")
    client.get("/", HTTP_X_REAL_IP="2001:db8::7")
    [line] = [json.loads(r.getMessage()) for r in caplog.records if r.name == "numberfigure.requests"]
    assert line["client"] == "2001:db8::7"
