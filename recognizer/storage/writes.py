"""The statements that store, correct and delete a prediction in the layout of ``models``.

A new prediction is one UNLOGGED batch (``cql.run_batch``; why not LOGGED: docs/data-layout.md):
its row, its filter-index entries, the list entries a reader needs to find them, and (when small)
its original.
Every statement of a creation is written at the id's own timestamp (``ids.write_time``), so
repeating it (driver retry, client retry, copy) changes nothing, and later corrections win.

A change (a correction, a delete) is a lightweight transaction on the row's ``version`` that also
writes the change's own id; its winner then writes the *whole target* of the other tables, not a
difference from the row as read: every filter key the row could be listed under is removed but
the ones it now has, at a write time ordered by version (``change_time``). A delete removes the
row, every key and, with a picture's last digit, the picture's chunks at ``deletion_time``, above
any write the creation or a change can make, whatever the clocks of the servers that made them.
Repeating a follow-up, or sending an older one late, changes nothing.
"""

import datetime as dt
import threading
import uuid

from cassandra.query import BoundStatement

from ..first_layout.tables import legacy_removals
from ..models import BucketEntry, FilterEntry, MonthEntry, OriginalChunk, Prediction
from . import cql, ids, review
from .keys import ALL, keys_of, possible_keys
from .records import StoredPrediction

# A delete's write time is this far above the id's (50 years, in µs): above every version of the
# creation (its id time) and of the changes' transactions (Cassandra's clock at each).
DELETION_MARGIN = 50 * 365 * 24 * 3600 * 1_000_000
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


def store(prediction: StoredPrediction, original: bytes) -> None:
    """Write a new prediction (or write it again: the same write), its original and its listings."""
    first, batch, entries = creation(prediction, original)
    if first:  # a large original, before anything that lists the prediction
        cql.run_concurrently(first)
    cql.run_batch(batch)
    listed.remember(entries, prediction.bucket)


def follow(statements: list[BoundStatement], entries: set, bucket: dt.datetime) -> None:
    """Write what follows a won change (idempotent statements, independent of each other)."""
    cql.run_concurrently(statements)
    listed.remember(entries, bucket)


def original_chunks(prediction_id: uuid.UUID, data: bytes, *, timestamp: int | None) -> list[BoundStatement]:
    pieces = [data[start:start + CHUNK_BYTES] for start in range(0, len(data), CHUNK_BYTES)] or [b""]
    return [
        cql.insert(OriginalChunk, {"id": prediction_id, "chunk": number, "data": piece}, timestamp=timestamp)
        for number, piece in enumerate(pieces)
    ]


def creation(prediction: StoredPrediction, original: bytes) -> tuple[list[BoundStatement], list[BoundStatement], set]:
    """(statements to run before the batch, the batch, list entries to remember once it is written)."""
    timestamp = ids.write_time(prediction.id)
    # A picture's original is stored once, under its first digit's id (the picture's).
    first = prediction.picture == prediction.id
    chunks = original_chunks(prediction.id, original, timestamp=timestamp) if first else []
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


def list_entries_of(prediction: StoredPrediction, scopes: set[str]) -> set[tuple]:
    """The month and bucket list entries that make ``scopes`` find this prediction."""
    month = ids.month_of(prediction.bucket)
    return {
        entry
        for scope in scopes
        for entry in (("month", scope, month), ("bucket", scope, month, prediction.bucket, prediction.shard))
    }


def new_list_entries(prediction: StoredPrediction, keys: set[str]) -> set[tuple]:
    """The list entries (not yet written by this process) that make ``keys`` find this prediction."""
    return listed.missing(list_entries_of(prediction, keys), prediction.bucket)


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


def deletion_time(prediction: StoredPrediction) -> int:
    return ids.write_time(prediction.id) + DELETION_MARGIN


def _row_key(prediction: StoredPrediction) -> dict:
    return {"bucket": prediction.bucket, "shard": prediction.shard, "id": prediction.id}


def _if_unchanged(sets: dict, prediction: StoredPrediction) -> BoundStatement:
    """A lightweight transaction setting ``sets``, applied only if the row still exists (``digit``)
    at ``prediction``'s version and is not being deleted: of two racing changes one wins."""
    where = " AND ".join(f"{name} = ?" for name in _row_key(prediction))
    return cql.bind(f"UPDATE {Prediction.column_family_name()} SET {', '.join(f'{name} = ?' for name in sets)} "
                    f"WHERE {where} IF version = ? AND digit = ? AND deleted = null",
                    [*sets.values(), *_row_key(prediction).values(), prediction.version, prediction.digit])


def correction_if_unchanged(prediction: StoredPrediction, changed: StoredPrediction) -> BoundStatement:
    """Set ``changed``'s correction, its version and change id, if ``prediction`` is still current."""
    return _if_unchanged({"corrected_label": changed.corrected_label, "corrected_by": changed.corrected_by,
                          "corrected_at": changed.corrected_at, "version": changed.version,
                          "change_id": changed.change_id}, prediction)


def deletion_if_unchanged(prediction: StoredPrediction, deleted: StoredPrediction) -> BoundStatement:
    """Mark the row deleted (readers stop showing it), if ``prediction`` is still current."""
    return _if_unchanged({"deleted": True, "version": deleted.version, "change_id": deleted.change_id}, prediction)


def correction_followers(after: StoredPrediction) -> tuple[list[BoundStatement], set]:
    """What the winner of a correction writes next: the row's index entries as they now should be,
    every other possible key removed, new list entries, and its review queue entries (out when
    labelled, back when the label is cleared)."""
    keys, at = keys_of(after), change_time(after, after.version)
    entries = new_list_entries(after, keys)
    queue = review.entries(after, timestamp=at) if review.queued(after) else review.removals(after, timestamp=at)
    return [
        *index_removals(after, possible_keys(after) - keys, timestamp=at),
        *index_entries(after, keys, timestamp=at),
        *list_entries(entries),
        *queue,
    ], entries


def deletion_followers(deleted: StoredPrediction) -> tuple[list[BoundStatement], set]:
    """What the winner of a delete removes next: the row, its picture's original once every digit
    of the picture is deleted, every index entry it could have, its review queue entries and its row
    in the first layout (``first_layout.tables``). List entries stay: a reader skips an emptied
    partition at the cost of one small read. Marks the digit deleted in its picture's original and
    reads the marks first (Cassandra must answer)."""
    at = deletion_time(deleted)
    return [
        cql.delete(Prediction, _row_key(deleted), timestamp=at),
        *original_removals(deleted),
        *index_removals(deleted, possible_keys(deleted), timestamp=at),
        *review.removals(deleted, timestamp=at),
        *legacy_removals(deleted, timestamp=at),
    ], set()


def original_removals(deleted: StoredPrediction) -> list[BoundStatement]:
    """The removal of the original ``deleted`` shares with its picture's other digits, once every digit
    of the picture is deleted: the original goes with the last, at the picture's own deletion time.

    A digit's delete marks its position in the original's partition, then reads the marks. A digit
    not yet stored (waiting in some host's outbox) has no mark, so the original stays for it in
    whatever order the outboxes replay; reading the siblings' rows could not tell it from a deleted
    one. Each digit's winning change is decided before it marks, and it marks before it reads (at the
    configured consistency), so of two digits deleted at once at least one sees both marks. The
    removal takes the marks along (one partition), and a mark is written at its digit's deletion
    time, below the removal's: a delete replayed after it finds no marks and removes nothing more."""
    removal = [cql.delete(OriginalChunk, {"id": deleted.picture},
                          timestamp=ids.write_time(deleted.picture) + DELETION_MARGIN)]
    count = deleted.digit_count or 1
    if count == 1:
        return removal
    table = OriginalChunk.column_family_name()
    cql.run(cql.bind(f"UPDATE {table} USING TIMESTAMP ? SET deleted_digits = deleted_digits + ? WHERE id = ?",
                     [deletion_time(deleted), {deleted.position}, deleted.picture]))
    marks = cql.run(cql.select(OriginalChunk, "id = ?", [deleted.picture], columns="deleted_digits", tail="LIMIT 1"))
    return removal if marks and set(range(count)) <= set(marks[0]["deleted_digits"] or ()) else []


def scoring(prediction: StoredPrediction) -> list[BoundStatement]:
    """What the scoring pass writes for a prediction it scored: its doubt and, when doubtful enough,
    its queue entries, at the creation's write time (a later correction or delete wins over them)."""
    timestamp = ids.write_time(prediction.id)
    return [cql.bind(f"UPDATE {Prediction.column_family_name()} USING TIMESTAMP ? SET doubt = ? "
                     "WHERE bucket = ? AND shard = ? AND id = ?",
                     [timestamp, prediction.doubt, *_row_key(prediction).values()]),
            *review.entries(prediction, timestamp=timestamp)]
