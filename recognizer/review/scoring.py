"""The scoring pass: each stored prediction gets its doubt (``ml.doubt``), in batches, outside requests.

Scoring when storing would add the copies' forward pass to every prediction request; a pass
scores many at once, which costs less per prediction (``bench/review_order.py``, docs/review.md)
and nothing on the request path. It walks the history oldest first from a checkpoint kept in
Cassandra (``review_pass``), leaving the last ``SETTLE_SECONDS`` for the batches still in flight.
Predictions stored later under older ids (the outbox's replays) are scored by ``--since``.
"""

import io
import uuid
from dataclasses import replace

import numpy as np
from cassandra.util import min_uuid_from_time
from PIL import Image

from ..ml import doubt, mnist
from ..ml.runtime import get_classifier
from ..selectors import prediction_list
from ..storage import cql, ids, review, stats, writes
from ..storage.records import StoredPrediction

SETTLE_SECONDS = 10.0
BATCH = 256


def _input(prediction: StoredPrediction) -> np.ndarray:
    with Image.open(io.BytesIO(prediction.input_png)) as image:
        return mnist.to_unit(np.asarray(image.convert("L")))


def score(predictions: list[StoredPrediction]) -> list[StoredPrediction]:
    """Score unlabelled, unscored predictions and write their doubts and queue entries; the scored."""
    todo = [p for p in predictions if p.doubt is None and p.corrected_label is None]
    if not todo:
        return []
    doubts = doubt.doubts_of(get_classifier(), [p.probabilities for p in todo], np.stack([_input(p) for p in todo]))
    scored = [replace(p, doubt=value) for p, value in zip(todo, doubts, strict=True)]
    cql.run_concurrently([statement for p in scored for statement in writes.scoring(p)])
    for before, after in zip(todo, scored, strict=True):
        stats.add(stats.difference(stats.contribution(after), stats.contribution(before)), after.id)
    return scored


def score_next(*, after: uuid.UUID | None = None, limit: int = BATCH, settle: float = SETTLE_SECONDS) -> int:
    """Score the next ``limit`` predictions past the checkpoint (or ``after``); how many were read."""
    start = after or review.checkpoint() or min_uuid_from_time(0)
    newest = ids.now() - settle
    rows = [row for row in reversed(prediction_list(after=start, limit=limit)) if ids.unix_time(row.id) <= newest]
    score(rows)
    if rows:
        review.checkpoint_save(rows[-1].id)
    return len(rows)
