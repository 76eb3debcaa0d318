"""The home page and the health endpoint against the real node."""


def test_home_page_introduces_the_product(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "Numberfigure" in response.content.decode()


def test_health_check_reports_cassandra_reachable(client, cassandra_keyspace):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["cassandra"]["reachable"] is True
    assert body["cassandra"]["release_version"].startswith("5.0")
