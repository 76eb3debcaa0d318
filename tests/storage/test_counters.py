"""The stats counters: summed in memory, written in the background, never counted twice."""

import time
from collections import Counter

from cassandra import WriteTimeout, WriteType
from cassandra.cluster import NoHostAvailable

from recognizer import counters
from recognizer.models import PredictionCounter


def stored(metric: str, name: str) -> int:
    row = PredictionCounter.objects.filter(metric=metric, name=name).first()
    return row.value if row else 0


def test_changes_reach_cassandra_without_anyone_asking(cassandra):
    counters.add(Counter({("digit", "3"): 2}))
    counters.add(Counter({("digit", "3"): 1, ("digit", "4"): -1}))

    deadline = time.monotonic() + 10 * counters.FLUSH_SECONDS
    while stored("digit", "3") != 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert (stored("digit", "3"), stored("digit", "4")) == (3, -1)


class FailingSession:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def execute(self, statement):
        raise self.error


def fail_next_flush(monkeypatch, error: Exception) -> None:
    with monkeypatch.context() as patch:
        patch.setattr(counters.connection, "get_session", lambda: FailingSession(error))
        counters.flush()


def test_changes_wait_for_an_unreachable_node(cassandra, monkeypatch):
    counters.add(Counter({("total", "all"): 5}))
    fail_next_flush(monkeypatch, NoHostAvailable("Unable to connect to any servers", {}))
    assert stored("total", "all") == 0

    counters.flush()
    assert stored("total", "all") == 5


def test_an_ambiguous_failure_is_not_replayed(cassandra, monkeypatch):
    """A timed-out counter write may have been applied; writing it again could count it twice."""
    counters.add(Counter({("total", "all"): 5}))
    fail_next_flush(monkeypatch, WriteTimeout("timed out", write_type=WriteType.COUNTER))
    counters.add(Counter({("total", "all"): 1}))
    counters.flush()

    assert stored("total", "all") == 1
