"""POST /api/predict end to end: gunicorn with the repo's config, a 280×280 PNG, Cassandra write included.

Starts gunicorn on a free port against the local Cassandra node (keyspace ``bench_numberfigure``,
dropped at the end), warms it up, then prints p50/p99 latency at concurrency 1 and requests per
second at concurrency 16, measured by keep-alive HTTP clients in threads of this process.

    .venv/bin/python bench/api.py [--requests 500] [--workers N] [--threads N] [--server-log FILE]

Workers and threads default to the repo's gunicorn.conf.py (and its environment variables).
"""

import argparse
import http.client
import io
import os
import runpy
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
from cassandra.cluster import Cluster
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
KEYSPACE = "bench_numberfigure"


def digit_png() -> bytes:
    """A 280×280 canvas-like drawing of a 7: black strokes on white."""
    canvas = Image.new("L", (280, 280), 255)
    ImageDraw.Draw(canvas).line([(70, 60), (210, 60), (120, 230)], fill=0, width=18, joint="curve")
    out = io.BytesIO()
    canvas.save(out, "PNG")
    return out.getvalue()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def post(connection: http.client.HTTPConnection, body: bytes) -> float:
    started = time.perf_counter()
    connection.request("POST", "/api/predict", body, {"Content-Type": "image/png"})
    response = connection.getresponse()
    response.read()
    if response.status != 201:
        raise RuntimeError(f"unexpected status {response.status}")
    return (time.perf_counter() - started) * 1000


def sequential(port: int, body: bytes, count: int) -> list[float]:
    connection = http.client.HTTPConnection("127.0.0.1", port)
    return [post(connection, body) for _ in range(count)]


def concurrent(port: int, body: bytes, count: int, clients: int) -> float:
    """Requests per second with ``clients`` keep-alive connections sending ``count`` requests in all."""
    per_client = count // clients

    def run():
        connection = http.client.HTTPConnection("127.0.0.1", port)
        for _ in range(per_client):
            post(connection, body)

    threads = [threading.Thread(target=run) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return per_client * clients / (time.perf_counter() - started)


def wait_until_up(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("gunicorn exited")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("gunicorn did not answer /healthz in 60 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--workers", type=int)
    parser.add_argument("--threads", type=int)
    parser.add_argument("--server-log", type=Path, help="write gunicorn's error log and app log lines here")
    args = parser.parse_args()
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    args.workers, args.threads = args.workers or config["workers"], args.threads or config["threads"]
    port = free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "numberfigure.settings.local", "DJANGO_DEBUG": "false",
           "CASSANDRA_KEYSPACE": KEYSPACE, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_ACCESS_LOG": "/dev/null",
           "WEB_CONCURRENCY": str(args.workers), "GUNICORN_THREADS": str(args.threads), "DJANGO_LOG_LEVEL": "WARNING"}
    python = str(Path(sys.executable))
    subprocess.run([python, "manage.py", "sync_cassandra", "--verbosity", "0"], cwd=ROOT, env=env, check=True)
    log = args.server_log.open("wb") if args.server_log else subprocess.DEVNULL
    server = subprocess.Popen([python, "-m", "gunicorn", "-c", "gunicorn.conf.py", "numberfigure.wsgi"],
                              cwd=ROOT, env=env, stdout=log, stderr=log)
    body = digit_png()
    try:
        wait_until_up(port, server)
        concurrent(port, body, 64 * args.workers, 2 * args.workers)  # warm every worker and thread
        latencies = sequential(port, body, args.requests)
        rate = concurrent(port, body, args.requests * 2, 16)
    finally:
        server.terminate()
        server.wait(30)
        Cluster(["127.0.0.1"]).connect().execute(f"DROP KEYSPACE IF EXISTS {KEYSPACE}")
    p50, p99 = np.percentile(latencies, 50), np.percentile(latencies, 99)
    print(f"POST /api/predict, 280×280 PNG, gunicorn {args.workers} workers × {args.threads} threads")
    print(f"concurrency 1:  p50 {p50:.1f} ms   p99 {p99:.1f} ms   mean {statistics.mean(latencies):.1f} ms"
          f"   ({len(latencies)} requests)")
    print(f"concurrency 16: {rate:.0f} requests/s")


if __name__ == "__main__":
    main()
