"""`make run` serves the product as deployed: gunicorn with gunicorn.conf.py, static files included."""

import pytest
from helpers.servers import make_run

from harness.server import ROOT as REPO
from harness.server import exchange

pytestmark = pytest.mark.deploy


@pytest.fixture(scope="module")
def served(cassandra_keyspace, tmp_path_factory):
    """`make run` with 2 workers, against the test keyspace; yields (port, log file)."""
    work = tmp_path_factory.mktemp("make-run")
    with make_run(work, keyspace=cassandra_keyspace, WEB_CONCURRENCY="2") as running:
        yield running


def test_make_run_serves_pages_and_static_files_with_gunicorn(served):
    port, log = served
    status, _, _, headers = exchange(port, "GET", "/")
    assert status == 200
    assert headers.get("Server", "").startswith("gunicorn")
    status, stylesheet, _, headers = exchange(port, "GET", "/static/css/site.css")
    assert status == 200
    assert stylesheet == (REPO / "static" / "css" / "site.css").read_bytes()
    assert "text/css" in headers.get("Content-Type")
    assert b"URLconf" not in exchange(port, "GET", "/no-such-page")[1]  # DEBUG is off: not Django's debug 404 page
    assert "Booting worker" in log.read_text()  # gunicorn.conf.py's workers, not runserver
