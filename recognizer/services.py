"""Actions on stored predictions: recognise and store, store, correct, delete.

A new prediction is written as one batch (``storage.writes``): the row, its filter-index
entries and the list entries readers walk. A correction or a delete is a lightweight transaction
on the row's version carrying the change's own id, then the follow-up writes of its winner. Each
adds its change to the stats totals, which are written about once a second (``storage.stats``);
the totals lag the rows by that second. What Cassandra cannot take now waits in the local outbox
(``storage.outbox``) and is written when it answers again.
"""

import datetime as dt
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np
from django.conf import settings

from . import metrics
from .errors import PredictionChanged, PredictionNotFound
from .models import Prediction
from .recognition import DigitReading, ImageUpload, Recognition, digit_of, recognize
from .storage import claims, cql, ids, outbox, stats, writes
from .storage.claims import Answer, Claim
from .storage.cql import UNAVAILABLE
from .storage.records import StoredPrediction, from_rows

CHANGE_ATTEMPTS = 5  # a correction or delete that loses this many races in a row gives up (409)


def prediction_store(
    *,
    source: str,
    filename: str | None,
    content_type: str,
    image: bytes,
    input_png: bytes,
    probabilities: Sequence[float],
    model_version: str,
    latency_ms: float,
    created: float | None = None,
    prediction_id: uuid.UUID | None = None,
    known_id: bool | None = None,
    picture: dict | None = None,
) -> StoredPrediction:
    """Store one prediction that was already made (this runs no model), with its original image.

    When Cassandra cannot take it (unreachable, too few replicas, timed out), it goes to the local
    outbox (``storage.outbox``) and comes back marked ``pending``; OutboxFull when that is full.

    ``created`` (a Unix time) is for importing older predictions; new ones take the current time.
    ``prediction_id`` stores it under a known id (a copy, a replay): storing it again changes nothing
    (``known_id=False``: a new id chosen by the caller). ``picture`` (``picture_id``, ``position``,
    ``digit_count``, ``box``) places a digit in its picture; only the first one's ``image`` is stored.
    """
    if known_id is None:
        known_id = prediction_id is not None  # perhaps stored and counted by an earlier attempt
    if prediction_id is None:
        prediction_id = ids.new_prediction_id(timestamp=ids.now() if created is None else created,
                                              shards=settings.NUMBERFIGURE_SHARDS)
    bucket, shard = ids.partition_of(prediction_id)
    digit = digit_of(probabilities)
    prediction = StoredPrediction(
        bucket=bucket,
        shard=shard,
        id=prediction_id,
        # As Cassandra keeps them (milliseconds, 32-bit floats): the answer to this request then
        # equals every later read of the prediction.
        created_at=dt.datetime.fromtimestamp(round(ids.unix_time(prediction_id), 3), dt.UTC).replace(tzinfo=None),
        source=source,
        filename=filename,
        content_type=content_type,
        image_size=len(image),
        input_png=input_png,
        digit=digit,
        confidence=float(probabilities[digit]),
        probabilities=[float(p) for p in probabilities],
        model_version=model_version,
        latency_ms=float(np.float32(latency_ms)),
        **(picture or {}),
    )
    try:
        with metrics.cassandra_write():
            stats.announce(prediction.id)
            writes.store(prediction, image)  # preparing statements needs a node too
    except UNAVAILABLE:  # kept locally and stored under the same id once Cassandra answers
        outbox.put(prediction, image if prediction.picture == prediction.id else b"")  # as ``store`` writes it: once
        prediction.pending = True
        metrics.count_prediction(source, digit)
        return prediction
    if known_id:
        stats.add_once(prediction)
    else:
        stats.add(stats.contribution(prediction), prediction.id)
    metrics.count_prediction(source, digit)
    return prediction


def outbox_replay_start() -> None:
    """Replay this host's outbox in the background until it is empty (a process may start with
    files that an earlier one left)."""
    outbox.ensure_drainer()


def request_claim(*, client: str, key: str, uploads: Sequence[ImageUpload], source: str
                  ) -> Claim | Answer:
    """Hold ``client``'s ``Idempotency-Key`` for a request to recognise and store ``uploads``, or the
    answer already given to it (``storage.claims``)."""
    fingerprint = claims.digest(source, *(part for upload in uploads
                                               for part in (upload.filename or "", upload.data)))
    return claims.claim(client=client, key=key, fingerprint=fingerprint,
                             new_ids=lambda: new_prediction_ids(len(uploads)))


def request_remember(*, claim: Claim, status: int, body: str) -> None:
    """Keep the answer to a claimed request for 24 h, to give to its retries."""
    claims.remember(claim, Answer(status, body))


def request_release(*, claim: Claim) -> None:
    """Let the next attempt of a claimed request that failed take the key over at once."""
    claims.release(claim)


def new_prediction_ids(count: int) -> list[uuid.UUID]:
    """Ids for predictions made now, on random shards."""
    now = ids.now()
    return [ids.new_prediction_id(timestamp=now, shards=settings.NUMBERFIGURE_SHARDS) for _ in range(count)]


def predictions_create(
    *, uploads: Sequence[ImageUpload], source: str, prediction_ids: Sequence[uuid.UUID] | None = None,
    expect_digit: bool = False,
) -> list[list[StoredPrediction]]:
    """Recognise the uploads with the model, all their digits in one batch, and store each digit; a bad
    upload stores nothing. Answers each picture's digits in reading order.

    A picture of several digits is a row per digit (``models.Prediction``): the first under the
    picture's id, with its original, the others under ids that follow from it (``ids.digit_id``).
    ``prediction_ids`` (one per upload) store them under known ids: a retry with the same ids
    rewrites the same rows instead of adding new ones. ``expect_digit``: see ``recognize``.
    """
    started = time.perf_counter()
    recognitions = recognize(uploads, expect_digit=expect_digit)
    latency_ms = (time.perf_counter() - started) * 1000
    known = prediction_ids is not None
    pictures = []
    for upload, recognition, known_id in zip(uploads, recognitions, prediction_ids or [None] * len(uploads),
                                             strict=True):
        picture_id = known_id or new_prediction_ids(1)[0]  # made as each is stored: they keep the uploads' order
        pictures.append([
            prediction_store(
                source=source,
                filename=upload.filename,
                content_type=recognition.content_type,
                image=recognition.original,
                input_png=reading.input_png,
                probabilities=reading.probabilities,
                model_version=recognition.model_version,
                latency_ms=latency_ms,
                prediction_id=picture_id if position == 0 else ids.digit_id(picture_id, position),
                known_id=known,
                picture=_place(picture_id, position, recognition, reading),
            )
            for position, reading in enumerate(recognition.digits)
        ])
    return pictures


def _place(picture_id: uuid.UUID, position: int, recognition: Recognition, reading: DigitReading) -> dict:
    """Where a digit lies in its picture."""
    return {"picture_id": picture_id, "position": position, "digit_count": len(recognition.digits),
            "box": list(reading.box)}


def prediction_correct(*, prediction: StoredPrediction, label: int | None, user: str) -> StoredPrediction:
    """Set the label a person says is right, or with ``label=None`` clear it; ``prediction`` is
    updated to what was stored.

    A lightweight transaction on the row's version decides between racing changes: only the
    winner moves the index entries and the stats; a loser reads the row again and retries.
    """
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    change_id, current = uuid.uuid4(), prediction
    for _ in range(CHANGE_ATTEMPTS):
        changed = replace(current, corrected_label=label, corrected_by=user if label is not None else None,
                          corrected_at=now if label is not None else None, version=(current.version or 0) + 1,
                          change_id=change_id)
        won, current = _transact(writes.correction_if_unchanged(current, changed), current, changed)
        if won:
            _follow("correction", changed, writes.correction_followers,
                    stats.difference(stats.contribution(changed), stats.contribution(current)))
            vars(prediction).update(vars(changed))
            return prediction
    raise PredictionChanged("The prediction was changed by someone else meanwhile; try again.")


def prediction_delete(*, prediction: StoredPrediction) -> None:
    """Remove a prediction, its original and its index entries, and take it out of the stats.

    Deleting one that is already gone does nothing (the stats are not taken from twice).
    """
    change_id, current = uuid.uuid4(), prediction
    for _ in range(CHANGE_ATTEMPTS):
        deleted = replace(current, deleted=True, version=(current.version or 0) + 1, change_id=change_id)
        try:
            won, current = _transact(writes.deletion_if_unchanged(current, deleted), current, deleted)
        except PredictionNotFound:
            return
        if won:
            _follow("deletion", deleted, writes.deletion_followers,
                    stats.difference(Counter(), stats.contribution(current)))
            return
    raise PredictionChanged("The prediction was changed by someone else meanwhile; try again.")


def _transact(statement, current: StoredPrediction, changed: StoredPrediction) -> tuple[bool, StoredPrediction]:
    """Run the transaction changing ``current`` to ``changed`` once (``cql.transact``, which
    recognises this change's win by its id): (True, ``current``) when it won, else (False, the row
    as it now is). PredictionNotFound when the row is gone."""
    won, row = cql.transact(statement, read_back=cql.select(Prediction, "bucket = ? AND shard = ? AND id = ?",
                                                            [changed.bucket, changed.shard, changed.id]),
                            owner="change_id", mine=changed.change_id)
    if won:
        return True, current
    now = from_rows([row])[0] if row else None
    if now is None or now.deleted:
        raise PredictionNotFound("No such prediction: it was deleted.")
    return False, now


def _follow(kind: str, changed: StoredPrediction, followers: Callable[[StoredPrediction], tuple[list, set]],
            totals: Counter) -> None:
    """Write what follows a won change (``followers`` of it: they may read, e.g. a deleted digit's
    siblings) and count it; when Cassandra cannot take that now, it waits in the outbox (the change
    itself is already decided)."""
    try:
        writes.follow(*followers(changed), changed.bucket)
    except UNAVAILABLE:
        outbox.put_change(kind, changed, totals)
        return
    stats.add(totals, changed.id)
