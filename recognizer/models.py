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
import itertools
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


class PredictionCounter(DjangoCassandraModel):
    """Running totals for the stats page, kept by Cassandra counters instead of scans.

    ``metric`` names a family (``digit``, ``source``, ``day``, ``confusion``, …) and ``name`` one
    value in it (``"3"``, ``"draw"``, ``"2026-11-26"``, ``"3,5"``), so the stats page reads a
    handful of small partitions whatever the number of predictions.
    """

    __table_name__ = "prediction_counter"

    metric = columns.Text(partition_key=True)
    name = columns.Text(primary_key=True)
    value = columns.Counter()

    class Meta:
        get_pk_field = "name"


CONFIDENCE_SCALE = 1_000_000  # counters hold integers: confidences are summed in millionths
FILTERS = ("digit", "label", "source")
LABELLED = "labelled"


def filter_key(*, digit: int | None = None, label: int | None = None, source: str | None = None) -> str:
    """The index key of a filter combination (``"digit=3,source=draw"``); ``"all"`` when none."""
    values = {"digit": digit, "label": label, "source": source or None}
    return ",".join(f"{name}={values[name]}" for name in FILTERS if values[name] is not None) or ALL


def filter_keys(prediction: "Prediction") -> set[str]:
    """Every index a prediction is listed in: each combination of its digit, label and source,
    and the list of all corrected predictions."""
    values = {"digit": prediction.digit, "label": prediction.corrected_label, "source": prediction.source}
    present = [name for name in FILTERS if values[name] is not None]
    keys = {
        filter_key(**{name: values[name] for name in combo})
        for size in range(1, len(present) + 1)
        for combo in itertools.combinations(present, size)
    }
    return keys | ({LABELLED} if prediction.corrected_label is not None else set())
