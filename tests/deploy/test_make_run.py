"""`make run` serves the product as deployed: gunicorn with gunicorn.conf.py, static files included."""

import http.client
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.deploy


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(port: int, path: str) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path)
    response = connection.getresponse()
    response.body = response.read()
    return response


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
        deadline = time.monotonic() + 120
        while True:
            assert make.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            try:
                if get(port, "/healthz").status == 200:
                    break
            except OSError:
                time.sleep(0.5)
        yield port, log
    finally:
        os.killpg(make.pid, signal.SIGTERM)
        make.wait(60)


def test_make_run_serves_pages_and_static_files_with_gunicorn(served):
    port, log = served
    page = get(port, "/")
    assert page.status == 200
    assert page.getheader("Server", "").startswith("gunicorn")
    stylesheet = get(port, "/static/css/site.css")
    assert stylesheet.status == 200
    assert stylesheet.body == (REPO / "static" / "css" / "site.css").read_bytes()
    assert "text/css" in stylesheet.getheader("Content-Type")
    assert b"URLconf" not in get(port, "/no-such-page").body  # DEBUG is off: not Django's debug 404 page
    assert "Booting worker" in log.read_text()  # gunicorn.conf.py's workers, not runserver
