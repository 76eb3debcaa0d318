"""Running servers for the deploy tests: a free port, `make run`, a request on a new connection, waiting
for an answer, stopping a process group."""

import http.client
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from helpers import free_port

REPO = Path(__file__).resolve().parents[2]


@contextmanager
def make_run(work: Path, *, keyspace: str, **env: str) -> Iterator[tuple[int, Path]]:
    """`make run` on a free port, on Cassandra ``keyspace`` with its files in ``work``, with ``env`` added,
    the Makefile and gunicorn.conf.py choosing the rest (as a person runs it); yields (port, log file in
    ``work``) once it answers GET /healthz."""
    port = free_port()
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for chosen_by_the_repo in ("DJANGO_SETTINGS_MODULE", "GUNICORN_WORKER_CLASS"):
        environment.pop(chosen_by_the_repo, None)
    environment.update(CASSANDRA_KEYSPACE=keyspace, DJANGO_VAR_DIR=str(work / "var"),
                       DJANGO_STATIC_ROOT=str(work / "static"), **env)
    log = work / "make-run.log"
    with log.open("wb") as out:
        make = subprocess.Popen(["make", "--no-print-directory", "run", f"PORT={port}"], cwd=REPO, env=environment,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for(port, make, log, "/healthz", seconds=120)
        yield port, log
    finally:
        stop(make)


def wait_for(port: int, process: subprocess.Popen, log: Path, path: str = "/result?data=3", *,
             seconds: float = 90) -> None:
    """Until GET ``path`` answers 200; fails with the log's end if the process exits or time runs out."""
    deadline = time.monotonic() + seconds
    while True:
        assert process.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, f"no answer on port {port}:\n{log.read_text()[-3000:]}"
        try:
            if request(port, "GET", path, timeout=5)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)


def request(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
            timeout: float = 30) -> tuple[int, bytes, float]:
    """(status, body, seconds) of one request on a new connection."""
    return exchange(port, method, path, body, headers, timeout)[:3]


def exchange(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
             timeout: float = 30) -> tuple[int, bytes, float, http.client.HTTPMessage]:
    """(status, body, seconds, response headers) of one request on a new connection."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers={"Host": "127.0.0.1", **(headers or {})})
        answer = connection.getresponse()
        return answer.status, answer.read(), time.perf_counter() - started, answer.headers
    finally:
        connection.close()


def stop(process: subprocess.Popen) -> None:
    """SIGTERM to the process's group (it was started with ``start_new_session``), SIGKILL after 40 s."""
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=40)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def send_whole(port: int, path: str, headers: dict, body: bytes) -> socket.socket:
    """A whole POST sent on a new connection, left open and unread: the caller closes it, as a client
    that gives up waiting for the answer."""
    head = "".join(f"{name}: {value}\r\n" for name, value in
                   {"Host": "127.0.0.1", **headers, "Content-Length": len(body)}.items())
    connection = socket.create_connection(("127.0.0.1", port))
    connection.sendall(f"POST {path} HTTP/1.1\r\n{head}\r\n".encode() + body)
    return connection


def logged(log: Path, since: int, route: str) -> list[dict]:
    """The app's request log entries (one JSON line each) for ``route``, written after byte ``since``."""
    with log.open("rb") as lines:
        lines.seek(since)
        entries = [json.loads(line) for line in lines if line.startswith(b"{")]
    return [entry for entry in entries if entry.get("route") == route]
