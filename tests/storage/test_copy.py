"""manage.py copy_predictions: rows of the first (day-partitioned) layout, copied into today's."""

import datetime as dt
import io
import random

import pytest
from cassandra.cqlengine.management import drop_table, sync_table
from cassandra.util import uuid_from_time
from django.core.management import call_command
from helpers import peaked

from recognizer.first_layout.tables import LEGACY_TABLES, LegacyDay, LegacyImage, LegacyPrediction
from recognizer.selectors import Filters, prediction_get, prediction_image_get, prediction_list
from recognizer.services import prediction_delete

START = dt.datetime(2025, 12, 30, 22, 0, tzinfo=dt.UTC).timestamp()


@pytest.fixture
def legacy(cassandra):
    """Thirty predictions written as the first layout wrote them, over three UTC days."""
    for table in LEGACY_TABLES:
        sync_table(table)
    rng = random.Random(5)
    made = []
    for n in range(30):
        made_id = uuid_from_time(START + n * 7200 + rng.random(), node=rng.getrandbits(48))  # `random` bits, as then
        day = dt.datetime.fromtimestamp(START + n * 7200, dt.UTC).date()
        probabilities = peaked(n % 10, 0.55, 0.05)
        original = bytes([n]) * (40_000 if n == 7 else 50)
        LegacyPrediction.create(
            bucket=day, id=made_id, created_at=dt.datetime.fromtimestamp(START + n * 7200, dt.UTC).replace(tzinfo=None),
            source=("draw", "upload")[n % 2], filename=f"{n}.png", content_type="image/png", image_size=len(original),
            input_png=b"png", digit=n % 10, confidence=0.55, probabilities=probabilities, model_version="old",
            latency_ms=3.5, **({"corrected_label": 4, "corrected_by": "alice"} if n % 6 == 0 else {}),
        )
        LegacyImage.create(id=made_id, content_type="image/png", data=original)
        LegacyDay.create(scope="all", day=day)
        made.append((made_id, n, original))
    yield made
    for table in LEGACY_TABLES:
        drop_table(table)


def copy(checkpoint) -> str:
    out = io.StringIO()
    call_command("copy_predictions", checkpoint=checkpoint, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_every_row_is_readable_by_its_old_id_and_listed(legacy, tmp_path):
    assert "Copied 30 predictions" in copy(tmp_path / "checkpoint")

    for made_id, n, original in legacy:
        stored = prediction_get(prediction_id=made_id)
        assert (stored.digit, stored.source, stored.filename, stored.model_version) == (
            n % 10, ("draw", "upload")[n % 2], f"{n}.png", "old")
        assert stored.corrected_label == (4 if n % 6 == 0 else None)
        assert prediction_image_get(prediction_id=made_id).data == original
    newest_first = [made_id for made_id, _, _ in reversed(legacy)]
    assert [p.id for p in prediction_list(limit=100)] == newest_first
    assert [p.id for p in prediction_list(limit=100, filters=Filters(label=4))] == [
        made_id for made_id, n, _ in reversed(legacy) if n % 6 == 0]
    assert [p.id for p in prediction_list(limit=100, filters=Filters(source="draw", digit=2))] == [
        made_id for made_id, n, _ in reversed(legacy) if n % 10 == 2 and n % 2 == 0]


def test_a_second_run_copies_nothing_and_an_interrupted_one_resumes(legacy, tmp_path):
    checkpoint = tmp_path / "checkpoint"
    newest_first = [made_id for made_id, _, _ in reversed(legacy)]
    checkpoint.write_text(str(newest_first[11]))  # as if stopped after the 12 newest

    assert "Copied 18 predictions" in copy(checkpoint)
    assert prediction_get(prediction_id=newest_first[0]) is None  # before the checkpoint: not this run's job
    checkpoint.unlink()
    assert "Copied 30 predictions" in copy(checkpoint)  # from scratch: rows written again, not twice
    assert "Copied 0 predictions" in copy(checkpoint)
    assert [p.id for p in prediction_list(limit=100)] == newest_first


def test_a_keyspace_without_the_first_layout_has_nothing_to_copy(cassandra, tmp_path):
    assert "Copied 0 predictions" in copy(tmp_path / "checkpoint")


def test_a_deleted_prediction_stays_deleted_when_copied_again(legacy, tmp_path):
    copy(tmp_path / "checkpoint")
    deleted, _, _ = legacy[4]
    prediction_delete(prediction=prediction_get(prediction_id=deleted))

    (tmp_path / "checkpoint").unlink()  # a copy from scratch, as after the tombstone is purged
    assert "Copied 29 predictions" in copy(tmp_path / "checkpoint")
    assert prediction_get(prediction_id=deleted) is None
