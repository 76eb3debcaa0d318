"""Prediction ids, and the partitions they name.

An id is a TimeUUID whose 62 non-time bits come from ``secrets`` (the driver's ``uuid_from_time``
uses ``random``, whose output can be predicted from a few hundred earlier ids; an id is all it
takes to read a prediction and its original). The top byte of the node field is the id's *shard*,
so an id alone names its partition: (time bucket of its timestamp, shard).

Rows are spread over ``shards`` partitions per ``BUCKET`` of time: the largest partition holds
about ``rate × BUCKET / shards`` rows whatever the traffic pattern, and writes land on
``shards`` token ranges at once. The shard count may change at any time (each id carries its
shard and the bucket lists record which shards hold rows); the bucket length may not, because
lookups by id compute the bucket from the id.
"""

import datetime as dt
import hashlib
import secrets
import time
import uuid

from cassandra.util import uuid_from_time

BUCKET = dt.timedelta(minutes=10)
MAX_SHARDS = 256  # the shard is one byte of the id
_BUCKET_SECONDS = int(BUCKET.total_seconds())
_NODE_BITS_BELOW_SHARD = 40
_EPOCH = dt.datetime(1970, 1, 1)


clock = time.time  # the app's clock; tests set it to run a server whose clock is off


def now() -> float:
    """Unix seconds by the app's clock, which new ids are made from."""
    return clock()


def new_prediction_id(*, timestamp: float, shards: int) -> uuid.UUID:
    """A TimeUUID for ``timestamp`` (Unix seconds) on a random shard below ``shards``."""
    if not 1 <= shards <= MAX_SHARDS:
        raise ValueError(f"shards must be 1..{MAX_SHARDS}, not {shards}")
    node = secrets.randbelow(shards) << _NODE_BITS_BELOW_SHARD | secrets.randbits(_NODE_BITS_BELOW_SHARD)
    return uuid_from_time(timestamp, node=node, clock_seq=secrets.randbits(14))


MAX_DIGITS = 32  # a picture's digits are stored a row each (positions 0 to 31): more is refused


def digit_id(picture_id: uuid.UUID, position: int) -> uuid.UUID:
    """The id of a picture's digit after its first (whose id is the picture's): as unguessable as the
    picture's own (a hash of it), on its shard, and ``position`` clock ticks (100 ns) before it, so
    the newest-first history lists a picture's digits in reading order. The same picture and
    position always give the same id: a retried request rewrites the same rows."""
    digest = int.from_bytes(hashlib.sha256(picture_id.bytes + position.to_bytes(2, "big")).digest()[:8], "big")
    node = shard_of(picture_id) << _NODE_BITS_BELOW_SHARD | digest & ((1 << _NODE_BITS_BELOW_SHARD) - 1)
    tick = picture_id.time - position
    return uuid.UUID(fields=(tick & 0xFFFFFFFF, tick >> 32 & 0xFFFF, tick >> 48 & 0x0FFF | 0x1000,
                             (digest >> 56 & 0x3F) | 0x80, digest >> 48 & 0xFF, node))


def is_prediction_id(value: uuid.UUID) -> bool:
    return value.version == 1


def shard_of(prediction_id: uuid.UUID) -> int:
    return prediction_id.node >> _NODE_BITS_BELOW_SHARD


def unix_time(prediction_id: uuid.UUID) -> float:
    """Seconds since 1970 that the id was made at (100 ns precision)."""
    return (prediction_id.time - 0x01B21DD213814000) / 1e7


def bucket_of(prediction_id: uuid.UUID) -> dt.datetime:
    """The start of the id's time bucket, as naive UTC (how cqlengine reads ``timestamp`` columns)."""
    seconds = int(unix_time(prediction_id) // _BUCKET_SECONDS * _BUCKET_SECONDS)
    return _EPOCH + dt.timedelta(seconds=seconds)


def month_of(bucket: dt.datetime) -> dt.date:
    """The first day of the bucket's month: the bucket lists are partitioned by month."""
    return bucket.date().replace(day=1)


def partition_of(prediction_id: uuid.UUID) -> tuple[dt.datetime, int]:
    """The (bucket, shard) partition of the prediction table that holds this id's row."""
    return bucket_of(prediction_id), shard_of(prediction_id)


def write_time(prediction_id: uuid.UUID) -> int:
    """The write timestamp (microseconds) of everything a prediction's creation writes.

    Fixed by the id, so a repeated write (a driver retry, a client retry with the same
    Idempotency-Key, the copy command run twice) is the same write, and a later correction or
    delete, written at a later time, always wins over it.
    """
    return int(unix_time(prediction_id) * 1_000_000)


def order_key(prediction_id: uuid.UUID) -> tuple[int, int]:
    """Sorts ids exactly as Cassandra's ``timeuuid`` clustering does: by time, then by the other
    eight bytes compared as signed bytes (so merged shard slices keep Cassandra's order).

    Cassandra's ``TimeUUIDType`` flips the sign bit of the seven lower bytes and compares the
    result as a signed long; so does this.
    """
    low = int.from_bytes(prediction_id.bytes[8:], "big") ^ 0x0080808080808080
    return prediction_id.time, low - (1 << 64) if low >= 1 << 63 else low
