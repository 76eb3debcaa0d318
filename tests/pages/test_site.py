"""The home page and the health endpoint against the real node."""

from recognizer import health


def test_home_page_introduces_the_product(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "Numberfigure" in response.content.decode()


def test_health_check_is_ok_and_tells_the_public_no_internals(client, cassandra_keyspace):
    health.forget()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "outbox": {"depth": 0, "oldest_age_seconds": None}}


def test_staff_also_see_cassandras_details(admin_client, cassandra_keyspace):
    health.forget()
    body = admin_client.get("/healthz").json()
    assert body["cassandra"]["writable"] is True and body["cassandra"]["release_version"].startswith("5.0")
