"""Copy predictions from the first layout (one partition per UTC day) into today's.

The first layout kept rows in ``prediction`` (partition: day), originals in ``prediction_image``
and the days in ``prediction_day``. The copy walks those days newest first, and each day's rows
a page at a time, and writes every row under its own id (so old links keep working) at the id's
own write time: copying a row twice changes nothing, and a correction made in the new layout
since then wins. The stats totals are not touched: ``prediction_counter`` is the same table in
both layouts. The last copied id is kept in a checkpoint file, so an interrupted copy resumes.
Deleting a copied prediction deletes its first-layout row too (``tables.legacy_removals``): a copy
run again later, once the new layout's tombstone is purged (``gc_grace_seconds``), cannot bring it back.
"""

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from cassandra import InvalidRequest

from ..storage import cql, ids, writes
from ..storage.keys import ALL
from ..storage.records import StoredPrediction
from .tables import LegacyDay, LegacyImage, LegacyPrediction

PAGE = 500


def legacy_days() -> list:
    """The first layout's days, newest first; none when its tables were never created here."""
    try:
        return [row["day"] for row in cql.run(cql.select(LegacyDay, "scope = ?", [ALL], columns="day"))]
    except InvalidRequest:  # "unconfigured table": a keyspace that began with today's layout
        return []


def legacy_rows(day, *, before: uuid.UUID | None) -> Iterator[dict]:
    """One day's rows of the first layout, newest first, older than ``before`` when given."""
    while True:
        where, values = ("bucket = ? AND id < ?", [day, before]) if before else ("bucket = ?", [day])
        rows = cql.run(cql.select(LegacyPrediction, where, [*values, PAGE], tail="LIMIT ?"))
        yield from rows
        if len(rows) < PAGE:
            return
        before = rows[-1]["id"]


def copy_row(row: dict) -> None:
    """Write one first-layout row, its original and its listings in the new layout."""
    bucket, shard = ids.partition_of(row["id"])
    prediction = StoredPrediction(**{**row, "bucket": bucket, "shard": shard})
    images = cql.run(cql.select(LegacyImage, "id = ?", [row["id"]], columns="data"))
    original = images[0]["data"] if images else b""
    prediction.image_size = len(original)  # so that a missing original reads as missing, not as corrupt
    writes.store(prediction, original)


def copy_all(*, checkpoint: Path, on_day: Callable[[int], None] = lambda copied: None) -> int:
    """Copy every first-layout row not yet copied; returns how many this run copied.

    Days are walked newest first; the checkpoint holds the last id copied, so a second run goes on
    from there (and a finished copy, run again, copies nothing).
    """
    saved = checkpoint.read_text().strip() if checkpoint.exists() else ""
    done = uuid.UUID(saved) if saved else None
    done_day = ids.bucket_of(done).date() if done else None
    copied = 0
    for day in legacy_days():
        if done_day is not None and day.date() > done_day:  # copied by an earlier run
            on_day(copied)
            continue
        resume = done if day.date() == done_day else None
        for row in legacy_rows(day, before=resume):
            copy_row(row)
            copied += 1
            checkpoint.write_text(str(row["id"]))
        on_day(copied)
    return copied
