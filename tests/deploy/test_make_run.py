"""`make run` serves the product as deployed: gunicorn with gunicorn.conf.py, static files included."""

import os
import subprocess
from pathlib import Path

import pytest
from servers import exchange, free_port, stop, wait_for

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.deploy


@pytest.fixture(scope="module")
def served(cassandra_keyspace, tmp_path_factory):
    """`make run` on a free port, against the test keyspace; yields (port, log file)."""
    work = tmp_path_factory.mktemp("make-run")
    port = free_port()
    env = {**os.environ, "CASSANDRA_KEYSPACE": cassandra_keyspace, "DJANGO_VAR_DIR": str(work / "var"),
           "DJANGO_STATIC_ROOT": str(work / "static"), "WEB_CONCURRENCY": "2", "PYTHONUNBUFFERED": "1"}
    env.pop("DJANGO_SETTINGS_MODULE", None)  # as a person runs it: the Makefile chooses
    log = work / "make-run.log"
    with log.open("wb") as out:
        make = subprocess.Popen(["make", "--no-print-directory", "run", f"PORT={port}"], cwd=REPO, env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for(port, make, log, "/healthz", seconds=120)
        yield port, log
    finally:
        stop(make)


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
