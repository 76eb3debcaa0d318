"""Reads of stored predictions, shaped by the Cassandra layout in ``models``.

Every read is a slice of a few small partitions: a page costs the same with a thousand or a
hundred million predictions stored.
"""

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

from . import counters
from .models import (
    ALL,
    CONFIDENCE_SCALE,
    LABELLED,
    Prediction,
    PredictionCounter,
    PredictionDay,
    PredictionImage,
    PredictionIndex,
    bucket_for,
    filter_key,
)


def prediction_get(*, prediction_id: uuid.UUID) -> Prediction | None:
    """One prediction by id: the id's timestamp names its partition, so this is a key lookup."""
    if prediction_id.version != 1:  # not a TimeUUID, so not one of ours
        return None
    return Prediction.objects.filter(bucket=bucket_for(prediction_id), id=prediction_id).first()


def prediction_image_get(*, prediction_id: uuid.UUID) -> PredictionImage | None:
    if prediction_id.version != 1:
        return None
    return PredictionImage.objects.filter(id=prediction_id).first()


@dataclass(frozen=True)
class Filters:
    """What a history view is narrowed to; every field optional."""

    digit: int | None = None
    label: int | None = None
    source: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    labelled: bool = False  # only corrected predictions (exports, training)

    @property
    def key(self) -> str:
        if self.labelled:
            return LABELLED
        return filter_key(digit=self.digit, label=self.label, source=self.source)


NO_FILTERS = Filters()


def prediction_list(
    *,
    before: uuid.UUID | None = None,
    after: uuid.UUID | None = None,
    limit: int = 50,
    filters: Filters = NO_FILTERS,
) -> list[Prediction]:
    """Up to ``limit`` predictions, newest first: the newest ones older than ``before``, or the
    oldest ones newer than ``after`` (for "newer" links), matching ``filters``.

    Walks the view's day list and slices one day partition at a time, ``limit`` rows at most.
    """
    newer = after is not None
    cursor = after if newer else before
    days = PredictionDay.objects.filter(scope=filters.key)
    if filters.date_from:
        days = days.filter(day__gte=filters.date_from)
    if filters.date_to:
        days = days.filter(day__lte=filters.date_to)
    if cursor is not None:
        days = days.filter(day__gte=bucket_for(cursor)) if newer else days.filter(day__lte=bucket_for(cursor))
    if newer:
        days = days.order_by("day")
    rows: list[Prediction] = []
    for entry in days:
        rows.extend(_day_slice(filters.key, entry.day, cursor, newer, limit - len(rows)))
        if len(rows) >= limit:
            break
    return rows[::-1] if newer else rows


def _day_slice(key: str, day: dt.date, cursor: uuid.UUID | None, newer: bool, limit: int) -> list[Prediction]:
    """Up to ``limit`` rows of one day in a view, continuing from ``cursor`` when it is in that day."""
    rows: list[Prediction] = []
    while len(rows) < limit:
        if key == ALL:
            table = Prediction.objects.filter(bucket=day)
        else:
            table = PredictionIndex.objects.filter(key=key, bucket=day)
        if cursor is not None and day == bucket_for(cursor):
            table = table.filter(id__gt=cursor) if newer else table.filter(id__lt=cursor)
        if newer:
            table = table.order_by("id")
        found = list(table.limit(limit - len(rows)))
        if key == ALL or not found:
            return rows + found
        # Index entries whose row was never written (a failed write) are skipped; read on so that
        # the page still ends at the day's next row, not early.
        by_id = {row.id: row for row in Prediction.objects.filter(bucket=day, id__in=[row.id for row in found])}
        rows += [by_id[row.id] for row in found if row.id in by_id]
        if len(by_id) == len(found):
            return rows
        cursor = found[-1].id
    return rows


def prediction_iter(*, filters: Filters = NO_FILTERS, batch: int = 500) -> Iterator[Prediction]:
    """Every matching prediction, newest first, read a page at a time (for exports)."""
    before = None
    while page := prediction_list(before=before, limit=batch, filters=filters):
        yield from page
        before = page[-1].id


@dataclass
class Stats:
    total: int = 0
    by_digit: dict[int, int] = field(default_factory=dict)
    by_source: dict[str, int] = field(default_factory=dict)
    by_day: dict[dt.date, int] = field(default_factory=dict)
    mean_confidence: float | None = None
    labelled: int = 0
    labelled_correct: int = 0
    confusion: list[list[int]] = field(default_factory=lambda: [[0] * 10 for _ in range(10)])

    @property
    def share_corrected(self) -> float | None:
        return self.labelled / self.total if self.total else None

    @property
    def accuracy(self) -> float | None:
        """How often the model agreed with the people who labelled its predictions."""
        return self.labelled_correct / self.labelled if self.labelled else None


def prediction_stats(*, days: int = 30, today: dt.date | None = None) -> Stats:
    """The stats page's figures, from the counters (a few small partitions, never a scan)."""
    counters.flush()  # this process's latest changes; other processes' arrive within a second
    values = {
        metric: {row.name: row.value for row in PredictionCounter.objects.filter(metric=metric)}
        for metric in ("total", "digit", "source", "confidence", "labelled", "labelled_correct", "confusion")
    }
    today = today or dt.datetime.now(dt.UTC).date()
    first = today - dt.timedelta(days=days - 1)
    names = [(first + dt.timedelta(days=n)).isoformat() for n in range(days)]
    per_day = {row.name: row.value for row in PredictionCounter.objects.filter(metric="day", name__in=names)}
    stats = Stats(
        total=values["total"].get(ALL, 0),
        by_digit={digit: values["digit"].get(str(digit), 0) for digit in range(10)},
        by_source=dict(sorted(values["source"].items())),
        by_day={dt.date.fromisoformat(name): per_day.get(name, 0) for name in names},
        labelled=values["labelled"].get(ALL, 0),
        labelled_correct=values["labelled_correct"].get(ALL, 0),
    )
    if stats.total:
        stats.mean_confidence = values["confidence"].get(ALL, 0) / CONFIDENCE_SCALE / stats.total
    for pair, count in values["confusion"].items():
        predicted, label = (int(part) for part in pair.split(","))
        stats.confusion[label][predicted] = count
    return stats
