"""Actions that change stored predictions: record, correct, delete.

Each keeps the row, its filter indexes (``PredictionIndex``/``PredictionDay``) and the stats
counters in step, so every read stays a slice of a few small partitions.
"""

import datetime as dt
import time
from collections import Counter
from collections.abc import Sequence

import numpy as np
from cassandra.cqlengine.query import BatchQuery
from cassandra.util import uuid_from_time

from . import counters, metrics, statements
from .models import (
    ALL,
    CONFIDENCE_SCALE,
    Prediction,
    PredictionDay,
    PredictionImage,
    PredictionIndex,
    bucket_for,
    filter_keys,
)
from .recognition import ImageUpload, recognize

# Cassandra refuses batches over `batch_size_fail_threshold` (default 50 KiB): bigger originals,
# such as photos, are written on their own before the batch.
BATCHED_IMAGE_BYTES = 32 * 1024
# The (table, scope, day) entries this process has written. Day lists never shrink, so each is
# written once per process instead of with every prediction: 4 of a batch's 9 rows.
_listed_days: set[tuple[str, str, dt.date]] = set()


def prediction_record(
    *,
    source: str,
    filename: str | None,
    content_type: str,
    image: bytes,
    input_png: bytes,
    probabilities: Sequence[float],
    model_version: str,
    latency_ms: float,
    created: float | None = None,
) -> Prediction:
    """Store one prediction with its original image.

    The row, its filter-index entries and (when small) the image go in one logged batch: one
    round trip, and a prediction is either fully stored or not at all. ``created`` (a Unix time)
    is for importing older predictions; new ones take the current time.
    """
    timestamp = time.time() if created is None else created
    prediction_id = uuid_from_time(timestamp)
    digit = max(range(len(probabilities)), key=probabilities.__getitem__)
    prediction = Prediction(
        bucket=bucket_for(prediction_id),
        id=prediction_id,
        # As Cassandra keeps them (milliseconds, 32-bit floats): the answer to this request then
        # equals every later read of the prediction.
        created_at=dt.datetime.fromtimestamp(round(timestamp, 3), dt.UTC).replace(tzinfo=None),
        source=source,
        filename=filename,
        content_type=content_type,
        image_size=len(image),
        input_png=input_png,
        digit=digit,
        confidence=float(probabilities[digit]),
        probabilities=[float(p) for p in probabilities],
        model_version=model_version,
        latency_ms=float(np.float32(latency_ms)),
    )
    keys, day = filter_keys(prediction) | {ALL}, prediction.bucket
    new_days = {(PredictionDay.column_family_name(), key, day) for key in keys} - _listed_days
    insert = statements.insert_values
    listing = [
        statements.insert(prediction),
        *(insert(PredictionIndex, {"key": key, "bucket": day, "id": prediction_id}) for key in keys - {ALL}),
        *(insert(PredictionDay, {"scope": key, "day": day}) for _, key, day in new_days),
    ]
    original = insert(PredictionImage, {"id": prediction_id, "content_type": content_type, "data": image})
    with metrics.cassandra_write():
        if len(image) <= BATCHED_IMAGE_BYTES:
            statements.execute_atomically(original, *listing)
        else:  # the original first, so that no row ever points at a missing image
            statements.execute(original)
            statements.execute_atomically(*listing)
    _listed_days.update(new_days)
    counters.add(_totals(prediction))
    metrics.count_prediction(source, digit)
    return prediction


def predictions_create(*, uploads: Sequence[ImageUpload], source: str) -> list[Prediction]:
    """Recognise the uploads in one batch and store each; a bad upload stores nothing."""
    started = time.perf_counter()
    recognitions = recognize(uploads)
    latency_ms = (time.perf_counter() - started) * 1000
    return [
        prediction_record(
            source=source,
            filename=upload.filename,
            content_type=recognition.content_type,
            image=upload.data,
            input_png=recognition.input_png,
            probabilities=recognition.probabilities,
            model_version=recognition.model_version,
            latency_ms=latency_ms,
        )
        for upload, recognition in zip(uploads, recognitions, strict=True)
    ]


def prediction_correct(*, prediction: Prediction, label: int | None, user: str) -> Prediction:
    """Set the label a person says is right, or with ``label=None`` clear it."""
    old_keys, old_totals = filter_keys(prediction), _totals(prediction)
    prediction.corrected_label = label
    prediction.corrected_by = user if label is not None else None
    prediction.corrected_at = dt.datetime.now(dt.UTC).replace(tzinfo=None) if label is not None else None
    new_keys = filter_keys(prediction)
    with BatchQuery() as batch:
        prediction.batch(batch).update()
        _unindex(batch, prediction, old_keys - new_keys)
        _index(batch, prediction, new_keys - old_keys)
    prediction._batch = None
    change = _totals(prediction)
    change.subtract(old_totals)
    counters.add(change)
    return prediction


def prediction_delete(*, prediction: Prediction) -> None:
    """Remove a prediction, its image and its index entries, and take it out of the stats."""
    with BatchQuery() as batch:
        prediction.batch(batch).delete()
        PredictionImage.objects(id=prediction.id).batch(batch).delete()
        _unindex(batch, prediction, filter_keys(prediction))
    counters.add(Counter({key: -amount for key, amount in _totals(prediction).items()}))


def _index(batch: BatchQuery, prediction: Prediction, keys: set[str]) -> None:
    for key in keys:
        if key != ALL:
            PredictionIndex.batch(batch).create(key=key, bucket=prediction.bucket, id=prediction.id)
        PredictionDay.batch(batch).create(scope=key, day=prediction.bucket)


def _unindex(batch: BatchQuery, prediction: Prediction, keys: set[str]) -> None:
    """Drop index entries; day lists keep the day (a possibly empty day costs one small read)."""
    for key in keys - {ALL}:
        PredictionIndex.objects(key=key, bucket=prediction.bucket, id=prediction.id).batch(batch).delete()


def _totals(prediction: Prediction) -> Counter:
    """The counter increments one prediction stands for (``metric``, ``name``) -> amount."""
    totals = Counter({
        ("total", ALL): 1,
        ("digit", str(prediction.digit)): 1,
        ("source", prediction.source): 1,
        ("day", str(prediction.bucket)): 1,
        ("confidence", ALL): round(prediction.confidence * CONFIDENCE_SCALE),
    })
    if prediction.corrected_label is not None:
        totals[("labelled", ALL)] += 1
        totals[("labelled_correct", ALL)] += int(prediction.corrected_label == prediction.digit)
        totals[("confusion", f"{prediction.digit},{prediction.corrected_label}")] += 1
    return +totals
