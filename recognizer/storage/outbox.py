"""A durable local spool for writes Cassandra could not take, replayed when it answers again.

When storing fails (no node reachable, too few replicas, a timeout), the person still gets the
recognition: the prediction, with its original, is written to a file under ``OUTBOX_DIR``
(``DJANGO_VAR_DIR/outbox``, on the compose volume), fsynced before the answer is sent. So are the
follow-up writes of a correction or a delete that won its transaction (``put_change``). A
background thread in each process, or ``manage.py drain_outbox``, replays the files oldest first
under their own ids, at their own write times (``storage.writes``), so a write that was applied
after all is written again, not twice. The stats count it once it is stored.

The spool is bounded (``OUTBOX_MAX_ITEMS``, ``OUTBOX_MAX_MB``): past that, ``OutboxFull`` (503).
A file is replayed under an exclusive ``flock``, so several workers share one spool safely. A file
that cannot be replayed for a reason other than Cassandra's availability (it does not decode,
Cassandra refuses the statement) is moved to ``dead/`` and the others go on; ``manage.py
drain_outbox --retry-dead`` puts those back.
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
from collections import Counter
from contextlib import suppress
from dataclasses import asdict, dataclass
from pathlib import Path

from django.conf import settings

from ..errors import OutboxFull
from . import ids, stats, writes
from .cql import UNAVAILABLE
from .records import StoredPrediction

RETRY_SECONDS = 1.0
SUFFIX = ".json"
DEAD = "dead"
STALE_PARTIAL_SECONDS = 60  # a put writes its file in milliseconds: older partial files were left by a crash
MEASURE_SECONDS = 1.0  # how long put() trusts a measured depth before listing the spool again
logger = logging.getLogger(__name__)
_drainer: threading.Thread | None = None
_drainer_lock = threading.Lock()
_measured: tuple[Path, float, "Depth"] | None = None  # (spool, when, depth): put()'s view of it


@dataclass(frozen=True)
class Depth:
    items: int
    bytes: int
    oldest_age_seconds: float | None
    dead: int = 0  # files set aside in dead/ (they need an operator)

    @property
    def full(self) -> bool:
        return (self.items >= settings.NUMBERFIGURE_OUTBOX_MAX_ITEMS
                or self.bytes >= settings.NUMBERFIGURE_OUTBOX_MAX_BYTES)


def folder() -> Path:
    path = Path(settings.NUMBERFIGURE_OUTBOX_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def put(prediction: StoredPrediction, original: bytes) -> None:
    """Spool a new prediction durably; OutboxFull past the limits."""
    _spool(prediction, {"original": base64.b64encode(original).decode()}, name=str(prediction.id))


def put_change(kind: str, changed: StoredPrediction, totals: Counter) -> None:
    """Spool what follows a won ``"correction"`` or ``"deletion"``: its follow-up writes, then
    ``totals`` for the stats."""
    _spool(changed, {"kind": kind, "stats": [[str(metric), name, amount] for (metric, name), amount in totals.items()]},
           name=f"{changed.id}-{kind}-{changed.version}")


def _spool(prediction: StoredPrediction, extra: dict, *, name: str) -> None:
    """Write a record durably (written, fsynced, renamed into place, folder fsynced)."""
    record = json.dumps({**{field: _encode(value) for field, value in asdict(prediction).items()}, **extra}).encode()
    spool = folder()
    depth = _recent_depth()
    too_many = depth.items >= settings.NUMBERFIGURE_OUTBOX_MAX_ITEMS
    if too_many or depth.bytes + len(record) > settings.NUMBERFIGURE_OUTBOX_MAX_BYTES:
        raise OutboxFull("The prediction store is unreachable and the local queue is full. Please try again later.")
    # Named by the id's time: a sorted listing is oldest first.
    final = spool / f"{ids.write_time(prediction.id):020d}-{name}{SUFFIX}"
    partial = spool / f".{final.name}.{os.getpid()}.{threading.get_ident()}.tmp"
    try:
        with open(partial, "wb") as handle:
            handle.write(record)
            handle.flush()
            os.fsync(handle.fileno())
        os.rename(partial, final)
        _sync_folder(spool)
    except OSError as error:  # a full or read-only disk: nothing is accepted, nothing is kept
        logger.error("Outbox: %s cannot be written: %s", final.name, error)
        for path in (partial, final):
            with suppress(OSError):
                path.unlink(missing_ok=True)
        raise OutboxFull("The prediction store is unreachable and the local queue cannot be written. "
                         "Please try again later.") from error
    _counted(items=1, size=len(record))
    ensure_drainer()


def _recent_depth() -> "Depth":
    """The spool's depth as measured within the last MEASURE_SECONDS plus this process's puts since:
    a put does not list a spool of thousands of files (other processes' puts show within that time)."""
    global _measured
    spool = folder()
    with _drainer_lock:
        if _measured is None or _measured[0] != spool or time.monotonic() - _measured[1] > MEASURE_SECONDS:
            _measured = (spool, time.monotonic(), measure())
        return _measured[2]


def _counted(*, items: int, size: int) -> None:
    global _measured
    with _drainer_lock:
        if _measured is not None:
            spool, when, depth = _measured
            _measured = (spool, when, Depth(depth.items + items, depth.bytes + size, depth.oldest_age_seconds))


def _sync_folder(path: Path) -> None:
    """fsync a folder, so that a rename or removal in it survives a crash."""
    directory = os.open(path, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


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
    dead = sum(1 for _ in (folder() / DEAD).glob(f"*{SUFFIX}"))
    return Depth(items=len(entries), bytes=sizes, oldest_age_seconds=oldest, dead=dead)


def drain(*, limit: int | None = None) -> int:
    """Replay spooled writes, oldest first, until the spool is empty, ``limit`` are replayed, or
    Cassandra fails (the error is raised; what was replayed stays replayed). A file that fails for
    another reason is moved to ``dead/``."""
    spool = folder()
    remove_stale_partials()
    replayed = 0
    for path in sorted(spool.glob(f"*{SUFFIX}")):
        if limit is not None and replayed >= limit:
            break
        replayed += _replay(path)
    return replayed


def retry_dead() -> int:
    """Put the files set aside in ``dead/`` back in the spool; how many."""
    spool, moved = folder(), 0
    for path in sorted((spool / DEAD).glob(f"*{SUFFIX}")):
        os.rename(path, spool / path.name)
        moved += 1
    if moved:
        _sync_folder(spool)
        _sync_folder(spool / DEAD)
    return moved


def remove_stale_partials() -> None:
    """Remove the partial files a crashed put left (never renamed into place, so never
    acknowledged); at start and before each replay."""
    for partial in Path(settings.NUMBERFIGURE_OUTBOX_DIR).glob(".*.tmp"):  # none when there is no folder yet
        with suppress(FileNotFoundError):
            if time.time() - partial.stat().st_mtime > STALE_PARTIAL_SECONDS:
                partial.unlink()


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
        try:
            _write(json.loads(handle.read()))
        except UNAVAILABLE:
            raise
        except Exception as error:  # noqa: BLE001 - a bad file must not hold up the others
            logger.error("Outbox: %s cannot be replayed (%s: %s); moved to %s/", path.name, type(error).__name__,
                         error, DEAD)
            (path.parent / DEAD).mkdir(exist_ok=True)
            os.rename(path, path.parent / DEAD / path.name)
            _sync_folder(path.parent / DEAD)
            _sync_folder(path.parent)
            return 0
        path.unlink()
        _sync_folder(path.parent)
    return 1


def _write(record: dict) -> None:
    """Write one spooled record to Cassandra, then count it in the stats."""
    kind = record.pop("kind", "store")
    original = base64.b64decode(record.pop("original", ""))
    totals = Counter({(stats.Stat(metric), name): amount for metric, name, amount in record.pop("stats", [])})
    prediction = StoredPrediction(**{name: _decode(name, value) for name, value in record.items()})
    if kind == "store":  # perhaps stored and counted already (a retried request under the same id)
        stats.announce(prediction.id)
        writes.store(prediction, original)
        stats.add_once(prediction)
        return
    followers = {"correction": writes.correction_followers, "deletion": writes.deletion_followers}[kind]
    writes.follow(*followers(prediction), prediction.bucket)
    stats.add(totals, prediction.id)


def ensure_drainer() -> None:
    """Start this process's background replay thread, unless it runs; it stops once the spool is empty."""
    global _drainer
    with _drainer_lock:
        if _drainer is None or not _drainer.is_alive():
            _drainer = threading.Thread(target=_drain_until_empty, name="outbox-drainer", daemon=True)
            _drainer.start()


def _drain_until_empty() -> None:
    global _drainer
    while True:
        time.sleep(RETRY_SECONDS)
        try:
            replayed = drain()
        except Exception as error:  # noqa: BLE001 - Cassandra still down (or a bad file): try again later
            logger.warning("Outbox not drained yet: %s: %s", type(error).__name__, error)
            continue
        if replayed:
            logger.info("Outbox: %d spooled predictions stored", replayed)
        with _drainer_lock:  # a put() after this check starts a new thread
            if not measure().items:
                _drainer = None
                return


_BYTES = {"input_png"}
_UUIDS = {"id", "change_id", "picture_id"}
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
    if name in _UUIDS:
        return uuid.UUID(value)
    return value
