"""Put the indexes, lists, originals and chunks right against the rows: ``manage.py repair_indexes``.

Three walks, each over a table's partitions in token order (``SELECT DISTINCT``), a page at a time:

1. rows: every row's filter-index and list entries are written again (the same writes as its
   creation or last correction: no tombstones), and a row marked deleted is removed with all it
   could have left (``writes.deletion_followers``);
2. the filter index: an entry whose row no longer has that key is removed at the row's change
   time; an entry whose row is gone is removed once it is older than ``orphan_age``;
3. originals: chunks whose rows are gone (every digit of their picture), once older than ``orphan_age``.

Every write carries the time of the change it completes, so a correction made meanwhile (at a
later time) wins over it: the walk is safe under traffic. Entries and chunks of a row that is
not there are left alone while younger than ``orphan_age``: a creation may still be waiting in
some web host's outbox. The pass and the page it reached are kept in a checkpoint file, so an
interrupted repair resumes.
"""

import base64
import datetime as dt
import json
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

from cassandra.cqlengine import connection
from cassandra.query import SimpleStatement

from ..models import FilterEntry, OriginalChunk, Prediction
from . import cql, ids, paging, writes
from .keys import ALL, keys_of
from .records import from_rows

PAGE = 200
ORPHAN_AGE = dt.timedelta(days=7)
PASSES = ("rows", "index", "chunks")


def repair(*, checkpoint: Path, orphan_age: dt.timedelta = ORPHAN_AGE,
           on_page: Callable[[str, int], None] = lambda walk, partitions: None) -> Counter:
    """Walk the three passes (resuming from ``checkpoint``); what was fixed, by kind."""
    state = json.loads(checkpoint.read_text()) if checkpoint.exists() else {"pass": PASSES[0], "page": None,
                                                                             "fixed": {}}
    fixed = Counter(state["fixed"])
    oldest = ids.now() - orphan_age.total_seconds()
    walks = {"rows": (Prediction, "bucket, shard", _repair_rows),
             "index": (FilterEntry, "key, bucket, shard", lambda keys: _repair_index(keys, oldest)),
             "chunks": (OriginalChunk, "id", lambda keys: _repair_chunks(keys, oldest))}
    for walk in PASSES[PASSES.index(state["pass"]):]:
        table, columns, mend = walks[walk]
        for partitions, page in _partitions(table, columns, state["page"] if walk == state["pass"] else None):
            fixed.update(mend(partitions))
            checkpoint.write_text(json.dumps({"pass": walk, "page": page, "fixed": fixed}))
            on_page(walk, len(partitions))
        state["page"] = None
    checkpoint.unlink(missing_ok=True)
    return +fixed


def _partitions(table, columns: str, page: str | None) -> Iterator[tuple[list[dict], str | None]]:
    """(partition keys of one page, the page after it) in token order, from ``page`` on."""
    statement = SimpleStatement(f"SELECT DISTINCT {columns} FROM {table.column_family_name()}", fetch_size=PAGE)
    session = connection.get_session()
    while True:
        result = session.execute(statement, paging_state=base64.b64decode(page) if page else None)
        following = result.paging_state
        page = base64.b64encode(following).decode() if following else None
        yield list(result.current_rows), page
        if page is None:
            return


def _repair_rows(partitions: list[dict]) -> Counter:
    fixed = Counter()
    statements = [cql.select(Prediction, "bucket = ? AND shard = ?", [p["bucket"], p["shard"]]) for p in partitions]
    for rows in cql.run_concurrently(statements):
        for row in from_rows(rows):
            if row.deleted:
                writes.follow(*writes.deletion_followers(row), row.bucket)
                fixed["deletions finished"] += 1
                continue
            at = writes.change_time(row, row.version or 0)
            keys = keys_of(row)
            cql.run_concurrently([*writes.index_entries(row, keys, timestamp=at),
                                  *writes.list_entries(writes.list_entries_of(row, keys | {ALL}), timestamp=at)])
            fixed["rows indexed"] += 1
    return fixed


def _repair_index(partitions: list[dict], oldest: float) -> Counter:
    fixed = Counter()
    for partition in partitions:
        entries = cql.run(cql.select(FilterEntry, "key = ? AND bucket = ? AND shard = ?",
                                     [partition["key"], partition["bucket"], partition["shard"]], columns="id"))
        found = {row.id: row for row in paging.rows_by_id([entry["id"] for entry in entries])}
        removals = []
        for entry in entries:
            row = found.get(entry["id"])
            if row is None and ids.unix_time(entry["id"]) < oldest:
                removals.append(cql.delete(FilterEntry, {**partition, "id": entry["id"]},
                                           timestamp=ids.write_time(entry["id"]) + writes.DELETION_MARGIN))
                fixed["orphan index entries"] += 1
            elif row is not None and partition["key"] not in keys_of(row):
                removals.append(cql.delete(FilterEntry, {**partition, "id": entry["id"]},
                                           timestamp=writes.change_time(row, row.version or 0)))
                fixed["stale index entries"] += 1
        cql.run_concurrently(removals)
    return fixed


def _repair_chunks(partitions: list[dict], oldest: float) -> Counter:
    """An original is stored under its picture's id, the first digit's; it is kept while any digit
    of the picture remains, so one without that row is looked for under every later digit's id."""
    candidates = [p["id"] for p in partitions if ids.is_prediction_id(p["id"]) and ids.unix_time(p["id"]) < oldest]
    found = {row.id for row in paging.rows_by_id(candidates)}
    unlisted = [prediction_id for prediction_id in candidates if prediction_id not in found]
    digits = {ids.digit_id(picture, position): picture for picture in unlisted for position in range(1, ids.MAX_DIGITS)}
    kept = {digits[row.id] for row in paging.rows_by_id(list(digits))}
    orphans = [prediction_id for prediction_id in unlisted if prediction_id not in kept]
    cql.run_concurrently([cql.delete(OriginalChunk, {"id": prediction_id},
                                     timestamp=ids.write_time(prediction_id) + writes.DELETION_MARGIN)
                          for prediction_id in orphans])
    return Counter({"orphan originals": len(orphans)} if orphans else {})
