"""`make run` started for a deploy test, and what those tests do to a running server beyond a request
(the starting, waiting, requests and stopping are ``harness.server``'s, shared with the benches)."""

import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from harness.server import environment, free_port, make_run_command, start


@contextmanager
def make_run(work: Path, *, keyspace: str, **env: str) -> Iterator[tuple[int, Path]]:
    """`make run` on a free port, on Cassandra ``keyspace`` with its files in ``work``, with ``env`` added,
    the Makefile and gunicorn.conf.py choosing the rest (as a person runs it); yields (port, log file in
    ``work``) once it answers GET /healthz."""
    port = free_port()
    server = start(make_run_command(port), port=port, log=work / "make-run.log", env=environment(
        DJANGO_SETTINGS_MODULE=None, GUNICORN_WORKER_CLASS=None, CASSANDRA_KEYSPACE=keyspace,
        DJANGO_VAR_DIR=str(work / "var"), DJANGO_STATIC_ROOT=str(work / "static"), **env))
    try:
        yield port, server.log
    finally:
        server.stop()


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
