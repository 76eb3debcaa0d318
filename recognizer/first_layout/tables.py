"""The first layout's tables (one partition per UTC day), as far as the copy and deletes need them."""

from cassandra.cqlengine import columns
from django_cassandra_engine.models import DjangoCassandraModel

from ..models import PredictionColumns, keyed_by
from ..storage import cql, ids
from ..storage.keys import ALL


class LegacyPrediction(PredictionColumns):
    __table_name__ = "prediction"

    bucket = columns.Date(partition_key=True)
    id = columns.TimeUUID(primary_key=True, clustering_order="DESC")
    probabilities = columns.List(columns.Float, required=True)

    Meta = keyed_by("id")


class LegacyImage(DjangoCassandraModel):
    __table_name__ = "prediction_image"

    id = columns.TimeUUID(primary_key=True)
    content_type = columns.Text(required=True)
    data = columns.Blob(required=True)


class LegacyDay(DjangoCassandraModel):
    __table_name__ = "prediction_day"

    scope = columns.Text(partition_key=True, default=ALL)
    day = columns.Date(primary_key=True, clustering_order="DESC")

    Meta = keyed_by("day")


LEGACY_TABLES = (LegacyPrediction, LegacyImage, LegacyDay)


def legacy_removals(prediction, *, timestamp: int) -> list:
    """Deleting ``prediction``'s first-layout row, if this keyspace has that layout."""
    keyspace, table = LegacyPrediction.column_family_name().split(".")
    tables = cql.run(cql.bind("SELECT table_name FROM system_schema.tables WHERE keyspace_name = ? AND "
                              "table_name = ?", [keyspace, table]))
    if not tables:
        return []
    return [cql.delete(LegacyPrediction, {"bucket": ids.bucket_of(prediction.id).date(), "id": prediction.id},
                       timestamp=timestamp)]
