"""One writer per machine: the workers hand it their predictions' batches, it stores what arrives
together as one Cassandra batch and answers each worker once Cassandra has.

A prediction stored by its worker alone is one Cassandra request, and a request's fixed costs (the
driver's hand-offs to its event-loop thread and back, the node's request handling and the spin-wait
of its thread pool) outweigh its five small mutations (README, "Speed"). With the workers'
batches sent together those costs are shared, and each worker only waits on a local socket.

The guarantees stay the workers': a worker answers only after the writer said "stored"; when the
writer says Cassandra is unavailable the worker spools the prediction to its outbox as before; and
when there is no writer, or it dies, or it refuses a batch, the worker stores the batch itself.
Every statement of a creation carries its own write time (``storage.writes``), so a batch the
writer may have applied and the worker then writes again changes nothing.

``gunicorn.conf.py`` starts the writer (``manage.py store_writer``) beside the workers and gives them
its socket (``STORE_WRITER_SOCKET``); without that setting every worker stores its own batches.
"""

import logging
import os
import selectors
import socket
import struct
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from cassandra.cqlengine import connection
from cassandra.query import UNSET_VALUE, BatchStatement, BatchType, BoundStatement
from django.conf import settings

from . import cql
from .cql import UNAVAILABLE

logger = logging.getLogger(__name__)

STORED, UNAVAILABLE_NOW, REFUSED = 0, 1, 2  # the writer's answers
BATCH_BYTES = 40 * 1024  # under Cassandra's batch_size_fail_threshold (50 KiB) whatever arrives together
_NONE, _UNSET = -1, -2  # value lengths that mean null and unset, as in CQL's own frames
_LENGTH = struct.Struct("!I")
_ANSWER = struct.Struct("!BH")  # status, how many workers' batches went in the same Cassandra batch


class WriterGone(Exception):
    """No writer answered: the worker stores the batch itself."""


class CassandraUnavailable(Exception):
    """The writer's Cassandra batch failed as UNAVAILABLE does: the worker spools to its outbox."""


# --- What travels: statements already bound (their values serialized by the driver) -------------------
def encode(statements: Sequence[BoundStatement]) -> bytes:
    parts = [struct.pack("!H", len(statements))]
    for statement in statements:
        query = statement.prepared_statement.query_string.encode()
        parts.append(struct.pack("!I?H", len(query), bool(statement.is_idempotent), len(statement.values)) + query)
        for value in statement.values:
            if value is None or value is UNSET_VALUE:
                parts.append(struct.pack("!i", _NONE if value is None else _UNSET))
            else:
                parts.append(struct.pack("!i", len(value)) + value)
    return b"".join(parts)


def decode(body: bytes) -> list[BoundStatement]:
    (count,), offset = struct.unpack_from("!H", body), 2
    statements = []
    for _ in range(count):
        length, idempotent, values = struct.unpack_from("!I?H", body, offset)
        offset += 7
        statement = BoundStatement(cql.prepared(body[offset:offset + length].decode()))
        offset += length
        for _ in range(values):
            (size,), offset = struct.unpack_from("!i", body, offset), offset + 4
            if size < 0:
                statement.values.append(None if size == _NONE else UNSET_VALUE)
            else:
                statement.values.append(body[offset:offset + size])
                offset += size
        statement.is_idempotent = idempotent
        statements.append(statement)
    return statements


# --- The worker's side ----------------------------------------------------------------------------
_local = threading.local()  # one connection per thread of a worker process


def store(statements: Sequence[BoundStatement]) -> int:
    """Have the writer store one UNLOGGED batch; how many workers' batches shared its Cassandra batch.

    Raises WriterGone when there is no writer to answer, CassandraUnavailable when Cassandra was not
    taking writes, and any other refusal as WriterGone too (the worker then finds out itself)."""
    path = settings.NUMBERFIGURE_STORE_WRITER_SOCKET
    if not path:
        raise WriterGone("no writer configured")
    body = encode(statements)
    try:
        channel = _channel(path)
        channel.sendall(_LENGTH.pack(len(body)) + body)
        answer = _receive(channel, _ANSWER.size)
    except OSError as error:
        _close()
        raise WriterGone(f"{type(error).__name__}: {error}") from None
    status, shared = _ANSWER.unpack(answer)
    if status == STORED:
        return shared
    if status == UNAVAILABLE_NOW:
        raise CassandraUnavailable("Cassandra did not take the writer's batch")
    raise WriterGone("the writer refused the batch")


def _channel(path: str) -> socket.socket:
    channel = getattr(_local, "channel", None)
    if channel is None or _local.pid != os.getpid():  # a forked child never shares its parent's socket
        channel = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        channel.settimeout(settings.NUMBERFIGURE_STORE_WRITER_TIMEOUT)
        try:
            channel.connect(path)
        except OSError:
            channel.close()
            raise
        _local.channel, _local.pid = channel, os.getpid()
    return channel


def _close() -> None:
    channel = getattr(_local, "channel", None)
    if channel is not None:
        channel.close()
        _local.channel = None


def _receive(channel: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = channel.recv(size - len(data))
        if not chunk:
            raise ConnectionResetError("the writer closed the connection")
        data += chunk
    return data


# --- The writer's side ----------------------------------------------------------------------------
@dataclass
class _Worker:
    """One worker's connection: the bytes read so far and the batch it waits on."""

    channel: socket.socket
    received: bytearray = field(default_factory=bytearray)
    waiting: bytes | None = None


class Writer:
    """A selector loop: reads the workers' batches, sends what waits as one Cassandra batch (one at a
    time, so whatever arrives meanwhile goes in the next), answers each worker when it is done."""

    def __init__(self, listener: socket.socket) -> None:
        self.listener = listener
        self.selector = selectors.DefaultSelector()
        self.wake_reader, self.wake_writer = socket.socketpair()
        self.in_flight: list[_Worker] = []
        self.outcome: int | None = None  # set by the driver's thread when the batch in flight ends
        self.workers: set[_Worker] = set()

    def serve(self) -> None:
        self.listener.setblocking(False)
        self.selector.register(self.listener, selectors.EVENT_READ)
        self.selector.register(self.wake_reader, selectors.EVENT_READ)
        while True:
            for key, _ in self.selector.select():
                if key.fileobj is self.listener:
                    self._accept()
                elif key.fileobj is self.wake_reader:
                    self.wake_reader.recv(64)
                    self._answer()
                else:
                    self._read(key.data)
            if not self.in_flight:
                self._send()

    def _accept(self) -> None:
        channel, _ = self.listener.accept()
        channel.setblocking(False)
        worker = _Worker(channel)
        self.workers.add(worker)
        self.selector.register(channel, selectors.EVENT_READ, worker)

    def _read(self, worker: _Worker) -> None:
        try:
            chunk = worker.channel.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:  # the worker is gone; a batch of its in flight is still written
            self.selector.unregister(worker.channel)
            worker.channel.close()
            self.workers.discard(worker)
            return
        worker.received += chunk
        if len(worker.received) >= _LENGTH.size:
            (length,) = _LENGTH.unpack_from(worker.received)
            if len(worker.received) >= _LENGTH.size + length:
                worker.waiting = bytes(worker.received[_LENGTH.size:_LENGTH.size + length])
                del worker.received[:_LENGTH.size + length]

    def _send(self) -> None:
        """One Cassandra batch of the waiting workers' batches, up to BATCH_BYTES (at least one)."""
        chosen, size = [], 0
        for worker in self.workers:
            if worker.waiting is not None and worker not in self.in_flight:
                if chosen and size + len(worker.waiting) > BATCH_BYTES:
                    break
                chosen.append(worker)
                size += len(worker.waiting)
        if not chosen:
            return
        batch = BatchStatement(batch_type=BatchType.UNLOGGED)
        try:
            statements = [statement for worker in chosen for statement in decode(worker.waiting)]
            for statement in statements:
                batch.add(statement)
        except Exception:  # noqa: BLE001 - a batch we cannot read: its worker stores it itself
            logger.exception("Refused a batch the writer could not read")
            self.in_flight, self.outcome = chosen, REFUSED
            self._answer()
            return
        batch.is_idempotent = all(statement.is_idempotent for statement in statements)
        self.in_flight = chosen
        try:
            future = connection.get_session().execute_async(batch)
        except Exception as error:  # noqa: BLE001 - connecting failed, as an unavailable node does
            self._finished(error)
            return
        future.add_callbacks(lambda _: self._finished(None), self._finished)

    def _finished(self, error: BaseException | None) -> None:
        """From the driver's thread: note the outcome and wake the selector loop to answer."""
        if error is None:
            self.outcome = STORED
        elif isinstance(error, UNAVAILABLE):
            self.outcome = UNAVAILABLE_NOW
        else:
            logger.warning("Cassandra refused a batch of %d: %s: %s", len(self.in_flight), type(error).__name__, error)
            self.outcome = REFUSED
        self.wake_writer.send(b"\0")

    def _answer(self) -> None:
        if self.outcome is None:
            return
        answer = _ANSWER.pack(self.outcome, len(self.in_flight))
        for worker in self.in_flight:
            worker.waiting = None
            if worker in self.workers:
                try:
                    worker.channel.send(answer)  # a few bytes to a worker that waits for them: never blocks
                except OSError:
                    pass  # it is gone; _read notices
        self.in_flight, self.outcome = [], None


def serve(path: str) -> None:
    """Listen on the Unix socket ``path`` (replacing a stale one) and serve until killed."""
    if os.path.exists(path):
        os.unlink(path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    os.chmod(path, 0o600)
    listener.listen(128)
    logger.info("Store writer listening on %s", path)
    Writer(listener).serve()
