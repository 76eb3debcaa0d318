"""Every statement the app sends: prepared once, bound per call, run singly, batched or concurrently.

cqlengine builds and parses each statement anew, which costs more than the write itself; here a
statement is parsed once per CQL text. Models only define the tables (``sync_cassandra``); rows
read back are still model instances. Statements that set fixed values are idempotent, so they
are marked so: the driver may then retry them and run them speculatively on a second replica.
Two kinds are not: a counter update counts again when repeated, and a lightweight transaction
sent twice can see its own win as a loss. They are sent once, to one replica, and never retried
by the driver; the app decides what a failure means (``storage.changes``, ``storage.stats``).
"""

import time
import uuid
from collections.abc import Iterator, Sequence
from functools import cache

from cassandra import OperationTimedOut, RequestExecutionException
from cassandra.cluster import NoHostAvailable
from cassandra.concurrent import execute_concurrent
from cassandra.connection import ConnectionException
from cassandra.cqlengine import connection
from cassandra.cqlengine.models import Model
from cassandra.policies import FallthroughRetryPolicy
from cassandra.protocol import ErrorMessage
from cassandra.query import BatchStatement, BatchType, BoundStatement, PreparedStatement
from django.conf import settings

# Cassandra could not do it now (no node, too few replicas, no answer in time); the statement was
# fine and may have been applied. Not: InvalidRequest and its kin, which are bugs.
UNAVAILABLE = (NoHostAvailable, OperationTimedOut, RequestExecutionException, ConnectionException)


# Cassandra's answer when a transaction's proposal reached some replicas but not a quorum (native
# protocol v5); the driver knows no class for it. Its outcome is unknown, as after a timeout.
CAS_WRITE_UNKNOWN = 0x1700
SEND_ONCE = FallthroughRetryPolicy()
READ_BACK_ATTEMPTS = 4  # reading back a transaction's outcome: 0.2 + 0.4 + 0.8 s between attempts


def is_repeatable(cql: str) -> bool:
    """False for a counter update and for a lightweight transaction (``IF ...``)."""
    return "= value + ?" not in cql and " IF " not in cql


@cache
def _prepared(cql: str) -> PreparedStatement:
    statement = connection.get_session().prepare(cql)
    statement.is_idempotent = is_repeatable(cql)
    if not statement.is_idempotent:
        statement.retry_policy = SEND_ONCE
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


def run_batch(statements: Sequence[BoundStatement], *, logged: bool = False) -> None:
    """Statements for several partitions in one round trip; idempotent (so retried and speculated
    by the driver) when every statement in it is.

    UNLOGGED by default; what each kind costs and why the app writes UNLOGGED batches is explained
    once, in docs/data-layout.md ("LOGGED or UNLOGGED").
    """
    batch = BatchStatement(batch_type=BatchType.LOGGED if logged else BatchType.UNLOGGED)
    for statement in statements:
        batch.add(statement)
    batch.is_idempotent = all(statement.is_idempotent for statement in statements)
    if not batch.is_idempotent:
        batch.retry_policy = SEND_ONCE
    connection.get_session().execute(batch)


def run_concurrently(statements: Sequence[BoundStatement], *, concurrency: int = 32) -> list[list[dict]]:
    """Run statements in parallel on the driver's event loop; their rows, in order. Raises the first error."""
    results = execute_concurrent(connection.get_session(), [(s, None) for s in statements],
                                 concurrency=concurrency, raise_on_first_error=True)
    return [list(rows) for _, rows in results]



def transact(statement: BoundStatement, *, read_back: BoundStatement, owner: str, mine: uuid.UUID
             ) -> tuple[bool, dict | None]:
    """Run a lightweight transaction that writes ``mine`` into column ``owner``, once.

    Returns (True, None) when it applied. Otherwise (its answer "not applied", perhaps a
    duplicate's, or lost) the row is read back at the serial consistency, which completes any
    transaction in flight: (whether it holds ``mine``, that row or None).
    """
    try:
        if run(statement)[0]["[applied]"]:
            return True, None
    except UNAVAILABLE:  # perhaps applied: the row says
        pass
    except ErrorMessage as error:
        if error.code != CAS_WRITE_UNKNOWN:
            raise
    read_back.consistency_level = settings.CASSANDRA_SERIAL_CONSISTENCY
    for attempt in range(READ_BACK_ATTEMPTS):
        try:
            rows = run(read_back)
            break
        except (*UNAVAILABLE, ErrorMessage) as error:
            # The serial read completes the proposal in flight, and may itself find too few replicas
            # to accept it (CAS_WRITE_UNKNOWN): read again, as when a replica is away.
            if isinstance(error, ErrorMessage) and error.code != CAS_WRITE_UNKNOWN or attempt == READ_BACK_ATTEMPTS - 1:
                raise
            time.sleep(0.2 * 2**attempt)
    row = rows[0] if rows else None
    return row is not None and row[owner] == mine, row
