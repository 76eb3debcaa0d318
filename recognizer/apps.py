from http.client import responses

from django.apps import AppConfig


class RecognizerConfig(AppConfig):
    name = "recognizer"
    verbose_name = "Digit recognizer"

    def ready(self) -> None:
        from . import metrics
        from .storage import connection, outbox

        connection.install()
        outbox.remove_stale_partials()
        metrics.register_store_collector(STORE_GAUGES)
        # ClientGone's status (nginx's 499), named in the status line and in Django's request log
        # instead of "Unknown Status Code".
        responses.setdefault(499, "Client Closed Request")


class StoreGauges:
    """The outbox, clock and drift gauges of /metrics (``health.StoreCollector``, ``DriftCollector``),
    wired in here, where the app is put together, so that ``metrics`` imports nothing of the store.
    ``health`` is imported on the first scrape: it brings the model runtime, which manage.py commands
    do not need."""

    def collect(self):
        from .health import DRIFT_COLLECTOR, STORE_COLLECTOR

        yield from STORE_COLLECTOR.collect()
        yield from DRIFT_COLLECTOR.collect()


STORE_GAUGES = StoreGauges()
