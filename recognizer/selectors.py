"""Reads of stored predictions, shaped by the Cassandra layout in ``models``."""

import uuid

from .models import ALL, Prediction, PredictionDay, PredictionImage, PredictionIndex, bucket_for, filter_key


def prediction_get(*, prediction_id: uuid.UUID) -> Prediction | None:
    """One prediction by id: the id's timestamp names its partition, so this is a key lookup."""
    if prediction_id.version != 1:  # not a TimeUUID, so not one of ours
        return None
    return Prediction.objects.filter(bucket=bucket_for(prediction_id), id=prediction_id).first()


def prediction_image_get(*, prediction_id: uuid.UUID) -> PredictionImage | None:
    if prediction_id.version != 1:
        return None
    return PredictionImage.objects.filter(id=prediction_id).first()


def prediction_list(
    *, before: uuid.UUID | None = None, limit: int = 50, digit: int | None = None, source: str | None = None
) -> list[Prediction]:
    """Up to ``limit`` predictions, newest first, older than ``before`` when given, optionally
    only those with the predicted ``digit`` and/or ``source``.

    Walks the day list of the (filtered) view newest first and slices each day's partition, so
    the cost depends on the page size, not on how many predictions are stored.
    """
    key = filter_key(digit=digit, source=source)
    days = PredictionDay.objects.filter(scope=key)
    if before is not None:
        days = days.filter(day__lte=bucket_for(before))
    rows: list[Prediction] = []
    for entry in days:
        wanted = limit - len(rows)
        if key == ALL:
            query = Prediction.objects.filter(bucket=entry.day)
        else:
            query = PredictionIndex.objects.filter(key=key, bucket=entry.day)
        if before is not None and entry.day == bucket_for(before):
            query = query.filter(id__lt=before)
        found = list(query.limit(wanted))
        if key != ALL and found:
            found = list(Prediction.objects.filter(bucket=entry.day, id__in=[row.id for row in found]))
        rows.extend(found)
        if len(rows) >= limit:
            break
    return rows
