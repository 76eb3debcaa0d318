"""Predictions in Cassandra, laid out so that no partition grows with traffic or time.

Rows live in ``predictions_by_bucket``, partitioned by (10-minute time bucket, shard) and clustered
by a TimeUUID, newest first. The shard is a byte of the id (``storage.ids``), so a prediction is
read by its id alone with one partition-key lookup, and a burst of writes lands on every shard's
token range at once. The largest partition holds about ``rate × 10 min / shards`` rows: 37,500
at 1,000 predictions/s with the default 16 shards (``CASSANDRA_SHARDS``, up to 256).

The history is read newest first, a page at a time: ``months_by_scope`` lists the months that hold
predictions for a view (``all`` or one filter key), ``buckets_by_month`` the buckets of each such
month (at most 4,464) and the shards that hold rows in each, so a page reads only partitions that
hold rows (never an OFFSET, COUNT or ``ALLOW FILTERING``) and merges the shards' slices by id
(``storage.paging``).
Filtered views (digit, corrected label, source and their combinations) read ``ids_by_filter``,
laid out like the rows, then fetch the rows by id. Originals are split into chunks of at most
512 KiB (``original_chunks``) so that no cell grows past Cassandra's advised 1 MB.
``prediction_counter`` holds the stats page's totals. ``idempotency_keys`` remembers, for 24 h,
the answer given to each ``Idempotency-Key``.
"""

from cassandra.cqlengine import columns
from django_cassandra_engine.models import DjangoCassandraModel

SOURCES = ("draw", "upload", "api")


def keyed_by(column: str) -> type:
    """The ``Meta`` naming the column Django calls ``pk`` (django-cassandra-engine asks for it when a
    table's primary key has several columns)."""
    return type("Meta", (), {"get_pk_field": column})


class PredictionColumns(DjangoCassandraModel):
    """A prediction's own columns: what was asked, what the model answered, and any correction
    (shared with the first layout's table, ``first_layout.tables``)."""

    __abstract__ = True

    created_at = columns.DateTime(required=True)
    source = columns.Text(required=True)
    filename = columns.Text()
    content_type = columns.Text(required=True)
    image_size = columns.Integer(required=True)
    input_png = columns.Blob(required=True)
    digit = columns.TinyInt(required=True)
    confidence = columns.Float(required=True)
    model_version = columns.Text(required=True)
    # Recognising the request's whole batch of images (decode, preprocess, forward pass), in ms.
    latency_ms = columns.Float(required=True)
    corrected_label = columns.TinyInt()
    corrected_by = columns.Text()
    corrected_at = columns.DateTime()


class Prediction(PredictionColumns):
    """One recognised image, in its (time bucket, shard) partition.

    Read and written as ``storage.records.StoredPrediction``; this class defines the table.
    """

    __table_name__ = "predictions_by_bucket"
    Meta = keyed_by("id")

    bucket = columns.DateTime(partition_key=True)
    shard = columns.SmallInt(partition_key=True)
    id = columns.TimeUUID(primary_key=True, clustering_order="DESC")
    probabilities = columns.List(columns.Float, required=True, frozen=True)  # one cell, not ten
    # Changes made since it was stored (corrections; a delete is the last). Each is a lightweight
    # transaction on the previous value, so of two racing changes exactly one wins (storage.writes).
    version = columns.Integer()
    # The id of the change that set ``version``: a writer whose answer was lost or duplicated reads it
    # back to learn whether the win was its own.
    change_id = columns.UUID()
    # Set by the transaction that wins a delete; the row and its entries are removed next. Readers
    # treat a marked row as gone.
    deleted = columns.Boolean()
    # How likely the model's answer is wrong (``ml.doubt``), set by the scoring pass
    # (``manage.py score_predictions``); the review queue's order.
    doubt = columns.Float()
    # A picture of several digits is a row per digit (a picture of one has these unset): the first
    # digit's id is the picture's (its original is stored under it), the others' ids follow from it
    # (``storage.ids.digit_id``), so any digit's row leads to the whole number.
    picture_id = columns.TimeUUID()
    position = columns.SmallInt()  # 0 = the first digit in reading order
    digit_count = columns.SmallInt()
    box = columns.List(columns.Integer, frozen=True)  # left, top, width, height in the upright picture


class OriginalChunk(DjangoCassandraModel):
    """The original uploaded or drawn image, byte for byte, in chunks of at most 512 KiB."""

    __table_name__ = "original_chunks"
    Meta = keyed_by("chunk")

    id = columns.TimeUUID(partition_key=True)
    chunk = columns.SmallInt(primary_key=True)
    data = columns.Blob(required=True)
    # The positions of the picture's digits whose delete was decided: the original goes once all
    # of them are here (``storage.writes.original_removals``), and these go with it.
    deleted_digits = columns.Set(columns.SmallInt, static=True)


class MonthEntry(DjangoCassandraModel):
    """The months that hold predictions of a view (``scope``: ``all`` or a filter key), newest first."""

    __table_name__ = "months_by_scope"
    Meta = keyed_by("month")

    scope = columns.Text(partition_key=True)
    month = columns.Date(primary_key=True, clustering_order="DESC")  # its first day


class BucketEntry(DjangoCassandraModel):
    """The buckets that hold a view's predictions of one month, newest first, with their shards."""

    __table_name__ = "buckets_by_month"
    Meta = keyed_by("bucket")

    scope = columns.Text(partition_key=True)
    month = columns.Date(partition_key=True)
    bucket = columns.DateTime(primary_key=True, clustering_order="DESC")
    shards = columns.Set(columns.SmallInt)  # a shard is added once, by its first prediction


class FilterEntry(DjangoCassandraModel):
    """Ids of the predictions matching one filter key (``digit=3,source=draw``), per partition.

    Partitioned like the rows, by (bucket, shard) under each key: the ids of one index partition
    are all in one partition of ``predictions_by_bucket``, read with a single ``IN`` query.
    """

    __table_name__ = "ids_by_filter"
    Meta = keyed_by("id")

    key = columns.Text(partition_key=True)
    bucket = columns.DateTime(partition_key=True)
    shard = columns.SmallInt(partition_key=True)
    id = columns.TimeUUID(primary_key=True, clustering_order="DESC")


class StatCounter(DjangoCassandraModel):
    """Running totals for the stats page, kept by Cassandra counters instead of scans.

    ``metric`` names a family (``storage.stats.Stat``) and ``name`` one value in it (``"3"``,
    ``"draw"``, ``"2026-11-26"``, ``"3,5"``), so the stats page reads a handful of small
    partitions whatever the number of predictions.
    """

    __table_name__ = "prediction_counter"
    Meta = keyed_by("name")

    metric = columns.Text(partition_key=True)
    name = columns.Text(primary_key=True)
    value = columns.Counter()


class CountedPrediction(DjangoCassandraModel):
    """A prediction stored under an id that may be stored again (a retried ``Idempotency-Key``
    request, an outbox replay) and already counted in the stats: the first to claim it counts it.
    Kept 30 days (``storage.stats.COUNTED_TTL_SECONDS``)."""

    __table_name__ = "counted_predictions"

    id = columns.TimeUUID(primary_key=True)
    counted_by = columns.UUID()


class RecountHold(DjangoCassandraModel):
    """While ``recount_stats`` runs, its id (written with a TTL it renews). Processes then keep their
    stats changes in memory and record which predictions they concern (``RecountHeldId``), so
    the recount knows what its reading of the counters lacks (``storage.recount``)."""

    __table_name__ = "stats_recount"

    scope = columns.Text(primary_key=True)  # "stats"
    recount_id = columns.UUID()


class RecountHeldId(DjangoCassandraModel):
    """A prediction whose stats change a process holds back during recount ``recount_id``."""

    __table_name__ = "stats_recount_held"
    Meta = keyed_by("id")

    recount_id = columns.UUID(partition_key=True)
    id = columns.TimeUUID(primary_key=True)


class IdempotencyRecord(DjangoCassandraModel):
    """The answer given to a ``POST /api/predict`` with an ``Idempotency-Key`` (``storage.claims``)."""

    __table_name__ = "idempotency_keys"
    Meta = keyed_by("key")

    key = columns.Text(partition_key=True)  # SHA-256 of the client and its key
    fingerprint = columns.Text(required=True)  # SHA-256 of the request's images and source
    prediction_ids = columns.List(columns.TimeUUID, frozen=True)  # every attempt stores under these
    lease = columns.DateTime()  # until when the request holding the key may still answer
    claimant = columns.UUID()  # the id of the request that holds it: its own win, read back, is recognised
    status = columns.SmallInt()  # set with the answer
    body = columns.Text()



class DriftCounter(DjangoCassandraModel):
    """What one day's predictions of one model version look like (``storage.drift``): how many were
    unsure, per confidence bin, per predicted digit, labelled and labelled right. One partition per
    day, a few dozen rows per model version in it."""

    __table_name__ = "drift_by_day"
    Meta = keyed_by("name")

    day = columns.Date(partition_key=True)
    model_version = columns.Text(primary_key=True)
    figure = columns.Text(primary_key=True)
    name = columns.Text(primary_key=True)
    value = columns.Counter()


class DriftDay(DjangoCassandraModel):
    """The days a model version served, oldest first, with how many predictions it made on each:
    its first days are the reference an operator may choose (``DRIFT_REFERENCE=days``)."""

    __table_name__ = "drift_days_by_version"
    Meta = keyed_by("day")

    model_version = columns.Text(partition_key=True)
    day = columns.Date(primary_key=True)
    value = columns.Counter()


class ReviewEntry(DjangoCassandraModel):
    """A prediction waiting for review, in the queue of one view (``scope``: ``all`` or a filter key).

    Partitioned by doubt band and hour (``storage.review``): a band's newest hours are read first,
    the most doubtful first within each. Labelled and deleted predictions leave it.
    """

    __table_name__ = "review_queue"
    Meta = keyed_by("id")

    scope = columns.Text(partition_key=True)
    band = columns.SmallInt(partition_key=True)
    hour = columns.DateTime(partition_key=True)
    doubt = columns.Float(primary_key=True, clustering_order="DESC")
    id = columns.TimeUUID(primary_key=True, clustering_order="DESC")


class ReviewHour(DjangoCassandraModel):
    """The hours holding queued predictions of one view and doubt band, newest first."""

    __table_name__ = "review_hours"
    Meta = keyed_by("hour")

    scope = columns.Text(partition_key=True)
    band = columns.SmallInt(partition_key=True)
    hour = columns.DateTime(primary_key=True, clustering_order="DESC")


class ReviewLease(DjangoCassandraModel):
    """Who holds a queued prediction for now (a reviewer, or ``skipped``); written with a TTL."""

    __table_name__ = "review_leases"

    id = columns.TimeUUID(primary_key=True)
    holder = columns.Text()


class ReviewPass(DjangoCassandraModel):
    """How far the scoring pass has come: the newest prediction id it scored."""

    __table_name__ = "review_pass"

    name = columns.Text(primary_key=True)
    last_id = columns.TimeUUID()
