"""``Idempotency-Key`` for ``POST /api/predict`` (IETF httpapi draft "The Idempotency-Key HTTP
Header Field"): a client that retries gets the first answer again, and nothing is stored twice.

Keys are scoped per client (its account, else its address), as the draft recommends: two clients
choosing the same key do not meet. The first request with a key *claims* it with a lightweight
transaction (``IF NOT EXISTS``) carrying a claim id of its own, and records the ids its
predictions will be stored under. Of two concurrent requests only one runs; the other is told to
retry (409). A transaction whose answer is lost or comes from a duplicate is recognised by its
claim id, read back. Reusing a key for another request is refused (422). A successful answer is
kept for 24 h and replayed. A request that failed (or whose worker died) leaves its claim to the
next attempt after its lease: that attempt stores under the *same* ids, so a write that timed out
but was applied is written again, not duplicated. Every write sets every cell with the 24 h TTL,
so a record is gone 24 h after its last write.
"""

import datetime as dt
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import IdempotencyKeyInUse, IdempotencyKeyReused
from ..models import IdempotencyRecord
from . import cql

TTL_SECONDS = 24 * 3600
LEASE = dt.timedelta(seconds=60)  # longer than any request may take
_EXPIRED = dt.datetime(1970, 1, 1)


@dataclass(frozen=True)
class Answer:
    status: int
    body: str


@dataclass(frozen=True)
class Claim:
    """This request holds the key: store under ``prediction_ids``, then ``remember`` or ``release``."""

    key: str  # as stored: the digest of the client and its key
    fingerprint: str
    prediction_ids: list[uuid.UUID]


def digest(*parts: bytes | str) -> str:
    """SHA-256 of the parts, each length-prefixed so that no two sequences share a digest."""
    sha = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        sha.update(len(data).to_bytes(8, "big") + data)
    return sha.hexdigest()


def claim(*, client: str, key: str, fingerprint: str, new_ids: Callable[[], list[uuid.UUID]]) -> Claim | Answer:
    """Hold ``client``'s ``key`` for this request, or the answer already given to it; refuses a key
    in use or reused."""
    table, hashed, claimant = IdempotencyRecord.column_family_name(), digest(client, key), uuid.uuid4()
    insert = (f"INSERT INTO {table} (key, fingerprint, prediction_ids, lease, claimant) VALUES (?, ?, ?, ?, ?) "
              f"IF NOT EXISTS USING TTL {TTL_SECONDS}")
    ids, now = new_ids(), _now()
    row = _transact(cql.bind(insert, [hashed, fingerprint, ids, now + LEASE, claimant]), hashed, claimant)
    if row is None:
        return Claim(hashed, fingerprint, ids)
    if row["fingerprint"] != fingerprint:
        raise IdempotencyKeyReused("This Idempotency-Key was already used for a different request.")
    if row["status"] is not None:
        return Answer(status=row["status"], body=row["body"])
    if row["lease"] > now:
        raise IdempotencyKeyInUse("A request with this Idempotency-Key is still being processed; retry shortly.")
    take_over = (f"UPDATE {table} USING TTL {TTL_SECONDS} SET fingerprint = ?, prediction_ids = ?, lease = ?, "
                 "claimant = ? WHERE key = ? IF lease = ?")
    taken = _transact(cql.bind(take_over, [fingerprint, row["prediction_ids"], now + LEASE, claimant, hashed,
                                           row["lease"]]), hashed, claimant)
    if taken is not None:
        raise IdempotencyKeyInUse("A request with this Idempotency-Key is still being processed; retry shortly.")
    return Claim(hashed, fingerprint, list(row["prediction_ids"]))


def remember(claim: Claim, answer: Answer) -> None:
    """Keep the answer for 24 h from now."""
    update = (f"UPDATE {IdempotencyRecord.column_family_name()} USING TTL {TTL_SECONDS} "
              "SET fingerprint = ?, prediction_ids = ?, status = ?, body = ? WHERE key = ?")
    cql.run(cql.bind(update, [claim.fingerprint, claim.prediction_ids, answer.status, answer.body, claim.key]))


def release(claim: Claim) -> None:
    """Let the next attempt take the key over at once (it keeps the ids)."""
    update = (f"UPDATE {IdempotencyRecord.column_family_name()} USING TTL {TTL_SECONDS} "
              "SET fingerprint = ?, prediction_ids = ?, lease = ? WHERE key = ? IF lease > ?")
    cql.run(cql.bind(update, [claim.fingerprint, claim.prediction_ids, _EXPIRED, claim.key, _EXPIRED]))


def _transact(statement, hashed: str, claimant: uuid.UUID) -> dict | None:
    """Run a claim's transaction once: None when this claim holds the key, else the record as it is."""
    won, row = cql.transact(statement, read_back=cql.select(IdempotencyRecord, "key = ?", [hashed]),
                            owner="claimant", mine=claimant)
    if won:
        return None
    if row is None:  # expired meanwhile: too late to tell, so the client retries
        raise IdempotencyKeyInUse("A request with this Idempotency-Key is still being processed; retry shortly.")
    return row


def _now() -> dt.datetime:
    """Naive UTC with millisecond precision, as Cassandra keeps timestamps (so leases compare equal)."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)
