"""Reading a view of the history a page at a time, newest first, across shards and buckets.

A page is a keyset page: the rows just older (or, for "newer" links, just newer) than a cursor id.
The view's month list and each month's bucket list name the partitions that hold rows, in time order;
they are read in *waves*: the first takes one bucket, the next as many as the rows per bucket seen
so far say the page still needs. The slices of a wave's partitions, read concurrently, are merged
by id (``merge_slices``). Each slice starts small (about twice its share of the page) and only a
partition that could still hold rows of the page is read further.
"""

import datetime as dt
import heapq
import math
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain, groupby

from ..models import BucketEntry, FilterEntry, MonthEntry, Prediction
from . import cql, ids
from .keys import ALL, keys_of
from .records import StoredPrediction, from_rows

Partition = tuple[dt.datetime, int]  # (bucket, shard)
# fetch([(partition, bound, n), ...]) -> for each, up to n items past ``bound`` in page order
Fetch = Callable[[list[tuple[Partition, uuid.UUID | None, int]]], list[list]]
MAX_WAVE_PARTITIONS = 64
MONTH_FETCH_SIZE = 12
BUCKET_FETCH_SIZE = 256  # buckets read per round trip, lazily


@dataclass(frozen=True)
class View:
    """Which rows, and in which direction: ``newer`` pages go forward in time from the cursor."""

    scope: str = ALL
    newer: bool = False
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    shards: tuple[int, int] = (0, 1)  # (k, n): only the shards whose number modulo n is k


def merge_slices(partitions: Sequence[Partition], fetch: Fetch, *, bound: uuid.UUID | None, limit: int,
                 newer: bool) -> list:
    """The first ``limit`` items, in page order, of the union of the partitions' items past ``bound``."""
    if not partitions or limit <= 0:
        return []
    direction = 1 if newer else -1  # page order: ascending ids for newer pages, else descending

    def position(item) -> tuple[int, int]:
        time, low = ids.order_key(item.id)
        return direction * time, direction * low

    taken: dict[Partition, list] = {partition: [] for partition in partitions}
    last = {partition: bound for partition in partitions}
    pending, size = list(partitions), max(4, math.ceil(2 * limit / len(partitions)))
    while pending:
        for partition, items in zip(pending, fetch([(p, last[p], size) for p in pending]), strict=True):
            taken[partition] += items
            last[partition] = items[-1].id if items else last[partition]
            if len(items) < size:  # this partition has nothing more past ``bound``
                del last[partition]
        merged = heapq.nsmallest(limit, chain.from_iterable(taken.values()), key=position)
        cutoff = position(merged[-1]) if len(merged) == limit else None
        # A partition read up to an id before the cutoff may hold more of the page: read on.
        pending = [p for p in last if cutoff is None or position(_Id(last[p])) < cutoff]
        size *= 2
    return merged


@dataclass(frozen=True)
class _Id:
    id: uuid.UUID


def page(view: View, *, cursor: uuid.UUID | None, limit: int) -> list[StoredPrediction]:
    """Up to ``limit`` rows of ``view`` past ``cursor``, in page order (oldest first for newer pages)."""
    rows: list[StoredPrediction] = []
    bound, fetch = cursor, _fetcher(view)
    buckets = groupby(_bucket_entries(view, cursor), key=lambda entry: entry[0])
    found = buckets_read = 0
    while len(rows) < limit and (wave := _wave(buckets, _wave_buckets(limit - len(rows), found, buckets_read))):
        buckets_read += len({bucket for bucket, _ in wave})
        while len(rows) < limit:
            need = limit - len(rows)
            entries = merge_slices(wave, fetch, bound=bound, limit=need, newer=view.newer)
            found += len(entries)
            rows += [row for row in (entries if view.scope == ALL else rows_by_id([entry.id for entry in entries]))
                     if shows(row, view.scope)]
            if len(entries) < need:  # the wave is exhausted
                break
            bound = entries[-1].id
    return rows


def shows(row: StoredPrediction, scope: str) -> bool:
    """Whether a row read for ``scope`` belongs in it: not being deleted, and (for a filtered view)
    still matching the filter. A stale index entry (a change whose follow-up writes are still in
    the outbox) is skipped, as is one whose row is missing (a delete racing the read)."""
    return not row.deleted and (scope == ALL or scope in keys_of(row))


def _wave_buckets(need: int, found: int, buckets_read: int) -> int:
    """How many buckets the next wave should take: one at first, then as many as the density seen
    so far says the rest of the page needs (a quarter more, for luck)."""
    if not buckets_read:
        return 1
    return max(1, math.ceil(1.25 * need * buckets_read / max(found, 1)))


def _wave(buckets: Iterator, count: int) -> list[Partition]:
    """The partitions of the next ``count`` buckets, or fewer if that passes MAX_WAVE_PARTITIONS
    (a bucket is never split)."""
    wave: list[Partition] = []
    for taken, (bucket, entries) in enumerate(buckets, start=1):
        wave += [(bucket, shard) for _, shard in entries]
        if taken >= count or len(wave) >= MAX_WAVE_PARTITIONS:
            break
    return wave


def rows_by_id(prediction_ids: Sequence[uuid.UUID]) -> list[StoredPrediction]:
    """The stored rows of these ids, in the same order; ids without a row are left out."""
    by_partition = defaultdict(list)
    for prediction_id in prediction_ids:
        by_partition[ids.partition_of(prediction_id)].append(prediction_id)
    statements = [
        cql.select(Prediction, "bucket = ? AND shard = ? AND id IN ?", [bucket, shard, members])
        for (bucket, shard), members in by_partition.items()
    ]
    found = {row["id"]: row for rows in cql.run_concurrently(statements) for row in rows}
    return from_rows([found[i] for i in prediction_ids if i in found])


def _fetcher(view: View) -> Fetch:
    """Reads slices of the view's partitions: rows for ``all``, else the filter index's ids."""
    table, key = (Prediction, []) if view.scope == ALL else (FilterEntry, [view.scope])
    where = ("key = ? AND " if key else "") + "bucket = ? AND shard = ?"
    tail = "ORDER BY id ASC LIMIT ?" if view.newer else "LIMIT ?"
    beyond = " AND id > ?" if view.newer else " AND id < ?"
    columns = "*" if table is Prediction else "id"

    def fetch(requests):
        statements = [
            cql.select(table, where + beyond, [*key, bucket, shard, bound, size], tail=tail, columns=columns)
            if bound else cql.select(table, where, [*key, bucket, shard, size], tail=tail, columns=columns)
            for (bucket, shard), bound, size in requests
        ]
        results = cql.run_concurrently(statements)
        if table is Prediction:
            return [from_rows(rows) for rows in results]
        return [[_Id(row["id"]) for row in rows] for rows in results]

    return fetch


def _bucket_entries(view: View, cursor: uuid.UUID | None) -> Iterator[Partition]:
    """(bucket, shard) of every partition holding rows of the view, bucket by bucket in page order."""
    first = dt.datetime.combine(view.date_from, dt.time()) if view.date_from else None
    last = dt.datetime.combine(view.date_to, dt.time()) + dt.timedelta(days=1) - ids.BUCKET if view.date_to else None
    if cursor is not None:  # the cursor's own bucket and, in page order, those after it
        if view.newer:
            first = max(first, ids.bucket_of(cursor)) if first else ids.bucket_of(cursor)
        else:
            last = min(last, ids.bucket_of(cursor)) if last else ids.bucket_of(cursor)
    where, values = "scope = ?", [view.scope]
    if first:
        where, values = where + " AND month >= ?", [*values, ids.month_of(first)]
    if last:
        where, values = where + " AND month <= ?", [*values, ids.month_of(last)]
    months = cql.select(MonthEntry, where, values, tail="ORDER BY month ASC" if view.newer else "", columns="month")
    months.fetch_size = MONTH_FETCH_SIZE
    for month in [row["month"] for row in cql.iterate(months)]:
        where, values = "scope = ? AND month = ?", [view.scope, month]
        if first:
            where, values = where + " AND bucket >= ?", [*values, first]
        if last:
            where, values = where + " AND bucket <= ?", [*values, last]
        entries = cql.select(BucketEntry, where, values, columns="bucket, shards",
                             tail="ORDER BY bucket ASC" if view.newer else "")  # else the table's order
        entries.fetch_size = BUCKET_FETCH_SIZE
        part, parts = view.shards
        for row in cql.iterate(entries):
            for shard in sorted(row["shards"] or ()):
                if shard % parts == part:
                    yield row["bucket"], shard
