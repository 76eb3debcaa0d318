"""``Idempotency-Key`` for ``POST /api/predict`` (IETF httpapi draft "The Idempotency-Key HTTP
Header Field"): a client that retries after a timeout gets the first answer again, and nothing new
is stored.

The first request with a key *claims* it with a lightweight transaction (``IF NOT EXISTS``), so of
two concurrent requests only one runs; the other is told to retry (409). The claim remembers a
fingerprint of the request, so reusing a key for another request is refused (422). A successful
answer is kept for 24 h; a failed request releases its key so it can be retried, and a claim
whose worker died expires after a minute.
"""

import hashlib
from dataclasses import dataclass

from ..models import IdempotencyRecord
from . import cql

TTL_SECONDS = 24 * 3600
# A claim whose request never finished (its worker was killed) frees the key after this long.
CLAIM_SECONDS = 60


class KeyInUse(Exception):
    """Another request with this key is still running (409)."""


class KeyReused(Exception):
    """The key was already used for a different request (422)."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: str


def digest(*parts: bytes | str) -> str:
    """SHA-256 of the parts, each length-prefixed so that no two sequences share a digest."""
    sha = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        sha.update(len(data).to_bytes(8, "big") + data)
    return sha.hexdigest()


def claim(*, key: str, fingerprint: str) -> Answer | None:
    """The answer already given for ``key``, or None once this request holds the key."""
    hashed = digest(key)
    table = IdempotencyRecord.column_family_name()
    insert = f"INSERT INTO {table} (key, fingerprint) VALUES (?, ?) IF NOT EXISTS USING TTL {CLAIM_SECONDS}"
    [row] = cql.run(cql.bind(insert, [hashed, fingerprint]))
    if row["[applied]"]:
        return None
    if row["fingerprint"] != fingerprint:
        raise KeyReused("This Idempotency-Key was already used for a different request.")
    if row["status"] is None:
        raise KeyInUse("A request with this Idempotency-Key is still being processed; retry shortly.")
    return Answer(status=row["status"], body=row["body"])


def remember(*, key: str, fingerprint: str, answer: Answer) -> None:
    table = IdempotencyRecord.column_family_name()
    update = f"UPDATE {table} USING TTL {TTL_SECONDS} SET fingerprint = ?, status = ?, body = ? WHERE key = ?"
    cql.run(cql.bind(update, [fingerprint, answer.status, answer.body, digest(key)]))


def release(*, key: str) -> None:
    cql.run(cql.delete(IdempotencyRecord, {"key": digest(key)}))
