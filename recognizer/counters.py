"""The stats counters, updated off the request path.

A counter batch costs a Cassandra read-before-write on every replica, several milliseconds that a
person waiting for a prediction should not pay. So updates are sent asynchronously; the
prediction itself is already stored when they are. ``wait()`` lets a reader in the same
process see its own updates (the stats page calls it before reading).
"""

import logging
import threading
from collections import Counter
from functools import cache

from cassandra.cqlengine import connection
from cassandra.query import BatchStatement, BatchType, PreparedStatement

from . import metrics
from .models import PredictionCounter

logger = logging.getLogger(__name__)
_in_flight: set = set()
_lock = threading.Lock()
_idle = threading.Condition(_lock)


@cache
def _update_statement(table: str) -> PreparedStatement:
    """Prepared once per table name (tests use their own keyspace)."""
    return connection.get_session().prepare(f"UPDATE {table} SET value = value + ? WHERE metric = ? AND name = ?")


def add(change: Counter) -> None:
    """Apply counter changes ((metric, name) -> amount, negative to take away) in one counter batch."""
    statement = _update_statement(PredictionCounter.column_family_name())
    batch = BatchStatement(batch_type=BatchType.COUNTER)
    for (metric, name), amount in change.items():
        if amount:
            batch.add(statement, (amount, metric, name))
    if not len(batch):
        return
    future = connection.get_session().execute_async(batch)
    with _lock:
        _in_flight.add(future)
    future.add_callbacks(lambda _: _done(future), lambda error: _done(future, error, change))


def _done(future, error: BaseException | None = None, change: Counter | None = None) -> None:
    if error is not None:
        metrics.cassandra_error(error, "counters")
        logger.error("Could not update the stats counters by %s: %s", dict(change), error)
    with _lock:
        _in_flight.discard(future)
        _idle.notify_all()


def wait(timeout: float = 10.0) -> None:
    """Block until this process's counter updates have been answered (or ``timeout`` passed)."""
    with _lock:
        _idle.wait_for(lambda: not _in_flight, timeout)
