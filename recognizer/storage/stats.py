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

While ``recount_stats`` runs (``storage.recount``), changes are held in memory instead, and the
ids of the predictions they concern are recorded for it (a new prediction's before it is
written, ``announce``); they are written once it is done.

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
from django.conf import settings

from .. import metrics
from ..models import CountedPrediction, RecountHeldId, RecountHold, StatCounter
from . import cql, drift, review
from .keys import ALL

FLUSH_SECONDS = 1.0
HOLD_SCOPE = "stats"
HELD_TTL_SECONDS = 24 * 3600
HOLD_TTL_SECONDS = 600  # a recount renews its hold as it goes: one that dies lets go by itself
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
    DRIFT = "drift"  # name: "day|model version|figure|value", in the drift tables (``storage.drift``)
    REVIEW = "review"  # predictions waiting in a view's review queue; name: the view's key


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
    totals.update({(Stat.DRIFT, name): amount for name, amount in
                   drift.contribution(prediction, unsure_below=settings.NUMBERFIGURE_UNSURE_BELOW).items()})
    if review.queued(prediction):
        for scope in review.scopes_of(prediction):
            totals[(Stat.REVIEW, scope)] += 1
    return +totals


def difference(after: Counter, before: Counter) -> Counter:
    """The change from one contribution to another (negative amounts take away)."""
    change = Counter(after)
    change.subtract(before)
    return Counter({key: amount for key, amount in change.items() if amount})

logger = logging.getLogger(__name__)
_pending: Counter = Counter()
_pending_ids: set[uuid.UUID] = set()  # the predictions the pending changes concern
_recorded: tuple[uuid.UUID | None, set[uuid.UUID]] = (None, set())  # (recount, ids recorded for it)
_hold: tuple[float, uuid.UUID | None] = (float("-inf"), None)  # (when read, the recount holding the counters)
_lock = threading.Lock()  # guards _pending, _pending_ids and _flusher
_flushing = threading.Lock()  # one flush at a time: when flush() returns, earlier changes are written
_flusher: threading.Thread | None = None


def add(change: Counter, prediction_id: uuid.UUID | None = None) -> None:
    """Count changes ((metric, name) -> amount, negative to take away) into the next flush;
    ``prediction_id``: the prediction they concern."""
    global _flusher
    with _lock:
        _pending.update(change)
        if prediction_id is not None:
            _pending_ids.add(prediction_id)
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
        add(contribution(prediction), prediction.id)


def flush() -> None:
    """Write this process's pending changes now, in one counter batch, and wait for the answer;
    while a recount runs, record the ids they concern for it instead."""
    with _flushing:
        with _lock:
            if not _pending and not _pending_ids:
                return
        try:
            recount_id = held_by()
        except Exception as error:  # noqa: BLE001 - unknown: keep everything for the next flush
            logger.warning("Stats counters not written yet (%s); will retry", error)
            return
        with _lock:
            change = Counter({key: amount for key, amount in _pending.items() if amount})
            ids = set(_pending_ids)
            if recount_id is None:
                _pending.clear()
                _pending_ids.clear()
        if recount_id is not None:
            _record_held(recount_id, ids)
        elif change:
            write(change)


def announce(prediction_id: uuid.UUID) -> None:
    """Before a prediction that will be counted is written: a running recount is told its id, so
    that it never walks the row without knowing that its count is held back."""
    recount_id = held_by()
    if recount_id is not None:
        _record_held(recount_id, {prediction_id})


def held_by() -> uuid.UUID | None:
    """The recount that holds the counters, as read within the last flush interval."""
    global _hold
    if time.monotonic() - _hold[0] > FLUSH_SECONDS:
        rows = cql.run(cql.select(RecountHold, "scope = ?", [HOLD_SCOPE], columns="recount_id"))
        _hold = (time.monotonic(), rows[0]["recount_id"] if rows else None)
    return _hold[1]


def hold(recount_id: uuid.UUID) -> None:
    """Hold every process's counters for recount ``recount_id`` (or renew the hold)."""
    cql.run(cql.bind(f"INSERT INTO {RecountHold.column_family_name()} (scope, recount_id) VALUES (?, ?) "
                     f"USING TTL {HOLD_TTL_SECONDS}", [HOLD_SCOPE, recount_id]))


def release() -> None:
    """End the hold: every process writes what it held within a flush interval (this one at once)."""
    global _hold
    cql.run(cql.delete(RecountHold, {"scope": HOLD_SCOPE}))
    _hold = (float("-inf"), None)


def held_ids(recount_id: uuid.UUID) -> set[uuid.UUID]:
    """The predictions whose stats changes are held for recount ``recount_id``."""
    statement = cql.select(RecountHeldId, "recount_id = ?", [recount_id], columns="id")
    return {row["id"] for row in cql.iterate(statement)}


def _record_held(recount_id: uuid.UUID, ids: set[uuid.UUID]) -> None:
    global _recorded
    with _lock:
        done = _recorded[1] if _recorded[0] == recount_id else set()
        new = sorted(ids - done)
        _recorded = (recount_id, done | set(new))
    if new:
        insert = (f"INSERT INTO {RecountHeldId.column_family_name()} (recount_id, id) VALUES (?, ?) "
                  f"USING TTL {HELD_TTL_SECONDS}")
        cql.run_concurrently([cql.bind(insert, [recount_id, prediction_id]) for prediction_id in new])


def write(change: Counter) -> None:
    """Move the counters by ``change`` now, in one counter batch (changes Cassandra certainly did
    not apply go back to the pending ones)."""
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
        batch.add(drift.update(name, amount) if metric == Stat.DRIFT else cql.bind(update, (amount, str(metric), name)))
    return batch


def _flush_forever() -> None:
    while True:
        time.sleep(FLUSH_SECONDS)
        flush()


atexit.register(flush)  # a worker that stops cleanly writes what it has; runs before the driver's own shutdown
