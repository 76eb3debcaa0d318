"""A stored prediction as the app handles it: a plain record, read straight from a row.

Building a cqlengine instance per row cost ~0.3 ms (it copies every column's state), more than
reading the row; a history page reads up to a few hundred rows. ``models.Prediction`` still
defines the table.
"""

import datetime as dt
import uuid
from dataclasses import dataclass, fields


@dataclass(eq=False)
class StoredPrediction:
    """One recognised image: what was asked, what the model answered, and any correction."""

    bucket: dt.datetime
    shard: int
    id: uuid.UUID
    created_at: dt.datetime
    source: str
    filename: str | None
    content_type: str
    image_size: int
    input_png: bytes
    digit: int
    confidence: float
    probabilities: list[float]
    model_version: str
    latency_ms: float
    corrected_label: int | None = None
    corrected_by: str | None = None
    corrected_at: dt.datetime | None = None
    version: int | None = None
    change_id: uuid.UUID | None = None
    deleted: bool | None = None
    doubt: float | None = None  # how likely the answer is wrong (``ml.doubt``), once scored
    picture_id: uuid.UUID | None = None  # set on the rows of a picture of several digits (models.Prediction)
    position: int | None = None
    digit_count: int | None = None
    box: list[int] | None = None
    pending: bool = False  # in the local outbox, not yet in Cassandra (not a column)

    @property
    def picture(self) -> uuid.UUID:
        """The id its original is stored under: its picture's (the first digit's), or its own."""
        return self.picture_id or self.id

    @property
    def label(self) -> int:
        """The best label known: the correction if there is one, else the prediction."""
        return self.digit if self.corrected_label is None else self.corrected_label

    def columns(self) -> dict:
        """Its set columns, for an INSERT (unset ones are left out: no tombstones)."""
        values = ((name, getattr(self, name)) for name in COLUMNS)  # not asdict(), which deep-copies
        return {name: value for name, value in values if value is not None}


def from_rows(rows: list[dict]) -> list[StoredPrediction]:
    """Records of rows read with ``SELECT *``."""
    return [StoredPrediction(**row) for row in rows]


COLUMNS = tuple(field.name for field in fields(StoredPrediction) if field.name != "pending")


def utc_timestamp(moment: dt.datetime | None) -> str | None:
    """A stored (naive UTC) time as clients see it: ISO 8601 with exactly 3 fraction digits,
    2026-11-26T09:15:02.120Z (the API, the pages, the exports)."""
    return moment.isoformat(timespec="milliseconds") + "Z" if moment else None
