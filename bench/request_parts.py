"""Small parts of an API request, in one process, each beside what it replaced or could be replaced by.

- the request metrics: numberfigure.observability's middleware, and django-prometheus's pair
  (``--django-prometheus DIR``: a folder it was installed in, e.g.
  ``pip install --no-deps --target DIR django-prometheus==2.4.1``; it is no dependency of the app);
- the pages' messages, frame-options and CSP middleware on a JSON API request: Django's and
  django-csp's own, and numberfigure.pages_only's;
- a new prediction's statements (``writes.creation``: bound, ready for the batch), the batch built from
  them, and what the prediction adds to the stats (``stats.contribution``).

Microseconds per call over and above a bare view answering JSON; each the lowest of ``--rounds``
rounds (the machine is shared: what the code costs is what it takes when nothing else runs). The
metrics run in multiprocess mode, as in `make run`.

    .venv/bin/python bench/request_parts.py [--rounds 7] [--keyspace NAME] [--django-prometheus DIR]
"""

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import report  # bench/report.py: --output

ROOT = Path(__file__).resolve().parents[1]


def lowest(calls: dict[str, Callable[[], object]], rounds: int, count: int) -> dict[str, float]:
    """µs per call of each, the lowest over the rounds; the callables take turns within a round."""
    best = dict.fromkeys(calls, float("inf"))
    for _ in range(rounds):
        for name, call in calls.items():
            started = time.perf_counter()
            for _ in range(count):
                call()
            best[name] = min(best[name], (time.perf_counter() - started) / count * 1e6)
    return best


def middleware(args) -> None:
    from csp.middleware import CSPMiddleware
    from django.contrib.messages.middleware import MessageMiddleware
    from django.contrib.sessions.middleware import SessionMiddleware
    from django.http import JsonResponse
    from django.middleware.clickjacking import XFrameOptionsMiddleware
    from django.test import RequestFactory
    from django.urls import resolve

    from numberfigure import pages_only
    from numberfigure.observability import MetricsMiddleware

    factory, sessions = RequestFactory(), SessionMiddleware(lambda request: None)

    def request():
        made = factory.post("/api/preview", b"", content_type="image/png")
        made.resolver_match = resolve("/api/preview")
        sessions.process_request(made)
        return made

    def view(_):
        return JsonResponse({"digit": 7, "confidence": 0.99})

    chains = {
        "bare view": view,
        "request metrics (ours)": MetricsMiddleware(view),
        "pages' middleware (Django, django-csp)": MessageMiddleware(XFrameOptionsMiddleware(CSPMiddleware(view))),
        "pages' middleware (pages_only)": pages_only.MessagesOnPages(pages_only.FrameOptionsOnPages(
            pages_only.ContentSecurityPolicyOnPages(view))),
    }
    if args.django_prometheus:
        sys.path.insert(0, str(args.django_prometheus))
        from django_prometheus.middleware import PrometheusAfterMiddleware, PrometheusBeforeMiddleware

        chains["request metrics (django-prometheus)"] = PrometheusBeforeMiddleware(PrometheusAfterMiddleware(view))
    requests = [request() for _ in range(args.count)]
    best = dict.fromkeys(chains, float("inf"))
    for _ in range(args.rounds):  # a fresh request each call, as the middleware sets attributes on it
        for name, chain in chains.items():
            started = time.perf_counter()
            for made in requests:
                chain(made)
            best[name] = min(best[name], (time.perf_counter() - started) / args.count * 1e6)
    print(f"Middleware on POST /api/preview, µs per request beyond the bare view ({best['bare view']:.1f} µs):")
    for name, micros in best.items():
        if name != "bare view":
            print(f"  {name:<40} {micros - best['bare view']:6.1f}")


def storage(args) -> None:
    from cassandra.query import BatchStatement, BatchType
    from django.core.management import call_command

    from recognizer import services
    from recognizer.storage import stats, writes

    call_command("sync_cassandra", verbosity=0)
    original = (ROOT / "tests/preprocessing/images/drawn_7.png").read_bytes()
    stored = []
    real_store = writes.store

    def keeping(prediction, image):  # the prediction as the service builds it
        stored.append((prediction, image))
        real_store(prediction, image)

    services.writes.store = keeping
    try:
        services.prediction_store(source="api", filename=None, content_type="image/png", image=original,
                                  input_png=(ROOT / "tests/preprocessing/images/mnist_7.png").read_bytes(),
                                  probabilities=[0.001] * 7 + [0.991] + [0.001] * 2, model_version="bench",
                                  latency_ms=3.0)
    finally:
        services.writes.store = real_store
    [(prediction, image)] = stored
    _, listed_batch, _ = writes.creation(prediction, image)  # this process has written its list entries

    def first_in_bucket():
        writes.listed.clear()
        return writes.creation(prediction, image)

    def batch():
        built = BatchStatement(batch_type=BatchType.UNLOGGED)
        for statement in listed_batch:
            built.add(statement)

    _, first_batch, _ = first_in_bucket()
    best = lowest({
        f"statements, first in its bucket ({len(first_batch)})": first_in_bucket,
        "stats contribution": lambda: stats.contribution(prediction),
        f"batch of {len(listed_batch)} statements": batch,
    }, args.rounds, args.count)
    writes.store(prediction, image)  # the same write again: its list entries are remembered once more
    best[f"statements, later in the bucket ({len(listed_batch)})"] = lowest(
        {"": lambda: writes.creation(prediction, image)}, args.rounds, args.count)[""]
    print("A new prediction's store, µs per call:")
    for name, micros in best.items():
        print(f"  {name:<40} {micros:6.1f}")


@report.writes_output
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--count", type=int, default=3000, help="calls a round")
    parser.add_argument("--keyspace", default="bench_request_parts", help="Cassandra keyspace (dropped at the end)")
    parser.add_argument("--django-prometheus", type=Path, help="a folder django-prometheus is installed in")
    report.add_argument(parser)
    args = parser.parse_args()
    var = tempfile.mkdtemp(prefix="bench-parts-")
    os.environ.update(DJANGO_DEBUG="false", DJANGO_SETTINGS_MODULE="numberfigure.settings.local",
                      CASSANDRA_KEYSPACE=args.keyspace, DJANGO_VAR_DIR=var, PROMETHEUS_MULTIPROC_DIR=f"{var}/metrics")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from cassandra.cqlengine import connection

    middleware(args)
    try:
        storage(args)
    finally:
        connection.get_session().execute(f"DROP KEYSPACE IF EXISTS {args.keyspace}", timeout=60)


if __name__ == "__main__":
    main()
