"""Prepared INSERTs for the write path: cqlengine builds and parses every statement anew, which
costs more than the write itself; a prepared statement is parsed once per table."""

from functools import cache

from cassandra.cqlengine import connection
from cassandra.cqlengine.models import Model
from cassandra.query import BoundStatement, PreparedStatement


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


def execute_all(*statements: BoundStatement) -> None:
    """Run statements concurrently and wait for all; raise the first error."""
    session = connection.get_session()
    for future in [session.execute_async(statement) for statement in statements]:
        future.result()
