"""The Prediction tables on the real Cassandra node: every field kept, history paged right."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import connections
from helpers import peaked

from recognizer.models import Prediction
from recognizer.selectors import Filters, prediction_get, prediction_image_get, prediction_list
from recognizer.services import prediction_correct, prediction_store
from recognizer.storage.ids import bucket_of
from recognizer.storage.writes import BATCHED_IMAGE_BYTES, CHUNK_BYTES

DAY = 24 * 3600
START = dt.datetime(2026, 3, 1, 22, 0, tzinfo=dt.UTC).timestamp()


def record(created: float | None = None, digit: int = 3, **overrides) -> Prediction:
    probabilities = peaked(digit, 0.91, 0.01)
    fields = dict(
        source="upload",
        filename="../../etc/passwd.png",
        content_type="image/png",
        image=b"\x89PNG original bytes \x00\xff",
        input_png=b"\x89PNG 28x28",
        probabilities=probabilities,
        model_version="test-1",
        latency_ms=4.25,
        created=created,
    )
    return prediction_store(**{**fields, **overrides})


def test_every_field_round_trips(cassandra):
    created = record(created=START + 0.123456, digit=7, source="draw", content_type="image/webp")
    prediction_correct(prediction=created, label=1, user="alice")

    stored = prediction_get(prediction_id=created.id)

    assert stored is not None
    assert stored.id == created.id
    assert stored.bucket == dt.datetime(2026, 3, 1, 22, 0)
    assert abs(stored.created_at - dt.datetime(2026, 3, 1, 22, 0, 0, 123000)) < dt.timedelta(milliseconds=1)
    assert (stored.source, stored.filename, stored.content_type) == ("draw", "../../etc/passwd.png", "image/webp")
    assert stored.image_size == len(b"\x89PNG original bytes \x00\xff")
    assert stored.input_png == b"\x89PNG 28x28"
    assert (stored.digit, stored.model_version) == (7, "test-1")
    assert stored.confidence == pytest.approx(0.91)
    assert stored.probabilities == pytest.approx([0.01] * 7 + [0.91] + [0.01] * 2)
    assert stored.latency_ms == pytest.approx(4.25)
    assert (stored.corrected_label, stored.corrected_by) == (1, "alice")
    assert abs(stored.corrected_at - dt.datetime.now(dt.UTC).replace(tzinfo=None)) < dt.timedelta(seconds=30)
    assert stored.label == 1
    image = prediction_image_get(prediction_id=created.id)
    assert (image.content_type, image.data) == ("image/webp", b"\x89PNG original bytes \x00\xff")


@pytest.mark.parametrize("size", [0, BATCHED_IMAGE_BYTES, BATCHED_IMAGE_BYTES + 1, CHUNK_BYTES, 4 * 2**20 + 7])
def test_originals_of_any_size_are_stored_with_their_listing(cassandra, size):
    """Small originals share the row's batch, bigger ones (over Cassandra's batch limit) go first."""
    original = bytes(range(256)) * (size // 256) + b"\x01" * (size % 256)
    created = record(image=original, digit=5)

    assert prediction_image_get(prediction_id=created.id).data == original
    assert prediction_get(prediction_id=created.id).image_size == size
    assert [p.id for p in prediction_list(filters=Filters(digit=5, source="upload"))] == [created.id]


def test_an_uncorrected_prediction_has_no_correction(cassandra):
    stored = prediction_get(prediction_id=record(digit=4).id)
    assert (stored.corrected_label, stored.corrected_by, stored.corrected_at) == (None, None, None)
    assert stored.label == 4


def test_history_is_newest_first_and_pages_cover_every_row_once_across_days(cassandra):
    # Eleven predictions, three hours apart, spread over three UTC days.
    ids = [record(created=START + i * 10800).id for i in range(11)]
    assert len({bucket_of(i).date() for i in ids}) == 3
    newest_first = list(reversed(ids))

    seen, before = [], None
    while page := prediction_list(before=before, limit=4):
        assert len(page) <= 4
        seen.extend(row.id for row in page)
        before = page[-1].id

    assert seen == newest_first
    assert [row.id for row in prediction_list(limit=50)] == newest_first
    assert [row.id for row in prediction_list(before=ids[5], limit=3)] == [ids[4], ids[3], ids[2]]


def test_unknown_id_is_none(cassandra):
    assert prediction_get(prediction_id=record(created=START).id) is not None
    from cassandra.util import uuid_from_time

    assert prediction_get(prediction_id=uuid_from_time(START)) is None


def test_sync_cassandra_twice_keeps_data(cassandra):
    kept = record()
    call_command("sync_cassandra", verbosity=0)
    call_command("sync_cassandra", verbosity=0)
    assert prediction_get(prediction_id=kept.id) is not None


@pytest.fixture
def fresh_keyspace(cassandra):
    """Point the app at a keyspace that does not exist yet; drop it afterwards."""
    settings_dict = connections["cassandra"].settings_dict
    old_name, settings_dict["NAME"] = settings_dict["NAME"], "test_numberfigure_sync"
    cassandra.execute("DROP KEYSPACE IF EXISTS test_numberfigure_sync")
    yield "test_numberfigure_sync"
    settings_dict["NAME"] = old_name
    cassandra.execute("DROP KEYSPACE IF EXISTS test_numberfigure_sync")


def test_sync_cassandra_creates_the_keyspace_as_configured_and_can_run_again(cassandra, fresh_keyspace):
    call_command("sync_cassandra", verbosity=0)
    call_command("sync_cassandra", verbosity=0)

    row = cassandra.execute(
        "SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = %s", [fresh_keyspace]
    ).one()
    assert dict(row["replication"]) == {
        "class": "org.apache.cassandra.locator.SimpleStrategy", "replication_factor": "1"
    }
    tables = {r["table_name"] for r in cassandra.execute(
        "SELECT table_name FROM system_schema.tables WHERE keyspace_name = %s", [fresh_keyspace])}
    assert tables == {"predictions_by_bucket", "original_chunks", "months_by_scope", "buckets_by_month",
                      "ids_by_filter", "prediction_counter", "idempotency_keys", "counted_predictions",
                      "stats_recount", "stats_recount_held", "drift_by_day", "drift_days_by_version",
                      "review_queue", "review_hours", "review_leases", "review_pass"}


def test_filters_by_digit_and_source_page_across_days(cassandra):
    made = [
        record(created=START + i * 7200, digit=i % 3, source=("draw", "upload")[i % 2]) for i in range(18)
    ]

    def pages(**filters):
        seen, before = [], None
        while page := prediction_list(before=before, limit=2, filters=Filters(**filters)):
            seen.extend(row.id for row in page)
            before = page[-1].id
        return seen

    def expected(keep):
        return [p.id for p in reversed(made) if keep(p)]

    assert pages(digit=1) == expected(lambda p: p.digit == 1)
    assert pages(source="draw") == expected(lambda p: p.source == "draw")
    assert pages(digit=2, source="upload") == expected(lambda p: p.digit == 2 and p.source == "upload")
    assert pages(digit=7) == []
