"""The first layout's write path as it was served, for ``bench/storage.py`` to compare today's against."""

from cassandra.query import BatchStatement, BatchType

from ..storage import cql
from ..storage.keys import ALL, keys_of
from ..storage.records import StoredPrediction
from .tables import LegacyDay, LegacyImage, LegacyPrediction


def batch(row: StoredPrediction, original: bytes, *, days_written: set) -> BatchStatement:
    """What the first layout sent for one prediction, in one LOGGED batch: the row, its image, an
    index row per filter key, and the day entries not in ``days_written`` yet (which it updates)."""
    keyspace = LegacyPrediction.column_family_name().split(".")[0]
    index = f"INSERT INTO {keyspace}.prediction_index (key, bucket, id) VALUES (?, ?, ?)"
    day = row.bucket.date()
    values = {name: getattr(row, name) for name in LegacyPrediction._columns if name != "bucket"}
    values = {"bucket": day, **{name: value for name, value in values.items() if value is not None}}
    statements = BatchStatement(batch_type=BatchType.LOGGED)
    statements.add(cql.insert(LegacyPrediction, values))
    statements.add(cql.insert(LegacyImage, {"id": row.id, "content_type": "image/png", "data": original}))
    for key in keys_of(row):
        statements.add(cql.bind(index, [key, day, row.id]))
    for scope in (keys_of(row) | {ALL}) - {s for s, d in days_written if d == day}:
        statements.add(cql.insert(LegacyDay, {"scope": scope, "day": day}))
        days_written.add((scope, day))
    return statements
