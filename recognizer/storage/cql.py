"""Every statement the app sends: prepared once, bound per call, run singly, batched or concurrently.

cqlengine builds and parses each statement anew, which costs more than the write itself; here a
statement is parsed once per CQL text. Models only define the tables (``sync_cassandra``); rows
read back are still model instances. Statements that set fixed values are idempotent, so they
are marked so: the driver may then retry them and run them speculatively on a second replica.
"""

from collections.abc import Iterator, Sequence
from functools import cache

from cassandra import OperationTimedOut, RequestExecutionException
from cassandra.cluster import NoHostAvailable
from cassandra.concurrent import execute_concurrent
from cassandra.connection import ConnectionException
from cassandra.cqlengine import connection
from cassandra.cqlengine.models import Model
from cassandra.query import BatchStatement, BatchType, BoundStatement, PreparedStatement

# Cassandra could not do it now (no node, too few replicas, no answer in time); the statement was
# fine and may have been applied. Not: InvalidRequest and its kin, which are bugs.
UNAVAILABLE = (NoHostAvailable, OperationTimedOut, RequestExecutionException, ConnectionException)


@cache
def _prepared(cql: str) -> PreparedStatement:
    statement = connection.get_session().prepare(cql)
    statement.is_idempotent = "= value + ?" not in cql  # a counter update counts again when repeated
    return statement


def bind(cql: str, values: Sequence) -> BoundStatement:
    return _prepared(cql).bind(list(values))


def insert(model: type[Model], values: dict, *, timestamp: int | None = None) -> BoundStatement:
    """``INSERT`` of the given columns only (no tombstones for unset ones), at a fixed write time if given."""
    cql = f"INSERT INTO {model.column_family_name()} ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})"
    if timestamp is None:
        return bind(cql, list(values.values()))
    return bind(cql + " USING TIMESTAMP ?", [*values.values(), timestamp])


def update(model: type[Model], key: dict, values: dict) -> BoundStatement:
    """``UPDATE`` of some columns of one row (``None`` values delete those cells)."""
    sets = ", ".join(f"{name} = ?" for name in values)
    where = " AND ".join(f"{name} = ?" for name in key)
    return bind(f"UPDATE {model.column_family_name()} SET {sets} WHERE {where}", [*values.values(), *key.values()])


def delete(model: type[Model], key: dict, *, timestamp: int | None = None) -> BoundStatement:
    """``DELETE`` of the row or partition named by ``key``, at a fixed write time if given."""
    where = " AND ".join(f"{name} = ?" for name in key)
    if timestamp is None:
        return bind(f"DELETE FROM {model.column_family_name()} WHERE {where}", list(key.values()))
    return bind(f"DELETE FROM {model.column_family_name()} USING TIMESTAMP ? WHERE {where}",
                [timestamp, *key.values()])


def select(model: type[Model], where: str, values: Sequence, *, tail: str = "", columns: str = "*") -> BoundStatement:
    """``SELECT columns FROM table WHERE where tail``, e.g. ``tail="ORDER BY id ASC LIMIT ?"``."""
    return bind(f"SELECT {columns} FROM {model.column_family_name()} WHERE {where} {tail}".rstrip(), values)


def run(statement: BoundStatement) -> list[dict]:
    return list(connection.get_session().execute(statement))


def iterate(statement: BoundStatement) -> Iterator[dict]:
    """Rows read lazily, ``statement.fetch_size`` at a time."""
    return iter(connection.get_session().execute(statement))


def run_atomically(statements: Sequence[BoundStatement]) -> None:
    """One logged batch: one round trip, and Cassandra's batchlog applies all of it or none, across
    partitions and tables. Idempotent (so retried by the driver) when every statement in it is."""
    batch = BatchStatement(batch_type=BatchType.LOGGED)
    for statement in statements:
        batch.add(statement)
    batch.is_idempotent = all(statement.is_idempotent for statement in statements)
    connection.get_session().execute(batch)


def run_concurrently(statements: Sequence[BoundStatement], *, concurrency: int = 32) -> list[list[dict]]:
    """Run statements in parallel on the driver's event loop; their rows, in order. Raises the first error."""
    results = execute_concurrent(connection.get_session(), [(s, None) for s in statements],
                                 concurrency=concurrency, raise_on_first_error=True)
    return [list(rows) for _, rows in results]

