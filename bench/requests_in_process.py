"""Whole API requests in one process: Django's WSGI handler with every middleware, no server, no socket.

POST /api/predict and /api/preview with bench/api.py's 280×280 PNG, and a GET nothing answers (the
404), one at a time; per request the wall time and the CPU of this process (the request's thread, the
Cassandra driver's and the stats' threads). Each figure is the lowest of the rounds' medians: the
machine is shared, and what the code costs is what it takes when nothing else runs. The metrics run
in multiprocess mode and the rate limits count (raised out of the way), as in `make run`; the request
log line is formatted but not written.

    .venv/bin/python bench/requests_in_process.py [--tree PATH] [--rounds 5] [--keyspace NAME]

``--tree`` imports the app from another checkout (e.g. ``git archive OLD | tar -x -C /tmp/old``) to
compare two versions on the same machine: run both in turns. The keyspace is dropped at the end.
"""

import argparse
import io
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import report  # bench/report.py: --output

BENCH = Path(__file__).resolve().parent


def environ(method: str, path: str, body: bytes) -> dict:
    return {"REQUEST_METHOD": method, "PATH_INFO": path, "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000",
            "REMOTE_ADDR": "127.0.0.1", "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body)),
            "CONTENT_TYPE": "image/png", "wsgi.url_scheme": "http", "HTTP_HOST": "127.0.0.1",
            "SERVER_PROTOCOL": "HTTP/1.1"}


def timed(handler, method: str, path: str, body: bytes, count: int) -> tuple[float, float]:
    """(median wall ms, CPU ms per request) over ``count`` requests."""
    walls, cpu = [], time.process_time()
    for _ in range(count):
        request = environ(method, path, body)
        started = time.perf_counter()
        response = handler(request, lambda status, headers, exc_info=None: None)
        b"".join(response)
        response.close()
        walls.append((time.perf_counter() - started) * 1000)
    return statistics.median(walls), (time.process_time() - cpu) * 1000 / count


@report.writes_output
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=BENCH.parent, help="the checkout to import the app from")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--keyspace", default="bench_requests", help="Cassandra keyspace (dropped at the end)")
    report.add_argument(parser)
    args = parser.parse_args()
    var = tempfile.mkdtemp(prefix="bench-requests-")
    unlimited = "1000000/s"
    os.environ.update(DJANGO_DEBUG="false", DJANGO_SETTINGS_MODULE="numberfigure.settings.local",
                      CASSANDRA_KEYSPACE=args.keyspace, DJANGO_VAR_DIR=var, PROMETHEUS_MULTIPROC_DIR=f"{var}/metrics",
                      RATE_LIMIT_PREDICT=unlimited, RATE_LIMIT_PREVIEW=unlimited, RATE_LIMIT_API=unlimited)
    sys.path[:0] = [str(args.tree.resolve()), str(BENCH)]
    import django

    django.setup()
    import api  # bench/api.py: the PNG
    from cassandra.cqlengine import connection
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.management import call_command

    call_command("sync_cassandra", verbosity=0)
    request_log = logging.getLogger("numberfigure.requests")
    request_log.handlers, request_log.propagate = [logging.NullHandler()], False
    logging.getLogger("django.request").setLevel(logging.ERROR)  # "Not Found: ..." for each 404
    png, handler = api.digit_png(), WSGIHandler()
    requests = {"predict": ("POST", "/api/predict", png, 300), "preview": ("POST", "/api/preview", png, 300),
                "404": ("GET", "/api/no-such-address", b"", 1500)}
    try:
        for method, path, body, count in requests.values():  # the model loads, the driver connects
            timed(handler, method, path, body, count // 6)
        rounds = {name: [] for name in requests}
        for _ in range(args.rounds):
            for name, request in requests.items():
                rounds[name].append(timed(handler, *request))
        print(f"{args.tree}: lowest of {args.rounds} rounds' medians, ms per request")
        for name, figures in rounds.items():
            wall, cpu = min(wall for wall, _ in figures), min(cpu for _, cpu in figures)
            print(f"  {name:<8} wall {wall:6.3f}  CPU {cpu:6.3f}")
    finally:
        connection.get_session().execute(f"DROP KEYSPACE IF EXISTS {args.keyspace}", timeout=60)


if __name__ == "__main__":
    main()
