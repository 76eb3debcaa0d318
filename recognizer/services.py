"""Actions that change stored predictions."""

import datetime as dt
import time
from collections.abc import Sequence

from cassandra.cqlengine.query import BatchQuery
from cassandra.util import uuid_from_time

from .models import ALL, Prediction, PredictionDay, PredictionImage, PredictionIndex, bucket_for, filter_keys
from .recognition import ImageUpload, recognize


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

    The image goes first, on its own (megabytes do not belong in a batch); the row and its day
    index then go in one logged batch, so a prediction is either fully visible or not at all.

    ``created`` (a Unix time) is for importing older predictions; new ones take the current time.
    """
    timestamp = time.time() if created is None else created
    prediction_id = uuid_from_time(timestamp)
    digit = max(range(len(probabilities)), key=probabilities.__getitem__)
    prediction = Prediction(
        bucket=bucket_for(prediction_id),
        id=prediction_id,
        created_at=dt.datetime.fromtimestamp(timestamp, dt.UTC).replace(tzinfo=None),
        source=source,
        filename=filename,
        content_type=content_type,
        image_size=len(image),
        input_png=input_png,
        digit=digit,
        confidence=float(probabilities[digit]),
        probabilities=[float(p) for p in probabilities],
        model_version=model_version,
        latency_ms=latency_ms,
    )
    PredictionImage.create(id=prediction_id, content_type=content_type, data=image)
    with BatchQuery() as batch:
        prediction.batch(batch).save()
        PredictionDay.batch(batch).create(scope=ALL, day=prediction.bucket)
        for key in filter_keys(prediction):
            PredictionIndex.batch(batch).create(key=key, bucket=prediction.bucket, id=prediction_id)
            PredictionDay.batch(batch).create(scope=key, day=prediction.bucket)
    prediction._batch = None  # cqlengine keeps the spent batch; later saves would vanish into it
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
