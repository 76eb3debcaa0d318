"""A worker's threads share one lazily connected Cassandra session."""

import threading
import time
import uuid

import pytest
from cassandra.cluster import NoHostAvailable
from cassandra.cqlengine import connection
from django.conf import settings


def first_use_from_threads(port: int, threads: int = 8) -> list:
    """Register a lazy connection, then use it from ``threads`` threads at once, as a fresh gthread
    worker does with its first requests; return what each got (a row or an exception)."""
    name = f"lazy-{uuid.uuid4().hex}"
    options = settings.DATABASES["cassandra"]["OPTIONS"]["connection"]
    connection.register_connection(
        name, hosts=["127.0.0.1"], lazy_connect=True, retry_connect=True,
        cluster_options={"port": port, "connect_timeout": options["connect_timeout"]},
    )
    start, results = threading.Barrier(threads), []

    def use():
        start.wait()
        try:
            results.append(connection.get_session(name).execute("SELECT release_version FROM system.local").one())
        except Exception as error:  # noqa: BLE001 - the test inspects what each thread got
            results.append(error)

    workers = [threading.Thread(target=use) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    connection.unregister_connection(name)
    return results


@pytest.mark.cassandra
def test_concurrent_first_queries_all_get_the_connected_session(cassandra):
    results = first_use_from_threads(settings.DATABASES["cassandra"]["OPTIONS"]["connection"]["port"])
    assert len(results) == 8
    assert all(isinstance(row, dict) and row["release_version"].startswith("5.") for row in results), results


def test_concurrent_first_queries_without_a_server_fail_as_unreachable():
    results = first_use_from_threads(port=1)  # nothing listens there
    assert len(results) == 8
    assert all(isinstance(error, NoHostAvailable) for error in results), results


def test_a_contact_point_that_does_not_resolve_yet_is_unreachable_then_recovers(cassandra, monkeypatch):
    """As compose's ``cassandra`` host name while that container is down: a 503, never a 500, and
    the worker connects by itself once the name resolves."""
    from recognizer.storage import connection as lazy

    monkeypatch.setattr(lazy, "RETRY_SECONDS", 0.2)
    name = f"lazy-{uuid.uuid4().hex}"
    port = settings.DATABASES["cassandra"]["OPTIONS"]["connection"]["port"]
    connection.register_connection(name, hosts=["cassandra-not-up-yet.invalid"], lazy_connect=True,
                                   retry_connect=True, cluster_options={"port": port, "connect_timeout": 2})
    try:
        for _ in range(2):  # the second attempt fails fast, without a new connect
            with pytest.raises(NoHostAvailable):
                connection.get_session(name)
        connection._connections[name].hosts = ["127.0.0.1"]  # the name resolves now
        time.sleep(0.3)
        assert connection.get_session(name).execute("SELECT release_version FROM system.local").one()
    finally:
        connection.unregister_connection(name)
