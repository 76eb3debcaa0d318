"""The review queue: unlabelled predictions the model most likely got wrong, readable in that order.

A scored prediction (``doubt``, ``ml.doubt``) of at least ``QUEUE_FROM`` is listed in
``review_queue`` under each view it belongs to (``all``, its digit, its source, both), in the
partition of its doubt *band* and its *hour*, clustered by doubt. Bands are an eighth of a decade
of doubt wide: within a band the doubts differ by less than a third, so the queue reads a band's
newest hours first and the most doubtful first within each hour. ``review_hours`` lists, per view
and band, the hours holding entries, so a read touches only partitions that hold some (an hour
found empty is struck from the list, at the time of the read: an entry written after it relists
the hour). No partition grows with time: an hour of one band holds what the design rate puts in
it (docs/review.md).

Entries are written at the prediction's own write time (``ids.write_time``) and removed by
corrections and deletes at theirs (``writes.change_time``, ``writes.deletion_time``), so a
scoring pass that runs late never puts back what a label took out. A reader skips, and removes,
an entry whose prediction is gone or labelled.

``review_leases`` holds who is reviewing an entry (a few seconds, with a TTL): concurrent
reviewers are handed different predictions; a skipped one is leased to nobody for longer.
"""

import datetime as dt
import math
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from cassandra.query import BoundStatement

from ..models import ReviewEntry, ReviewHour, ReviewLease, ReviewPass
from . import cql, ids
from .keys import ALL, filter_keys

QUEUE_FROM = 0.02  # less doubtful predictions are not queued (about 5 % of MNIST-like digits are)
BANDS_PER_DECADE = 8
BANDS = 24  # band 23 holds doubts of 0.75 and up; band 10 starts at QUEUE_FROM
HOURS_FETCH_SIZE = 32
WAVE = 8  # hour partitions read at once
SKIPPED = "skipped"


def band_of(doubt: float) -> int:
    """The doubt's band: higher is more doubtful."""
    return max(0, BANDS - 1 - int(-BANDS_PER_DECADE * math.log10(max(doubt, 1e-12))))


LOWEST_BAND = band_of(QUEUE_FROM)


def hour_of(prediction_id: uuid.UUID) -> dt.datetime:
    seconds = int(ids.unix_time(prediction_id)) // 3600 * 3600
    return dt.datetime(1970, 1, 1) + dt.timedelta(seconds=seconds)


def queued(prediction) -> bool:
    """Whether the prediction belongs in the queue: scored doubtful enough, and not labelled."""
    doubt = getattr(prediction, "doubt", None)  # records read before scoring, and plain test records, have none
    return doubt is not None and doubt >= QUEUE_FROM and prediction.corrected_label is None


def scopes_of(prediction) -> set[str]:
    """The views whose queues list the prediction (a label takes it out of all of them)."""
    return {ALL} | filter_keys(digit=prediction.digit, label=None, source=prediction.source)


def _entry_key(prediction, scope: str) -> dict:
    return {"scope": scope, "band": band_of(prediction.doubt), "hour": hour_of(prediction.id),
            "doubt": prediction.doubt, "id": prediction.id}


def entries(prediction, *, timestamp: int) -> list[BoundStatement]:
    """The queue entries of a queued prediction, and the hour list entries that find them."""
    if not queued(prediction):
        return []
    return [
        *(cql.insert(ReviewEntry, _entry_key(prediction, scope), timestamp=timestamp)
          for scope in sorted(scopes_of(prediction))),
        *(cql.insert(ReviewHour, {"scope": scope, "band": band_of(prediction.doubt), "hour": hour_of(prediction.id)})
          for scope in sorted(scopes_of(prediction))),
    ]


def removals(prediction, *, timestamp: int) -> list[BoundStatement]:
    """Every queue entry the prediction can have (none if it was never scored)."""
    if prediction.doubt is None:
        return []
    return [cql.delete(ReviewEntry, _entry_key(prediction, scope), timestamp=timestamp)
            for scope in sorted(scopes_of(prediction))]


@dataclass(frozen=True)
class Entry:
    scope: str
    band: int
    hour: dt.datetime
    doubt: float
    id: uuid.UUID


def _hours(scope: str, band: int, date_from: dt.date | None, date_to: dt.date | None) -> Iterator[dt.datetime]:
    where, values = "scope = ? AND band = ?", [scope, band]
    if date_from:
        where, values = where + " AND hour >= ?", [*values, dt.datetime.combine(date_from, dt.time())]
    if date_to:
        where, values = where + " AND hour < ?", [*values, dt.datetime.combine(date_to + dt.timedelta(days=1),
                                                                                  dt.time())]
    statement = cql.select(ReviewHour, where, values, columns="hour")
    statement.fetch_size = HOURS_FETCH_SIZE
    return (row["hour"] for row in cql.iterate(statement))


def _partitions(scope: str, date_from: dt.date | None, date_to: dt.date | None) -> Iterator[tuple[int, dt.datetime]]:
    for band in range(BANDS - 1, LOWEST_BAND - 1, -1):
        for hour in _hours(scope, band, date_from, date_to):
            yield band, hour


def read(*, scope: str = ALL, limit: int, date_from: dt.date | None = None, date_to: dt.date | None = None
         ) -> list[Entry]:
    """The first ``limit`` entries of a view's queue, most doubtful band first (see the module)."""
    found: list[Entry] = []
    partitions = _partitions(scope, date_from, date_to)
    while len(found) < limit:
        wave = [partition for _, partition in zip(range(WAVE), partitions, strict=False)]
        if not wave:
            break
        started = int(time.time() * 1_000_000)
        slices = cql.run_concurrently([
            cql.select(ReviewEntry, "scope = ? AND band = ? AND hour = ?", [scope, band, hour, limit],
                       tail="LIMIT ?", columns="doubt, id")
            for band, hour in wave])
        emptied = []
        for (band, hour), rows in zip(wave, slices, strict=True):
            found += [Entry(scope, band, hour, row["doubt"], row["id"]) for row in rows]
            if not rows:
                emptied.append(cql.delete(ReviewHour, {"scope": scope, "band": band, "hour": hour},
                                          timestamp=started))
        if emptied:
            cql.run_concurrently(emptied)
    return found[:limit]


def remove(entry: Entry, *, timestamp: int) -> BoundStatement:
    """Take one stale entry out (its prediction is gone or labelled)."""
    return cql.delete(ReviewEntry, {"scope": entry.scope, "band": entry.band, "hour": entry.hour,
                                    "doubt": entry.doubt, "id": entry.id}, timestamp=timestamp)


def claim(prediction_ids: list[uuid.UUID], *, holder: str, seconds: int) -> list[bool]:
    """Lease each prediction to ``holder`` for ``seconds`` unless someone else holds it: which it got."""
    statements = [cql.bind(f"INSERT INTO {ReviewLease.column_family_name()} (id, holder) VALUES (?, ?) "
                           "IF NOT EXISTS USING TTL ?", [prediction_id, holder, seconds])
                  for prediction_id in prediction_ids]
    return [rows[0]["[applied]"] or rows[0].get("holder") == holder for rows in cql.run_concurrently(statements)]


def lease(prediction_id: uuid.UUID, *, holder: str, seconds: int) -> None:
    """Hold a prediction (``SKIPPED``: keep it from everyone) for ``seconds``, whoever held it."""
    cql.run(cql.bind(f"INSERT INTO {ReviewLease.column_family_name()} (id, holder) VALUES (?, ?) USING TTL ?",
                     [prediction_id, holder, seconds]))


def checkpoint(name: str) -> uuid.UUID | None:
    """Where the scoring pass (or one part of it: ``scoring.Part``) stopped."""
    rows = cql.run(cql.select(ReviewPass, "name = ?", [name]))
    return rows[0]["last_id"] if rows else None


def checkpoint_save(name: str, last_id: uuid.UUID) -> None:
    cql.run(cql.insert(ReviewPass, {"name": name, "last_id": last_id}))
