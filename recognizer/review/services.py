"""What a reviewer does: take the next queued predictions (leased to them), label, skip, undo."""

import uuid

from django.conf import settings

from ..errors import PredictionNotFound
from ..models import Prediction
from ..selectors import Filters, prediction_get
from ..services import prediction_correct
from ..storage import cql, ids, review, writes
from ..storage.records import StoredPrediction, from_rows


def _rows(prediction_ids: list[uuid.UUID]) -> list[StoredPrediction | None]:
    statements = [cql.select(Prediction, "bucket = ? AND shard = ? AND id = ?", [*ids.partition_of(i), i])
                  for i in prediction_ids]
    return [(from_rows(rows) or [None])[0] for rows in cql.run_concurrently(statements)]


def _stale_time(row: StoredPrediction | None, entry: review.Entry) -> int:
    """When a stale entry is removed: at the delete's or the label's own write time."""
    if row is None or row.deleted:
        return ids.write_time(entry.id) + writes.DELETION_MARGIN
    return writes.change_time(row, row.version or 0)


def review_next(*, user: str, filters: Filters, count: int, exclude: set[uuid.UUID] = frozenset()
                ) -> list[StoredPrediction]:
    """Up to ``count`` queued predictions, most doubtful first, that no other reviewer holds, leased to
    ``user`` for ``REVIEW_LEASE_SECONDS``; ``exclude``: the ones the reviewer already has."""
    taken: list[StoredPrediction] = []
    seen = set(exclude)  # handed out, tried, or found stale
    read = count * 2 + len(exclude)
    while len(taken) < count:
        entries = review.read(scope=filters.key, limit=read, date_from=filters.date_from, date_to=filters.date_to)
        fresh = list({entry.id: entry for entry in entries if entry.id not in seen}.values())
        if not fresh:
            if len(entries) < read:  # the queue holds no more
                return taken
            read *= 2
            continue
        rows = _rows([entry.id for entry in fresh])
        stale = [(entry, row) for entry, row in zip(fresh, rows, strict=True) if row is None or not review.queued(row)]
        if stale:
            cql.run_concurrently([review.remove(entry, timestamp=_stale_time(row, entry)) for entry, row in stale])
        live = [row for row in rows if row is not None and review.queued(row)][:count - len(taken)]
        seen.update([entry.id for entry, _ in stale] + [row.id for row in live])
        won = review.claim([row.id for row in live], holder=user, seconds=settings.NUMBERFIGURE_REVIEW_LEASE_SECONDS)
        taken += [row for row, mine in zip(live, won, strict=True) if mine]
    return taken


def _current(prediction_id: uuid.UUID) -> StoredPrediction:
    prediction = prediction_get(prediction_id=prediction_id)
    if prediction is None:
        raise PredictionNotFound("No such prediction: it was deleted.")
    return prediction


def review_label(*, prediction_id: uuid.UUID, label: int, user: str) -> StoredPrediction:
    """Label a prediction (its own digit: a confirmation); it leaves every queue."""
    return prediction_correct(prediction=_current(prediction_id), label=label, user=user)


def review_skip(*, prediction_id: uuid.UUID) -> None:
    """Keep a prediction out of everyone's queue for ``REVIEW_SKIP_SECONDS``; it comes back then."""
    review.lease(prediction_id, holder=review.SKIPPED, seconds=settings.NUMBERFIGURE_REVIEW_SKIP_SECONDS)


def review_undo(*, prediction_id: uuid.UUID, user: str) -> tuple[int | None, StoredPrediction]:
    """Take back a decision: a label is cleared (the prediction is queued again), a skip is
    forgotten; either way the prediction is leased to ``user`` again, to decide anew.
    (The label taken back, the prediction.)"""
    prediction = _current(prediction_id)
    before = prediction.corrected_label
    if before is not None:
        prediction = prediction_correct(prediction=prediction, label=None, user=user)
    review.lease(prediction_id, holder=user, seconds=settings.NUMBERFIGURE_REVIEW_LEASE_SECONDS)
    return before, prediction
