"""Prepared INSERTs for the write path: cqlengine builds and parses every statement anew, which
costs more than the write itself; a prepared statement is parsed once per table."""

from functools import cache

from cassandra.cqlengine import connection
from cassandra.cqlengine.models import Model
from cassandra.query import BatchStatement, BatchType, BoundStatement, PreparedStatement


@cache
def _prepared(cql: str) -> PreparedStatement:
    return connection.get_session().prepare(cql)


def insert(instance: Model) -> BoundStatement:
    """``INSERT`` of a model instance's set columns (unset ones are left out: no tombstones)."""
    model = type(instance)
    values = {
        column.db_field_name: getattr(instance, name)
        for name, column in model._columns.items()
        if getattr(instance, name) is not None
    }
    return insert_values(model, values)


def insert_values(model: type[Model], values: dict) -> BoundStatement:
    """``INSERT`` of plain column values, for rows too small to be worth a model instance."""
    names = ", ".join(values)
    marks = ", ".join("?" * len(values))
    return _prepared(f"INSERT INTO {model.column_family_name()} ({names}) VALUES ({marks})").bind(list(values.values()))


def execute(statement: BoundStatement) -> None:
    connection.get_session().execute(statement)


def execute_atomically(*statements: BoundStatement) -> None:
    """Run statements as one logged batch: one round trip, and Cassandra's batchlog applies all
    of them or none, even across partitions and tables."""
    batch = BatchStatement(batch_type=BatchType.LOGGED)
    for statement in statements:
        batch.add(statement)
    connection.get_session().execute(batch)
