"""A picture's original is never lost to a digit that waits in an outbox: a delete of a stored digit
keeps it while a sibling is not yet stored, in whatever order outboxes (one per web host) replay the
digits and the delete, and the picture's last delete still takes it along."""

import uuid
from dataclasses import replace

import pytest
from cassandra.cluster import NoHostAvailable

from recognizer.models import OriginalChunk
from recognizer.recognition import ImageUpload
from recognizer.selectors import prediction_get, prediction_image_get
from recognizer.services import prediction_delete, predictions_create
from recognizer.storage import cql, outbox, writes

pytestmark = pytest.mark.usefixtures("cassandra")


def unavailable(*args, **options):
    raise NoHostAvailable("Unable to connect to any servers", {})


def create_with_later_digits_refused(png: bytes, monkeypatch) -> list:
    """The picture's digits, of which Cassandra took the first and none after it (they are spooled)."""
    real = writes.store

    def store(prediction, original):
        if prediction.position:
            unavailable()
        real(prediction, original)

    with monkeypatch.context() as patch:
        patch.setattr(writes, "store", store)
        [picture] = predictions_create(uploads=[ImageUpload(png)], source="api")
    assert [digit.pending for digit in picture] == [False, True]
    return picture


def original_partition(session, picture_id: uuid.UUID) -> list:
    """Everything stored under the picture's id in the originals' table."""
    return list(session.execute(f"SELECT * FROM {OriginalChunk.column_family_name()} WHERE id = %s", [picture_id]))


def assert_served_then_gone_with_the_last(session, digits, png: bytes) -> None:
    """Every digit still there serves the original; deleting them all takes it along."""
    for digit in digits:
        assert prediction_image_get(prediction_id=digit.id).data == png
    for digit in digits:
        prediction_delete(prediction=prediction_get(prediction_id=digit.id))
    assert original_partition(session, digits[0].picture) == []


def test_deleting_the_stored_first_digit_keeps_the_original_for_a_digit_in_the_outbox(
        number_png, cassandra, monkeypatch):
    png = number_png([[1, 3]])
    picture = create_with_later_digits_refused(png, monkeypatch)
    prediction_delete(prediction=picture[0])

    assert outbox.drain() == 1
    assert_served_then_gone_with_the_last(cassandra, picture[1:], png)

    late = replace(picture[0], deleted=True, version=1)  # its delete's follow-up, replayed late (outbox, repair)
    writes.follow(*writes.deletion_followers(late), late.bucket)
    assert original_partition(cassandra, picture[0].id) == []


@pytest.mark.parametrize("first", ["digit", "delete"])
def test_a_spooled_delete_keeps_the_original_whichever_host_replays_first(
        number_png, cassandra, settings, tmp_path, monkeypatch, first):
    png = number_png([[1, 3]])
    spools = {"digit": tmp_path / "host-a", "delete": tmp_path / "host-b"}
    settings.NUMBERFIGURE_OUTBOX_DIR = spools["digit"]
    picture = create_with_later_digits_refused(png, monkeypatch)
    settings.NUMBERFIGURE_OUTBOX_DIR = spools["delete"]
    with monkeypatch.context() as patch:  # the delete is decided; Cassandra refuses what follows it
        patch.setattr(cql, "run_concurrently", unavailable)
        prediction_delete(prediction=picture[0])
    assert outbox.measure().items == 1

    for host in (first, *({"digit", "delete"} - {first})):
        settings.NUMBERFIGURE_OUTBOX_DIR = spools[host]
        assert outbox.drain() == 1
    assert prediction_get(prediction_id=picture[0].id) is None
    assert_served_then_gone_with_the_last(cassandra, picture[1:], png)


def test_the_original_arrives_with_its_digit_replayed_after_a_sibling_was_deleted(
        number_png, cassandra, monkeypatch):
    png = number_png([[1, 3, 11]])
    with monkeypatch.context() as patch:
        patch.setattr(cql, "run_batch", unavailable)
        [picture] = predictions_create(uploads=[ImageUpload(png)], source="api")
    assert outbox.measure().items == 3  # the original in the first digit's file only

    assert outbox.drain(limit=2) == 2  # a spool replays its oldest first: the picture's later digits
    assert prediction_get(prediction_id=picture[0].id) is None
    for digit in picture[1:]:
        prediction_delete(prediction=prediction_get(prediction_id=digit.id))
    assert outbox.drain() == 1
    assert_served_then_gone_with_the_last(cassandra, picture[:1], png)
