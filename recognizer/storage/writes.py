"""The statements that store, correct and delete a prediction in the layout of ``models``.

A new prediction is one LOGGED batch: its row, its filter-index entries, the list entries a
reader needs to find them, and (when small) its original. ``bench/storage.py`` measured this
against the same statements sent concurrently (``execute_concurrent``, each idempotent): the
batch costs less, client and server, and a reader never sees an index entry without its row.
Every statement of a creation is written at the id's own timestamp (``ids.write_time``), so
repeating it (driver retry, client retry, copy) changes nothing, and later corrections win.
"""

import datetime as dt
import threading
import uuid

from cassandra.query import BoundStatement

from ..models import BucketEntry, FilterEntry, MonthEntry, OriginalChunk, Prediction
from . import cql, ids
from .keys import ALL, filter_keys
from .records import StoredPrediction

# Cassandra refuses batches over `batch_size_fail_threshold` (default 50 KiB): bigger originals,
# such as photos, are written (concurrently, in chunks) before the batch that makes them visible.
BATCHED_IMAGE_BYTES = 32 * 1024
CHUNK_BYTES = 512 * 1024  # Cassandra advises cells under 1 MB


class ListedEntries:
    """The month and bucket list entries this process has written: each is written once per process
    (per bucket) instead of with every prediction. Lists never shrink, so a remembered entry stays
    true; entries of buckets older than the newest few are forgotten to bound the memory."""

    KEEP_BUCKETS = 6

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_bucket: dict[dt.datetime, set[tuple]] = {}

    def missing(self, entries: set[tuple], bucket: dt.datetime) -> set[tuple]:
        with self._lock:
            return entries - self._by_bucket.get(bucket, set())

    def remember(self, entries: set[tuple], bucket: dt.datetime) -> None:
        with self._lock:
            self._by_bucket.setdefault(bucket, set()).update(entries)
            for old in sorted(self._by_bucket)[:-self.KEEP_BUCKETS]:
                del self._by_bucket[old]

    def clear(self) -> None:
        with self._lock:
            self._by_bucket.clear()


listed = ListedEntries()


def keys_of(prediction: StoredPrediction) -> set[str]:
    return filter_keys(digit=prediction.digit, label=prediction.corrected_label, source=prediction.source)


def original_chunks(prediction_id: uuid.UUID, data: bytes, *, timestamp: int | None) -> list[BoundStatement]:
    pieces = [data[start:start + CHUNK_BYTES] for start in range(0, len(data), CHUNK_BYTES)] or [b""]
    return [
        cql.insert(OriginalChunk, {"id": prediction_id, "chunk": number, "data": piece}, timestamp=timestamp)
        for number, piece in enumerate(pieces)
    ]


def creation(prediction: StoredPrediction, original: bytes) -> tuple[list[BoundStatement], list[BoundStatement], set]:
    """(statements to run before the batch, the batch, list entries to remember once it is written)."""
    timestamp = ids.write_time(prediction.id)
    chunks = original_chunks(prediction.id, original, timestamp=timestamp)
    keys = keys_of(prediction)
    new_entries = new_list_entries(prediction, keys | {ALL})
    batch = [
        cql.insert(Prediction, prediction.columns(), timestamp=timestamp),
        *index_entries(prediction, keys, timestamp=timestamp),
        *list_entries(new_entries, timestamp=timestamp),
    ]
    if len(original) <= BATCHED_IMAGE_BYTES:
        return [], chunks + batch, new_entries
    return chunks, batch, new_entries


def index_entries(prediction: StoredPrediction, keys: set[str], *, timestamp: int | None = None
                  ) -> list[BoundStatement]:
    return [cql.insert(FilterEntry, _entry_key(prediction, key), timestamp=timestamp) for key in sorted(keys)]


def index_removals(prediction: StoredPrediction, keys: set[str], *, timestamp: int | None = None
                   ) -> list[BoundStatement]:
    return [cql.delete(FilterEntry, _entry_key(prediction, key), timestamp=timestamp) for key in sorted(keys)]


def _entry_key(prediction: StoredPrediction, key: str) -> dict:
    return {"key": key, "bucket": prediction.bucket, "shard": prediction.shard, "id": prediction.id}


def _entries(prediction: StoredPrediction, scopes: set[str]) -> set[tuple]:
    month = ids.month_of(prediction.bucket)
    return {
        entry
        for scope in scopes
        for entry in (("month", scope, month), ("bucket", scope, month, prediction.bucket, prediction.shard))
    }


def new_list_entries(prediction: StoredPrediction, keys: set[str]) -> set[tuple]:
    """The list entries (not yet written by this process) that make ``keys`` find this prediction."""
    return listed.missing(_entries(prediction, keys), prediction.bucket)


def list_entries(entries: set[tuple], *, timestamp: int | None = None) -> list[BoundStatement]:
    statements = []
    for kind, scope, month, *partition in sorted(entries, key=repr):
        if kind == "month":
            values = {"scope": scope, "month": month}
            statements.append(cql.insert(MonthEntry, values, timestamp=timestamp))
        else:
            bucket, shard = partition
            using = "USING TIMESTAMP ? " if timestamp is not None else ""
            add = (f"UPDATE {BucketEntry.column_family_name()} {using}SET shards = shards + ? "
                   "WHERE scope = ? AND month = ? AND bucket = ?")
            statements.append(cql.bind(add, [*([timestamp] if using else []), {shard}, scope, month, bucket]))
    return statements


def change_time(prediction: StoredPrediction, version: int) -> int:
    """The write time of what the change to ``version`` writes besides the row: after the creation
    (``ids.write_time``) and after every earlier change, however late its statements arrive."""
    return ids.write_time(prediction.id) + version


def _row_key(prediction: StoredPrediction) -> dict:
    return {"bucket": prediction.bucket, "shard": prediction.shard, "id": prediction.id}


def correction_if_unchanged(prediction: StoredPrediction, changed: StoredPrediction) -> BoundStatement:
    """A lightweight transaction setting ``changed``'s correction, applied only if the row still
    exists (``digit``) at ``prediction``'s version: of two racing changes one wins."""
    sets = "corrected_label = ?, corrected_by = ?, corrected_at = ?, version = ?"
    where = " AND ".join(f"{name} = ?" for name in _row_key(prediction))
    return cql.bind(f"UPDATE {Prediction.column_family_name()} SET {sets} WHERE {where} IF version = ? AND digit = ?",
                    [changed.corrected_label, changed.corrected_by, changed.corrected_at, changed.version,
                     *_row_key(prediction).values(), prediction.version, prediction.digit])


def deletion_if_unchanged(prediction: StoredPrediction) -> BoundStatement:
    """A lightweight transaction deleting the row, applied only if it is still at ``prediction``'s version."""
    where = " AND ".join(f"{name} = ?" for name in _row_key(prediction))
    return cql.bind(f"DELETE FROM {Prediction.column_family_name()} WHERE {where} IF version = ? AND digit = ?",
                    [*_row_key(prediction).values(), prediction.version, prediction.digit])


def correction_followers(before: StoredPrediction, after: StoredPrediction) -> tuple[list[BoundStatement], set]:
    """What the winner of a correction writes next: index entries moved, new list entries."""
    old_keys, new_keys = keys_of(before), keys_of(after)
    at = change_time(after, after.version)
    entries = new_list_entries(after, new_keys - old_keys)
    return [
        *index_removals(after, old_keys - new_keys, timestamp=at),
        *index_entries(after, new_keys - old_keys, timestamp=at),
        *list_entries(entries),
    ], entries


def deletion_followers(deleted: StoredPrediction) -> list[BoundStatement]:
    """What the winner of a delete removes next: the original and the index entries. List entries
    stay: a reader skips an emptied partition at the cost of one small read."""
    return [
        cql.delete(OriginalChunk, {"id": deleted.id}),
        *index_removals(deleted, keys_of(deleted), timestamp=change_time(deleted, (deleted.version or 0) + 1)),
    ]
