"""Reading a view of the history a page at a time, newest first, across shards and buckets.

A page is a keyset page: the rows just older (or, for "newer" links, just newer) than a cursor id.
The view's day list and each day's bucket list name the partitions that hold rows, in time order;
they are read in *waves* of 1, 2, 4 … buckets, and the slices of a wave's partitions, read
concurrently, are merged by id (``merge_slices``). Each slice starts small (about twice its share
of the page) and only a partition that could still hold rows of the page is read further.
"""

import datetime as dt
import heapq
import math
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain, groupby

from ..models import BucketEntry, DayEntry, FilterEntry, Prediction
from . import cql, ids
from .keys import ALL

Partition = tuple[dt.datetime, int]  # (bucket, shard)
# fetch([(partition, bound, n), ...]) -> for each, up to n items past ``bound`` in page order
Fetch = Callable[[list[tuple[Partition, uuid.UUID | None, int]]], list[list]]
MAX_WAVE_PARTITIONS = 64
DAY_FETCH_SIZE = 32


@dataclass(frozen=True)
class View:
    """Which rows, and in which direction: ``newer`` pages go forward in time from the cursor."""

    scope: str = ALL
    newer: bool = False
    date_from: dt.date | None = None
    date_to: dt.date | None = None


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


def page(view: View, *, cursor: uuid.UUID | None, limit: int) -> list[Prediction]:
    """Up to ``limit`` rows of ``view`` past ``cursor``, in page order (oldest first for newer pages)."""
    rows: list[Prediction] = []
    bound = cursor
    fetch = _fetcher(view)
    for wave in _waves(view, cursor):
        while len(rows) < limit:
            need = limit - len(rows)
            entries = merge_slices(wave, fetch, bound=bound, limit=need, newer=view.newer)
            # An index entry whose row is missing (a delete racing the read) is skipped.
            rows += entries if view.scope == ALL else rows_by_id([entry.id for entry in entries])
            if len(entries) < need:  # the wave is exhausted
                break
            bound = entries[-1].id
        if len(rows) >= limit:
            break
    return rows


def rows_by_id(prediction_ids: Sequence[uuid.UUID]) -> list[Prediction]:
    """The stored rows of these ids, in the same order; ids without a row are left out."""
    by_partition = defaultdict(list)
    for prediction_id in prediction_ids:
        by_partition[ids.partition_of(prediction_id)].append(prediction_id)
    statements = [
        cql.select(Prediction, "bucket = ? AND shard = ? AND id IN ?", [bucket, shard, members])
        for (bucket, shard), members in by_partition.items()
    ]
    found = {row["id"]: row for rows in cql.run_concurrently(statements) for row in rows}
    return cql.instances(Prediction, [found[i] for i in prediction_ids if i in found])


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
            return [cql.instances(Prediction, rows) for rows in results]
        return [[_Id(row["id"]) for row in rows] for rows in results]

    return fetch


def _waves(view: View, cursor: uuid.UUID | None) -> Iterator[list[Partition]]:
    """The view's partitions in page order, grouped in waves of 1, 2, 4 … buckets (at most
    MAX_WAVE_PARTITIONS partitions, unless one bucket alone has more)."""
    wave: list[Partition] = []
    buckets_in_wave, target = 0, 1
    for bucket, entries in groupby(_bucket_entries(view, cursor), key=lambda entry: entry[0]):
        shards = [(bucket, shard) for _, shard in entries]
        if wave and (buckets_in_wave >= target or len(wave) + len(shards) > MAX_WAVE_PARTITIONS):
            yield wave
            wave, buckets_in_wave, target = [], 0, target * 2
        wave += shards
        buckets_in_wave += 1
    if wave:
        yield wave


def _bucket_entries(view: View, cursor: uuid.UUID | None) -> Iterator[Partition]:
    """(bucket, shard) of every partition holding rows of the view, bucket by bucket in page order."""
    first_day, last_day = view.date_from, view.date_to
    cursor_bucket = ids.bucket_of(cursor) if cursor is not None else None
    if cursor_bucket is not None:  # the cursor's own day and, in page order, those after it
        if view.newer:
            first_day = max(first_day, cursor_bucket.date()) if first_day else cursor_bucket.date()
        else:
            last_day = min(last_day, cursor_bucket.date()) if last_day else cursor_bucket.date()
    where, values = "scope = ?", [view.scope]
    if first_day:
        where, values = where + " AND day >= ?", [*values, first_day]
    if last_day:
        where, values = where + " AND day <= ?", [*values, last_day]
    days = cql.select(DayEntry, where, values, tail="ORDER BY day ASC" if view.newer else "", columns="day")
    days.fetch_size = DAY_FETCH_SIZE
    for day in (row["day"] for row in cql.iterate(days)):
        where, values = "scope = ? AND day = ?", [view.scope, day]
        if cursor_bucket is not None and day.date() == cursor_bucket.date():
            where, values = where + (" AND bucket >= ?" if view.newer else " AND bucket <= ?"), [*values, cursor_bucket]
        tail = "ORDER BY bucket ASC, shard DESC" if view.newer else ""  # else the tables' own order
        for row in cql.run(cql.select(BucketEntry, where, values, tail=tail, columns="bucket, shard")):
            yield row["bucket"], row["shard"]
