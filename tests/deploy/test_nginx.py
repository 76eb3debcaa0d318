"""nginx in front of gunicorn, as the compose file runs them: deploy/nginx/numberfigure.conf.template
rendered as the nginx image renders it, served by Debian's nginx (scripts/nginx), in front of
gunicorn.conf.py's sync workers, against the test keyspace.

Prints the latency of normal requests while 24 connections hold half a request (`pytest -s`).
"""

import json
import os
import signal
import socket
import time
from collections import Counter
from pathlib import Path
from typing import NamedTuple

import pytest
from helpers import stored_rows
from helpers.servers import logged, send_whole

from harness.server import GUNICORN, Server, exchange, free_port, request, start
from harness.server import ROOT as REPO

HALF_OPEN = 24
# RATE_LIMIT_PREDICT of the app under test, per hour: django-ratelimit counts in fixed windows, and a burst
# that spans a window's end starts counting afresh (a per-minute rate failed CI once that way)
RATE = 5
LEAVING = 6  # clients that give up waiting
DEADLINE = 8  # GUNICORN_TIMEOUT of the app under test, seconds

pytestmark = pytest.mark.deploy


class Stack(NamedTuple):
    proxy_port: int  # nginx
    app_port: int  # gunicorn
    app_log: Path
    app: Server  # gunicorn
    proxy_log: Path  # nginx's stdout: its access log


@pytest.fixture(scope="module")
def stack(cassandra_keyspace, tmp_path_factory):
    """gunicorn (2 sync workers) and nginx in front."""
    work = tmp_path_factory.mktemp("nginx")
    app_port, proxy_port = free_port(), free_port()
    env = {name: value for name, value in os.environ.items() if name.startswith("CASSANDRA_") or name in
           ("PATH", "HOME", "LANG", "TMPDIR")}
    env.update({
        "DJANGO_SETTINGS_MODULE": "numberfigure.settings.local",
        "DJANGO_DEBUG": "false",
        "DJANGO_VAR_DIR": str(work / "var"),  # its cache/ holds the rate counts both workers share
        "CASSANDRA_KEYSPACE": cassandra_keyspace,
        "GUNICORN_BIND": f"127.0.0.1:{app_port}",
        "WEB_CONCURRENCY": "2",
        "GUNICORN_TIMEOUT": str(DEADLINE),
        "RATE_LIMIT_PREDICT": f"{RATE}/h",
        "CLIENT_IP_HEADER": "X-Real-IP",
        "PYTHONUNBUFFERED": "1",
    })
    app = start(GUNICORN, port=app_port, log=work / "gunicorn.log", env=env, ready="/result?data=3")
    try:
        proxy = start([REPO / "scripts" / "nginx", "--listen", f"127.0.0.1:{proxy_port}", "--upstream",
                       f"127.0.0.1:{app_port}", "--predict-rate", "50r/s", "--dir", work],
                      port=proxy_port, log=work / "nginx.log", ready="/result?data=3")
    except BaseException:
        app.stop()
        raise
    try:
        yield Stack(proxy_port, app_port, app.log, app, proxy.log)
    finally:
        proxy.stop()
        app.stop()


def half_open(port: int, count: int, *, in_body: bool = True) -> list[socket.socket]:
    """Connections that each send part of a request and then nothing: half of them stop in the headers,
    half in the body (``in_body``; else all in the headers)."""
    sockets = []
    for n in range(count):
        sock = socket.create_connection(("127.0.0.1", port))
        head = b"POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\nContent-Length: 100000\r\n"
        sock.sendall(head if n % 2 or not in_body else head + b"\r\n" + b"\x89PNG" + bytes(1000))
        sockets.append(sock)
    return sockets




def test_half_open_connections_leave_normal_requests_answered_within_a_second(stack):
    proxy_port, app_port = stack.proxy_port, stack.app_port
    stalled = half_open(proxy_port, HALF_OPEN)
    try:
        time.sleep(0.5)  # let nginx take them all
        timings = [request(proxy_port, "GET", f"/result?data={n % 10}", timeout=5) for n in range(10)]
        assert all(status == 200 for status, _, _ in timings)
        slowest = max(seconds for _, _, seconds in timings)
        print(f"\nthrough nginx, with {HALF_OPEN} half-open connections: slowest of 10 requests "
              f"{slowest * 1000:.0f} ms")
        assert slowest < 1.0
    finally:
        for sock in stalled:
            sock.close()

    # Without nginx a few such clients hold both sync workers: what nginx is there for. And gunicorn's
    # timeout is a real deadline: a worker stuck in one request is killed and replaced.
    # In the headers only: a request whose headers are whole reaches the app and counts against 127.0.0.1's
    # predict rate, which nginx's clients share here (they all come from 127.0.0.1).
    stalled = half_open(app_port, 4, in_body=False)
    stalled_at = time.perf_counter()
    try:
        time.sleep(0.5)
        with pytest.raises(TimeoutError):
            request(app_port, "GET", "/result?data=3", timeout=2)
        status, _, _ = request(app_port, "GET", "/result?data=3", timeout=3 * DEADLINE)
        print(f"straight to gunicorn, 4 half-open connections held both workers; a request was answered "
              f"{time.perf_counter() - stalled_at:.1f} s after they came (GUNICORN_TIMEOUT={DEADLINE})")
        assert status == 200  # the stalled clients still hold their sockets: their workers were replaced
    finally:
        for sock in stalled:
            sock.close()


def test_a_burst_through_nginx_gets_429_counted_across_workers_per_client(stack, cassandra_keyspace, digit_png):
    proxy_port = stack.proxy_port
    png, _ = digit_png(0)
    before = stored_rows(cassandra_keyspace)
    answers = [request(proxy_port, "POST", "/api/predict", body=png,
                       headers={"Content-Type": "image/png", "X-Real-IP": f"192.0.2.{n}"})  # forged: replaced
               for n in range(RATE + 3)]
    assert [status for status, _, _ in answers] == [201] * RATE + [429] * 3
    assert "Too many requests" in json.loads(answers[-1][1])["error"]
    assert stored_rows(cassandra_keyspace) == before + RATE


def test_nginx_refuses_an_oversized_body_before_reading_it_and_hides_metrics(stack):
    proxy_port = stack.proxy_port
    sock = socket.create_connection(("127.0.0.1", proxy_port), timeout=5)
    try:
        sock.sendall(b"POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\n"
                     b"Content-Length: 500000000\r\n\r\n")
        answer = sock.recv(4096).decode()
    finally:
        sock.close()
    assert answer.startswith("HTTP/1.1 413") and '"error"' in answer
    assert request(proxy_port, "GET", "/metrics")[0] == 404


def test_a_request_whose_client_leaves_while_it_waits_for_a_worker_is_dropped(stack, digit_png):
    """nginx closes its connection to the app when the client goes (proxy_ignore_client_abort off); a
    request it had passed on gets a 499 from the app without being recognised (web/clients.py)."""
    png, _ = digit_png(3)
    preview = {"Content-Type": "image/png"}
    since = stack.app_log.stat().st_size
    workers = stack.app.workers()

    for pid in workers:  # stopped, as if busy: what nginx passes on waits in gunicorn's backlog
        os.kill(pid, signal.SIGSTOP)
    try:
        leaving = [send_whole(stack.proxy_port, "/api/preview", preview, png) for _ in range(LEAVING)]
        wait_until(lambda: requests_waiting(stack.app_port, len(png)) == LEAVING)  # passed on whole by nginx
        for connection in leaving:
            connection.close()
        time.sleep(0.3)  # nginx closes its side of each
    finally:
        for pid in workers:
            os.kill(pid, signal.SIGCONT)
    assert request(stack.proxy_port, "POST", "/api/preview", png, preview)[0] == 200

    # a worker that replaced one the tests before stopped may still be starting: wait for every answer
    wait_until(lambda: len(logged(stack.app_log, since, "/api/preview")) >= LEAVING + 1, seconds=60)
    assert Counter(entry["status"] for entry in logged(stack.app_log, since, "/api/preview")) == {200: 1, 499: LEAVING}


def requests_waiting(port: int, size: int) -> int:
    """Connections to 127.0.0.1:``port`` holding at least ``size`` bytes nobody has read (/proc/net/tcp)."""
    waiting = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        _, local, _, state, queues, *_ = line.split()
        if local == f"0100007F:{port:04X}" and state == "01" and int(queues.split(":")[1], 16) >= size:
            waiting += 1
    return waiting


def wait_until(condition, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_neither_log_names_a_prediction_id(stack):
    """nginx's access log writes <id> for an id in a path and leaves query strings out; the app's log of
    the same 404 masks it too."""
    prediction_id = "f0461186-f1fb-11f1-98af-0023cbbf0749"
    proxy_since, app_since = stack.proxy_log.stat().st_size, stack.app_log.stat().st_size
    status, _, _, headers = exchange(stack.proxy_port, "GET", f"/api/predictions/{prediction_id}?after={prediction_id}")
    assert status == 404
    wait_until(lambda: headers["X-Request-ID"] in stack.proxy_log.read_text()[proxy_since:])
    access = stack.proxy_log.read_text()[proxy_since:]
    assert '"GET /api/predictions/<id>" 404' in access and prediction_id not in access
    app = stack.app_log.read_text()[app_since:]
    assert "Not Found: /api/predictions/<id>" in app and prediction_id not in app
