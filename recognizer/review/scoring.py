"""The scoring pass: each stored prediction gets its doubt (``ml.doubt``), in batches, outside requests.

Scoring when storing would add the copies' forward pass to every prediction request; a pass
scores many at once, which costs less per prediction (``bench/review_order.py``, docs/review.md)
and nothing on the request path. It walks the history oldest first from a checkpoint kept in
Cassandra (``review_pass``), leaving the last ``SETTLE_SECONDS`` for the batches still in flight.
Predictions stored later under older ids (the outbox's replays) are scored by ``--since``.

One process keeps up with a few hundred predictions a second (docs/review.md); ``Part`` splits the
pass over processes by the predictions' shard, each with a checkpoint of its own.
"""

import argparse
import io
import uuid
from dataclasses import dataclass, replace

import numpy as np
from cassandra.util import min_uuid_from_time
from PIL import Image

from ..ml import doubt, mnist
from ..ml.runtime import get_classifier
from ..storage import cql, ids, paging, review, stats, writes
from ..storage.records import StoredPrediction

SETTLE_SECONDS = 10.0
BATCH = 256


@dataclass(frozen=True)
class Part:
    """Part ``number`` of ``count`` passes run side by side: it scores the predictions whose shard
    modulo ``count`` is ``number - 1``, so every prediction has exactly one part."""

    number: int = 1
    count: int = 1

    @classmethod
    def parse(cls, text: str) -> "Part":
        """``K/N`` (K from 1 to N), as ``score_predictions --part`` takes it."""
        number, _, count = text.partition("/")
        if not (number.isdigit() and count.isdigit() and 1 <= int(number) <= int(count) <= ids.MAX_SHARDS):
            raise argparse.ArgumentTypeError(f"a part is K/N with 1 <= K <= N <= {ids.MAX_SHARDS}, not {text!r}")
        return cls(int(number), int(count))

    @property
    def checkpoint(self) -> str:
        """Its checkpoint's name: the whole pass keeps the one it always had."""
        return "doubt" if self.count == 1 else f"doubt {self.number}/{self.count}"


WHOLE = Part()


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


def score_next(*, after: uuid.UUID | None = None, limit: int = BATCH, settle: float = SETTLE_SECONDS,
               part: Part = WHOLE) -> int:
    """Score the part's next ``limit`` predictions past its checkpoint (or ``after``); how many were read.

    A part without a checkpoint starts where the whole pass stopped: before it, all was scored."""
    start = after or review.checkpoint(part.checkpoint) or review.checkpoint(WHOLE.checkpoint) or min_uuid_from_time(0)
    newest = ids.now() - settle
    view = paging.View(newer=True, shards=(part.number - 1, part.count))
    rows = [row for row in paging.page(view, cursor=start, limit=limit) if ids.unix_time(row.id) <= newest]
    score(rows)
    if rows:
        review.checkpoint_save(part.checkpoint, rows[-1].id)
    return len(rows)
