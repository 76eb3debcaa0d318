"""A durable local spool for predictions Cassandra could not take, replayed when it answers again.

When storing fails (no node reachable, too few replicas, a timeout), the person still gets the
recognition: the prediction, with its original, is written to a file under ``OUTBOX_DIR``
(``DJANGO_VAR_DIR/outbox``, on the compose volume), fsynced before the answer is sent. A
background thread in each process, or ``manage.py drain_outbox``, replays the files oldest first
under their own ids, at their own write time (``storage.writes``), so a prediction whose first
write was applied after all is written again, not twice. The stats count it once it is stored.

The spool is bounded (``OUTBOX_MAX_ITEMS``, ``OUTBOX_MAX_MB``): past that, ``OutboxFull`` (503).
A file is replayed under an exclusive ``flock``, so several workers share one spool safely.
"""

import base64
import datetime as dt
import fcntl
import json
import logging
import os
import threading
import time
import uuid
from contextlib import suppress
from dataclasses import asdict, dataclass
from pathlib import Path

from django.conf import settings

from ..errors import OutboxFull
from . import cql, ids, stats, writes
from .records import StoredPrediction

RETRY_SECONDS = 1.0
SUFFIX = ".json"
logger = logging.getLogger(__name__)
_drainer: threading.Thread | None = None
_drainer_lock = threading.Lock()


@dataclass(frozen=True)
class Depth:
    items: int
    bytes: int
    oldest_age_seconds: float | None


def folder() -> Path:
    path = Path(settings.NUMBERFIGURE_OUTBOX_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def put(prediction: StoredPrediction, original: bytes) -> None:
    """Spool a prediction durably (written, fsynced, renamed into place); OutboxFull past the limits."""
    record = json.dumps({
        **{name: _encode(value) for name, value in asdict(prediction).items()},
        "original": base64.b64encode(original).decode(),
    }).encode()
    spool = folder()
    depth = measure()
    too_many = depth.items >= settings.NUMBERFIGURE_OUTBOX_MAX_ITEMS
    if too_many or depth.bytes + len(record) > settings.NUMBERFIGURE_OUTBOX_MAX_BYTES:
        raise OutboxFull("The prediction store is unreachable and the local queue is full. Please try again later.")
    # Named by the id's time: a sorted listing is oldest first.
    final = spool / f"{ids.write_time(prediction.id):020d}-{prediction.id}{SUFFIX}"
    partial = spool / f".{final.name}.{os.getpid()}.{threading.get_ident()}.tmp"
    with open(partial, "wb") as handle:
        handle.write(record)
        handle.flush()
        os.fsync(handle.fileno())
    os.rename(partial, final)
    directory = os.open(spool, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    ensure_drainer()


def is_full(depth: Depth) -> bool:
    return (depth.items >= settings.NUMBERFIGURE_OUTBOX_MAX_ITEMS
            or depth.bytes >= settings.NUMBERFIGURE_OUTBOX_MAX_BYTES)


def measure() -> Depth:
    """How much is waiting, and for how long the oldest has."""
    entries = sorted(folder().glob(f"*{SUFFIX}"))
    sizes = 0
    for entry in entries:
        with suppress(FileNotFoundError):  # replayed meanwhile
            sizes += entry.stat().st_size
    oldest = None
    if entries:
        oldest = max(0.0, time.time() - int(entries[0].name.split("-", 1)[0]) / 1e6)
    return Depth(items=len(entries), bytes=sizes, oldest_age_seconds=oldest)


def drain(*, limit: int | None = None) -> int:
    """Replay spooled predictions, oldest first, until the spool is empty, ``limit`` are replayed,
    or Cassandra fails (the error is raised; what was replayed stays replayed)."""
    replayed = 0
    for path in sorted(folder().glob(f"*{SUFFIX}")):
        if limit is not None and replayed >= limit:
            break
        replayed += _replay(path)
    return replayed


def _replay(path: Path) -> int:
    try:
        handle = open(path, "rb")  # noqa: SIM115 - held open for the lock's whole life
    except FileNotFoundError:
        return 0
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # another process is replaying it
            return 0
        if os.fstat(handle.fileno()).st_nlink == 0:  # replayed and removed while we waited
            return 0
        record = json.loads(handle.read())
        original = base64.b64decode(record.pop("original"))
        prediction = StoredPrediction(**{name: _decode(name, value) for name, value in record.items()})
        first, batch, entries = writes.creation(prediction, original)
        if first:
            cql.run_concurrently(first)
        cql.run_atomically(batch)
        writes.listed.remember(entries, prediction.bucket)
        stats.add(stats.contribution(prediction))
        path.unlink()
    return 1


def ensure_drainer() -> None:
    """Start this process's background replay thread, once."""
    global _drainer
    with _drainer_lock:
        if _drainer is None or not _drainer.is_alive():
            _drainer = threading.Thread(target=_drain_forever, name="outbox-drainer", daemon=True)
            _drainer.start()


def _drain_forever() -> None:
    while True:
        time.sleep(RETRY_SECONDS)
        try:
            replayed = drain()
        except Exception as error:  # noqa: BLE001 - Cassandra still down (or a bad file): try again later
            logger.warning("Outbox not drained yet: %s: %s", type(error).__name__, error)
            continue
        if replayed:
            logger.info("Outbox: %d spooled predictions stored", replayed)


_BYTES = {"input_png"}
_TIMES = {"bucket", "created_at", "corrected_at"}


def _encode(value):
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _decode(name: str, value):
    if value is None:
        return None
    if name in _BYTES:
        return base64.b64decode(value)
    if name in _TIMES:
        return dt.datetime.fromisoformat(value)
    if name == "id":
        return uuid.UUID(value)
    return value
