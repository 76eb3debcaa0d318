"""The stats page's totals: what each prediction adds to them, summed in memory, written once a second.

A counter update costs Cassandra a read-before-write; one per prediction took enough of the
node's CPU to add ~3 ms to every API request on a 2-core machine. So each process adds its
changes up, and a background thread writes them as one counter batch every FLUSH_SECONDS. The
predictions themselves are stored before this; only the stats lag, by about that interval
(``flush()`` shows a process's own changes at once: the stats page calls it).

A prediction stored under an id that may have been stored and counted before (a retried
``Idempotency-Key`` request, an outbox replay) is counted through ``add_once``: a lightweight
transaction on its id decides which attempt counts it. New predictions under new ids, the usual
case, cost no such transaction.

The batch is sent once (``cql.SEND_ONCE``: the driver neither retries nor speculates), so a
failure says whether it may have been applied. Changes Cassandra certainly did not apply (no
connection took the batch, too few replicas) are kept for the next flush. After an ambiguous
failure (a timeout, a connection lost mid-request) they are dropped: replaying a counter update
could count it twice; ``manage.py recount_stats`` puts the totals right.
"""

import atexit
import logging
import threading
import time
import uuid
from collections import Counter
from enum import StrEnum

from cassandra import Unavailable
from cassandra.cluster import NoHostAvailable
from cassandra.cqlengine import connection
from cassandra.query import BatchStatement, BatchType

from .. import metrics
from ..models import CountedPrediction, StatCounter
from . import cql
from .keys import ALL

FLUSH_SECONDS = 1.0
COUNTED_TTL_SECONDS = 30 * 24 * 3600  # longer than a key (24 h) or an outbox is expected to keep an id
CONFIDENCE_SCALE = 1_000_000  # counters hold integers: confidences are summed in millionths


class Stat(StrEnum):
    """The families of totals (the counter table's ``metric``)."""

    TOTAL = "total"
    DIGIT = "digit"
    SOURCE = "source"
    DAY = "day"
    CONFIDENCE = "confidence"  # sum of confidences, in millionths
    LABELLED = "labelled"
    LABELLED_CORRECT = "labelled_correct"
    CONFUSION = "confusion"  # name: "predicted,label"


def contribution(prediction) -> Counter:
    """What one stored prediction adds to the totals: (Stat, name) -> amount."""
    totals = Counter({
        (Stat.TOTAL, ALL): 1,
        (Stat.DIGIT, str(prediction.digit)): 1,
        (Stat.SOURCE, prediction.source): 1,
        (Stat.DAY, prediction.created_at.date().isoformat()): 1,
        (Stat.CONFIDENCE, ALL): round(prediction.confidence * CONFIDENCE_SCALE),
    })
    if prediction.corrected_label is not None:
        totals[(Stat.LABELLED, ALL)] += 1
        totals[(Stat.LABELLED_CORRECT, ALL)] += int(prediction.corrected_label == prediction.digit)
        totals[(Stat.CONFUSION, f"{prediction.digit},{prediction.corrected_label}")] += 1
    return +totals


def difference(after: Counter, before: Counter) -> Counter:
    """The change from one contribution to another (negative amounts take away)."""
    change = Counter(after)
    change.subtract(before)
    return Counter({key: amount for key, amount in change.items() if amount})

logger = logging.getLogger(__name__)
_pending: Counter = Counter()
_lock = threading.Lock()  # guards _pending and _flusher
_flushing = threading.Lock()  # one flush at a time: when flush() returns, earlier changes are written
_flusher: threading.Thread | None = None


def add(change: Counter) -> None:
    """Count changes ((metric, name) -> amount, negative to take away) into the next flush."""
    global _flusher
    with _lock:
        _pending.update(change)
        if _flusher is None or not _flusher.is_alive():
            _flusher = threading.Thread(target=_flush_forever, name="stats-counters", daemon=True)
            _flusher.start()


def add_once(prediction) -> None:
    """Count a prediction stored under a known id unless an earlier attempt counted it. When
    Cassandra cannot say, it is not counted (``recount_stats`` puts that right)."""
    mine = uuid.uuid4()
    claim = cql.bind(f"INSERT INTO {CountedPrediction.column_family_name()} (id, counted_by) VALUES (?, ?) "
                     f"IF NOT EXISTS USING TTL {COUNTED_TTL_SECONDS}", [prediction.id, mine])
    try:
        first, _ = cql.transact(claim, read_back=cql.select(CountedPrediction, "id = ?", [prediction.id]),
                                owner="counted_by", mine=mine)
    except cql.UNAVAILABLE as error:
        metrics.cassandra_error(error, "counters")
        logger.warning("Prediction %s not counted in the stats (%s)", prediction.id, error)
        return
    if first:
        add(contribution(prediction))


def flush() -> None:
    """Write this process's pending changes now, in one counter batch, and wait for the answer."""
    with _flushing:
        with _lock:
            change = Counter({key: amount for key, amount in _pending.items() if amount})
            _pending.clear()
        if not change:
            return
        try:
            connection.get_session().execute(_batch(change))
        except (NoHostAvailable, Unavailable) as error:  # not applied: keep it for the next flush
            metrics.cassandra_error(error, "counters")
            with _lock:
                _pending.update(change)
            logger.warning("Stats counters not written yet (%s); will retry", error)
        except Exception as error:  # noqa: BLE001 - never let the stats break a request or the flusher
            metrics.cassandra_error(error, "counters")
            logger.error("Could not update the stats counters by %s: %s", dict(change), error)


def _batch(change: Counter) -> BatchStatement:
    update = f"UPDATE {StatCounter.column_family_name()} SET value = value + ? WHERE metric = ? AND name = ?"
    batch = BatchStatement(batch_type=BatchType.COUNTER, retry_policy=cql.SEND_ONCE)
    for (metric, name), amount in sorted(change.items()):
        batch.add(cql.bind(update, (amount, str(metric), name)))
    return batch


def _flush_forever() -> None:
    while True:
        time.sleep(FLUSH_SECONDS)
        flush()


atexit.register(flush)  # a worker that stops cleanly writes what it has; runs before the driver's own shutdown
