"""Prometheus metrics of the product, and the small calls the code feeds them with.

One process (runserver, tests): the client's default registry. Several gunicorn workers: prometheus-client's
multiprocess mode, on when PROMETHEUS_MULTIPROC_DIR is set. Each worker then writes its values to files in
that folder and /metrics adds up every worker's files; gunicorn.conf.py empties the folder when the server
starts and marks dead workers. The variable must be set before this module is first imported (it is read
at import time), so set it in the environment of the whole server, not in a settings file.

Labels stay bounded: a route is the URL pattern (``api/predictions/<uuid:prediction_id>``), never the path.
"""

import os
import time
from contextlib import contextmanager, suppress

MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
if MULTIPROC_DIR:
    os.makedirs(MULTIPROC_DIR, exist_ok=True)

from prometheus_client import (  # noqa: E402 - the folder must exist before the first value is made
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)

disable_created_metrics()  # no *_created series: they double the output and multiprocess mode has none

HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REQUESTS = Counter(
    "numberfigure_http_requests", "HTTP requests answered, by route, method and status.",
    ["route", "method", "status"],
)
REQUEST_SECONDS = Histogram(
    "numberfigure_http_request_duration_seconds", "Time to answer an HTTP request, by route, method and status.",
    ["route", "method", "status"],
)
PREDICTIONS = Counter(
    "numberfigure_predictions", "Predictions stored, by source (draw, upload, api) and predicted digit.",
    ["source", "digit"],
)
MODEL_FORWARD_SECONDS = Histogram(
    "numberfigure_model_forward_seconds", "Time of one forward pass of the model over a batch of images.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, float("inf")),
)
CASSANDRA_WRITE_SECONDS = Histogram(
    "numberfigure_cassandra_write_seconds",
    "Time to store one prediction in Cassandra (a large original's chunks, then one batch: row, indexes, lists).",
    buckets=(0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, float("inf")),
)
CASSANDRA_ERRORS = Counter(
    "numberfigure_cassandra_errors", "Cassandra failures, by operation (write, request) and exception class.",
    ["operation", "error"],
)

_COUNTED = "_numberfigure_metrics_counted"


# The request metrics' children by (route, method, status), looked up once each: ``labels()`` checks and
# converts its arguments under a lock on every call. Bounded as the labels are.
_request_children: dict[tuple[str, str, int], tuple] = {}


def observe_request(*, route: str, method: str, status: int, seconds: float) -> None:
    method = method if method in HTTP_METHODS else "other"  # clients can send any word as a method
    children = _request_children.get((route, method, status))
    if children is None:
        labels = (route, method, str(status))
        children = _request_children[route, method, status] = (REQUESTS.labels(*labels),
                                                                REQUEST_SECONDS.labels(*labels))
    children[0].inc()
    children[1].observe(seconds)


def count_prediction(source: str, digit: int) -> None:
    PREDICTIONS.labels(source, str(int(digit))).inc()


def observe_forward(seconds: float) -> None:
    MODEL_FORWARD_SECONDS.observe(seconds)


def observe_write(seconds: float) -> None:
    CASSANDRA_WRITE_SECONDS.observe(seconds)


def cassandra_error(error: BaseException, operation: str = "request") -> None:
    """Count a Cassandra failure once, however many layers report it (the write, then the middleware)."""
    if getattr(error, _COUNTED, False):
        return
    CASSANDRA_ERRORS.labels(operation, type(error).__name__).inc()
    with suppress(AttributeError):  # an exception with __slots__ is counted, just not de-duplicated
        setattr(error, _COUNTED, True)


@contextmanager
def timed_forward():
    """``with timed_forward(): probabilities = classifier.predict(batch)``."""
    started = time.perf_counter()
    yield
    observe_forward(time.perf_counter() - started)


@contextmanager
def cassandra_write():
    """Time a successful write; count a failed one under operation="write" and let it propagate."""
    started = time.perf_counter()
    try:
        yield
    except Exception as error:
        cassandra_error(error, "write")
        raise
    observe_write(time.perf_counter() - started)


def register_store_collector(collector) -> None:
    """Add the store's gauges (outbox, clock skew; ``health.StoreCollector``), read when scraped.
    The app registers them at start (``apps.RecognizerConfig.ready``), so that this module, which the
    storage code feeds, imports nothing of it."""
    if collector not in _store_collectors:  # ready() may run again (tests), the gauges only once
        _store_collectors.add(collector)
        _STORE_REGISTRY.register(collector)


def exposition() -> tuple[bytes, str]:
    """The text /metrics serves and its content type: this process's values, or every worker's."""
    if MULTIPROC_DIR:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return generate_latest(registry) + generate_latest(_STORE_REGISTRY), CONTENT_TYPE_LATEST


_STORE_REGISTRY = CollectorRegistry()
_store_collectors: set = set()
