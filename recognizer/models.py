"""Predictions in Cassandra, laid out for the reads the product makes.

The history is read newest first, a page at a time, so rows are partitioned by UTC day
(``bucket``) and clustered by a TimeUUID in descending order: a page is one slice of one or a
few partitions, continued with ``id < last seen id``: no OFFSET, COUNT or ALLOW FILTERING.
The day is derived from the TimeUUID, so a prediction is also found by its id alone.
``PredictionDay`` lists the days that have predictions, so paging skips empty days without
probing them. Filtered views (by digit, by source, by both) read ``PredictionIndex``, the same
layout keyed by the filter, with its own day list; the rows themselves are then read with one
``IN`` query per day. The original upload (up to several megabytes) lives in ``PredictionImage``,
keyed by id, to keep the history partitions small.
"""

import datetime as dt
import uuid

from cassandra.cqlengine import columns
from cassandra.util import datetime_from_uuid1
from django.conf import settings
from django_cassandra_engine.models import DjangoCassandraModel

SOURCES = ("draw", "upload", "api")
ALL = "all"


def bucket_for(prediction_id: uuid.UUID) -> dt.date:
    """The UTC day a TimeUUID was made on: the history partition its row lives in."""
    return datetime_from_uuid1(prediction_id).date()


class Prediction(DjangoCassandraModel):
    """One recognised image: what was asked, what the model answered, and any correction."""

    __table_name__ = "prediction"

    bucket = columns.Date(partition_key=True)
    id = columns.TimeUUID(primary_key=True, clustering_order="DESC")
    created_at = columns.DateTime(required=True)
    source = columns.Text(required=True)
    filename = columns.Text()
    content_type = columns.Text(required=True)
    image_size = columns.Integer(required=True)
    input_png = columns.Blob(required=True)
    digit = columns.TinyInt(required=True)
    confidence = columns.Float(required=True)
    probabilities = columns.List(columns.Float, required=True)
    model_version = columns.Text(required=True)
    latency_ms = columns.Float(required=True)
    corrected_label = columns.TinyInt()
    corrected_by = columns.Text()
    corrected_at = columns.DateTime()

    class Meta:
        get_pk_field = "id"

    @property
    def label(self) -> int:
        """The best label known: the correction if there is one, else the prediction."""
        return self.digit if self.corrected_label is None else self.corrected_label

    @property
    def unsure(self) -> bool:
        return self.confidence < settings.NUMBERFIGURE_UNSURE_BELOW


class PredictionImage(DjangoCassandraModel):
    """The original uploaded or drawn image, byte for byte."""

    __table_name__ = "prediction_image"

    id = columns.TimeUUID(primary_key=True)
    content_type = columns.Text(required=True)
    data = columns.Blob(required=True)


class PredictionDay(DjangoCassandraModel):
    """The days that hold predictions, newest first: for all (``scope="all"``) or for one filter key."""

    __table_name__ = "prediction_day"

    scope = columns.Text(partition_key=True, default=ALL)
    day = columns.Date(primary_key=True, clustering_order="DESC")

    class Meta:
        get_pk_field = "day"


class PredictionIndex(DjangoCassandraModel):
    """Ids of the predictions matching one filter key (``digit=3``, ``source=draw``, …), per day."""

    __table_name__ = "prediction_index"

    key = columns.Text(partition_key=True)
    bucket = columns.Date(partition_key=True)
    id = columns.TimeUUID(primary_key=True, clustering_order="DESC")

    class Meta:
        get_pk_field = "id"


def filter_key(*, digit: int | None = None, source: str | None = None) -> str:
    """The index key of a filter combination; ``"all"`` when nothing is filtered."""
    parts = [f"digit={digit}" if digit is not None else "", f"source={source}" if source else ""]
    return ",".join(part for part in parts if part) or ALL


def filter_keys(prediction: "Prediction") -> list[str]:
    """Every filtered view a prediction belongs to."""
    return [
        filter_key(digit=prediction.digit),
        filter_key(source=prediction.source),
        filter_key(digit=prediction.digit, source=prediction.source),
    ]
