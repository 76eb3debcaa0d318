"""The stats totals: summed in memory, written in the background, never counted twice."""

import time
from collections import Counter

from cassandra import WriteTimeout, WriteType
from cassandra.cluster import NoHostAvailable

from recognizer.models import StatCounter
from recognizer.storage import stats


def stored(metric: str, name: str) -> int:
    row = StatCounter.objects.filter(metric=metric, name=name).first()
    return row.value if row else 0


def test_changes_reach_cassandra_without_anyone_asking(cassandra):
    stats.add(Counter({("digit", "3"): 2}))
    stats.add(Counter({("digit", "3"): 1, ("digit", "4"): -1}))

    deadline = time.monotonic() + 10 * stats.FLUSH_SECONDS
    while stored("digit", "3") != 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert (stored("digit", "3"), stored("digit", "4")) == (3, -1)


class FailingSession:
    """Prepares statements on the real session, fails every execution with ``error``."""

    def __init__(self, error: Exception, real) -> None:
        self.error, self.prepare = error, real.prepare

    def execute(self, statement):
        raise self.error


def fail_next_flush(monkeypatch, error: Exception) -> None:
    """The next counter batch fails with ``error``. No recount holds the counters: the hold is read
    through the same session, and would fail first whenever its cached answer had aged."""
    failing = FailingSession(error, stats.connection.get_session())
    with monkeypatch.context() as patch:
        patch.setattr(stats.connection, "get_session", lambda: failing)
        patch.setattr(stats, "held_by", lambda: None)
        stats.flush()


def test_changes_wait_for_an_unreachable_node(cassandra, monkeypatch):
    stats.add(Counter({("total", "all"): 5}))
    fail_next_flush(monkeypatch, NoHostAvailable("Unable to connect to any servers", {}))
    assert stored("total", "all") == 0

    stats.flush()
    assert stored("total", "all") == 5


def test_an_ambiguous_failure_is_not_replayed(cassandra, monkeypatch):
    """A timed-out counter write may have been applied; writing it again could count it twice."""
    stats.add(Counter({("total", "all"): 5}))
    fail_next_flush(monkeypatch, WriteTimeout("timed out", write_type=WriteType.COUNTER))
    stats.add(Counter({("total", "all"): 1}))
    stats.flush()

    assert stored("total", "all") == 1
