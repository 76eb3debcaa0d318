"""Can the service take predictions right now? What ``/healthz`` answers, cheap enough for every probe.

It reads one (empty) partition at the configured consistency level, so it fails when too few
replicas answer for the writes to succeed, not only when no node does; and it looks at the
outbox. ``ok``: Cassandra takes writes and nothing waits. ``degraded``: predictions are accepted
but wait in the outbox (Cassandra down, or catching up), or this server's clock is off from
Cassandra's by more than ``MAX_CLOCK_SKEW_SECONDS`` (new predictions are ordered by the server's
clock, lightweight transactions by Cassandra's). ``unavailable``: Cassandra is down and the outbox
is full. The answer is kept for a second per process, so probes cost one read a second.
"""

import datetime as dt
import logging
import threading
import time

from django.conf import settings
from prometheus_client.core import GaugeMetricFamily

from .selectors import drift_days, outbox_depth, store_probe
from .services import outbox_replay_start

CACHE_SECONDS = 1.0

logger = logging.getLogger(__name__)
_lock = threading.Lock()
_last: tuple[float, dict] | None = None


def service_status() -> dict:
    """``{"status", "outbox": {"depth", "oldest_age_seconds"}, "cassandra": {...}}``; never raises.

    ``cassandra["clock_skew_seconds"]``: how far Cassandra's clock is ahead of this server's.

    ``cassandra`` holds details (version, or the error) meant for logs and staff, not the public.
    """
    global _last
    with _lock:
        if _last is not None and time.monotonic() - _last[0] < CACHE_SECONDS:
            return _last[1]
        cassandra = store_probe()
        depth = outbox_depth()
        if depth.items:
            outbox_replay_start()  # e.g. a process started with a spool left by an earlier one
        full = depth.full
        skewed = abs(cassandra.get("clock_skew_seconds", 0.0)) > settings.NUMBERFIGURE_MAX_CLOCK_SKEW_SECONDS
        status = "ok" if cassandra["writable"] and not depth.items and not skewed else (
            "unavailable" if not cassandra["writable"] and full else "degraded")
        if status != "ok":
            logger.warning("Health: %s; cassandra %s; outbox %s", status, cassandra, depth)
        answer = {"status": status, "outbox": {"depth": depth.items, "oldest_age_seconds": depth.oldest_age_seconds},
                  "cassandra": cassandra}
        _last = (time.monotonic(), answer)
        return answer


def forget() -> None:
    """Drop the cached answer (tests that change what Cassandra or the outbox look like)."""
    global _last
    with _lock:
        _last = None


class StoreCollector:
    """The outbox's depth and oldest age, read from its folder when scraped (shared by all workers),
    and this server's clock against Cassandra's."""

    def collect(self):
        skew = service_status()["cassandra"].get("clock_skew_seconds")
        if skew is not None:
            yield GaugeMetricFamily("numberfigure_cassandra_clock_skew_seconds",
                                    "How far Cassandra's clock is ahead of this server's (negative: behind).",
                                    value=skew)

        depth = outbox_depth()
        yield GaugeMetricFamily("numberfigure_outbox_predictions",
                                "Predictions waiting in the local outbox for Cassandra.", value=depth.items)
        yield GaugeMetricFamily("numberfigure_outbox_oldest_age_seconds",
                                "How long the oldest prediction in the outbox has waited (0 when empty).",
                                value=depth.oldest_age_seconds or 0.0)
        yield GaugeMetricFamily("numberfigure_outbox_dead_files",
                                "Outbox files that could not be replayed, set aside in dead/ for an operator.",
                                value=depth.dead)


class DriftCollector:
    """Today's drift figures (UTC day) per model version, read from Cassandra when scraped
    (``selectors.drift_days``). A day under DRIFT_MIN_SAMPLE exports its count only: too few to alarm."""

    GAUGES = (
        ("unsure_share", "numberfigure_drift_unsure_share", "Share of today's predictions under UNSURE_BELOW."),
        ("reference_unsure_share", "numberfigure_drift_reference_unsure_share",
         "Share of unsure answers in the model's drift reference (its card, or its first days)."),
        ("confidence_psi", "numberfigure_drift_confidence_psi",
         "PSI of today's top-probability histogram against the reference (0.1 moderate, 0.25 significant)."),
        ("digit_psi", "numberfigure_drift_digit_psi",
         "PSI of today's predicted-digit distribution against the reference (0.1 moderate, 0.25 significant)."),
        ("accuracy", "numberfigure_drift_labelled_accuracy", "Accuracy of today's predictions that carry a label."),
    )

    def collect(self):
        today = dt.datetime.now(dt.UTC).date()
        try:
            days = drift_days(since=today, until=today)
        except Exception:  # noqa: BLE001 - Cassandra unreachable: /metrics still answers, without these
            return
        count = GaugeMetricFamily("numberfigure_drift_predictions", "Predictions stored today, by model version.",
                                  labels=["model_version"])
        gauges = {field: GaugeMetricFamily(name, text, labels=["model_version"]) for field, name, text in self.GAUGES}
        for day in days:
            count.add_metric([day.model_version], day.count)
            if not day.enough:
                continue
            values = {"reference_unsure_share": day.reference.unsure_share if day.reference else None,
                      **{field: getattr(day, field) for field in ("unsure_share", "confidence_psi", "digit_psi",
                                                                  "accuracy")}}
            for field, value in values.items():
                if value is not None:
                    gauges[field].add_metric([day.model_version], value)
        yield count
        yield from gauges.values()


STORE_COLLECTOR = StoreCollector()
DRIFT_COLLECTOR = DriftCollector()
