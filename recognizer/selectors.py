"""Reads of stored predictions, shaped by the Cassandra layout in ``models``.

Every read is a slice of a few small partitions: a page costs the same with a thousand or a
hundred million predictions stored.
"""

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connections

from .drift import Day, Labelled
from .ml.runtime import CARD_FILE
from .models import MonthEntry, OriginalChunk, Prediction, StatCounter
from .storage import cql, drift, ids, outbox, paging, stats
from .storage.keys import ALL, LABELLED, filter_key
from .storage.records import StoredPrediction, from_rows
from .storage.stats import CONFIDENCE_SCALE, Stat

__all__ = ["StoredPrediction"]  # what the reads return, for the app's annotations
PROBE_TIMEOUT = 2.0


def prediction_get(*, prediction_id: uuid.UUID) -> StoredPrediction | None:
    """One prediction by id: the id names its partition (time bucket and shard), so this is one key read."""
    if not ids.is_prediction_id(prediction_id):  # not a TimeUUID, so not one of ours
        return None
    bucket, shard = ids.partition_of(prediction_id)
    statement = cql.select(Prediction, "bucket = ? AND shard = ? AND id = ?", [bucket, shard, prediction_id])
    rows = from_rows(cql.run(statement))
    return rows[0] if rows and paging.shows(rows[0], ALL) else None


def picture_digits_get(*, prediction: StoredPrediction) -> list[StoredPrediction]:
    """Every digit still stored of ``prediction``'s picture, in reading order (itself alone for a picture
    of one digit): one key read per digit, their ids following from the picture's."""
    if prediction.picture_id is None:
        return [prediction]
    digit_ids = [prediction.picture_id if position == 0 else ids.digit_id(prediction.picture_id, position)
                 for position in range(prediction.digit_count or 1)]
    digits = [prediction if digit_id == prediction.id else prediction_get(prediction_id=digit_id)
              for digit_id in digit_ids]
    return [digit for digit in digits if digit is not None]


@dataclass(frozen=True)
class Original:
    content_type: str
    data: bytes


def prediction_image_get(*, prediction_id: uuid.UUID) -> Original | None:
    """The original image, its chunks joined; None when the prediction (or any chunk) is missing."""
    prediction = prediction_get(prediction_id=prediction_id)
    if prediction is None:
        return None
    chunks = cql.run(cql.select(OriginalChunk, "id = ?", [prediction.picture], columns="data"))
    data = b"".join(row["data"] or b"" for row in chunks)
    return Original(prediction.content_type, data) if len(data) == prediction.image_size else None


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
) -> list[StoredPrediction]:
    """Up to ``limit`` predictions, newest first: the newest ones older than ``before``, or the
    oldest ones newer than ``after`` (for "newer" links), matching ``filters``."""
    newer = after is not None
    view = paging.View(scope=filters.key, newer=newer, date_from=filters.date_from, date_to=filters.date_to)
    rows = paging.page(view, cursor=after if newer else before, limit=limit)
    return rows[::-1] if newer else rows


def prediction_iter(*, filters: Filters = NO_FILTERS, batch: int = 500) -> Iterator[StoredPrediction]:
    """Every matching prediction, newest first, read a page at a time (for exports)."""
    before = None
    while page := prediction_list(before=before, limit=batch, filters=filters):
        yield from page
        before = page[-1].id


@dataclass
class Stats(Labelled):
    total: int = 0
    by_digit: dict[int, int] = field(default_factory=dict)
    by_source: dict[str, int] = field(default_factory=dict)
    by_day: dict[dt.date, int] = field(default_factory=dict)
    mean_confidence: float | None = None
    labelled: int = 0
    labelled_correct: int = 0
    confusion: list[list[int]] = field(default_factory=lambda: [[0] * 10 for _ in range(10)])

    @property
    def changed(self) -> int:
        """Labels that differ from the model's digit (the others confirm it)."""
        return self.labelled - self.labelled_correct

    @property
    def share_corrected(self) -> float | None:
        return self.labelled / self.total if self.total else None


def prediction_stats(*, days: int = 30, today: dt.date | None = None) -> Stats:
    """The stats page's figures, from the counters (a few small partitions, never a scan)."""
    stats.flush()  # this process's latest changes; other processes' arrive within a second
    families = [family for family in Stat if family != Stat.DAY]
    statements = [cql.select(StatCounter, "metric = ?", [family], columns="name, value") for family in families]
    values = {
        family: {row["name"]: row["value"] for row in rows}
        for family, rows in zip(families, cql.run_concurrently(statements), strict=True)
    }
    today = today or dt.datetime.now(dt.UTC).date()
    first = today - dt.timedelta(days=days - 1)
    names = [(first + dt.timedelta(days=n)).isoformat() for n in range(days)]
    day_rows = cql.run(cql.select(StatCounter, "metric = ? AND name IN ?", [Stat.DAY.value, names],
                                  columns="name, value"))
    per_day = {row["name"]: row["value"] for row in day_rows}
    figures = Stats(
        total=values[Stat.TOTAL].get(ALL, 0),
        by_digit={digit: values[Stat.DIGIT].get(str(digit), 0) for digit in range(10)},
        by_source=dict(sorted(values[Stat.SOURCE].items())),
        by_day={dt.date.fromisoformat(name): per_day.get(name, 0) for name in names},
        labelled=values[Stat.LABELLED].get(ALL, 0),
        labelled_correct=values[Stat.LABELLED_CORRECT].get(ALL, 0),
    )
    if figures.total:
        figures.mean_confidence = values[Stat.CONFIDENCE].get(ALL, 0) / CONFIDENCE_SCALE / figures.total
    for pair, count in values[Stat.CONFUSION].items():
        predicted, label = (int(part) for part in pair.split(","))
        figures.confusion[label][predicted] = count
    return figures


def outbox_depth() -> outbox.Depth:
    """What waits in this host's outbox for Cassandra, and for how long the oldest has."""
    return outbox.measure()


def store_probe() -> dict:
    """Whether a read at the configured consistency succeeds, the node's version and how far its
    clock is ahead of this server's (to the round trip's half); never raises."""
    try:
        session = connections["cassandra"].connection.session
        session.execute(cql.select(MonthEntry, "scope = ?", ["-healthz-"], tail="LIMIT 1"), timeout=PROBE_TIMEOUT)
        sent = ids.now()
        local = session.execute("SELECT release_version, toUnixTimestamp(now()) AS now FROM system.local",
                                timeout=PROBE_TIMEOUT).one()
        received = ids.now()
    except Exception as error:  # noqa: BLE001 - any failure means "not writable now", with its reason
        return {"writable": False, "error": f"{type(error).__name__}: {error}"}
    skew = local["now"] / 1000 - (sent + received) / 2
    return {"writable": True, "release_version": local["release_version"], "clock_skew_seconds": round(skew, 3)}


def drift_days(*, since: dt.date, until: dt.date) -> list[Day]:
    """Each model version's drift figures per day from ``since`` to ``until`` (UTC days), against the
    reference the operator chose (``DRIFT_REFERENCE``); this process's pending counts included."""
    stats.flush()
    card_path = Path(settings.NUMBERFIGURE_MODEL_DIR) / CARD_FILE
    card = json.loads(card_path.read_text()) if card_path.exists() else None
    return drift.days(since=since, until=until, reference=settings.NUMBERFIGURE_DRIFT_REFERENCE,
                      reference_days=settings.NUMBERFIGURE_DRIFT_REFERENCE_DAYS,
                      min_sample=settings.NUMBERFIGURE_DRIFT_MIN_SAMPLE, card=card)
