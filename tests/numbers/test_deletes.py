"""A picture's original is stored once for all its digits: deleting one digit keeps it for the others,
the last digit takes it along, and the repair pass does not take it for an orphan meanwhile."""

import datetime as dt
import threading
import uuid

import pytest

from recognizer.models import OriginalChunk
from recognizer.recognition import ImageUpload
from recognizer.selectors import prediction_get, prediction_image_get
from recognizer.services import new_prediction_ids, prediction_delete, prediction_store, predictions_create
from recognizer.storage import cql, ids, repair, writes

pytestmark = pytest.mark.usefixtures("cassandra")


@pytest.fixture
def staff_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("staff", password="pw-staff-123-long", is_staff=True))
    return client


def chunks(session, picture_id: uuid.UUID) -> int:
    return len(list(session.execute(f"SELECT chunk FROM {OriginalChunk.column_family_name()} WHERE id = %s",
                                    [picture_id])))


def test_deleting_digits_keeps_the_original_until_the_last_goes(staff_client, number_png, cassandra):
    png = number_png([[1, 3, 11]])  # three MNIST test digits side by side
    body = staff_client.post("/api/predict", png, content_type="image/png").json()
    picture, digits = uuid.UUID(body["id"]), [uuid.UUID(entry["id"]) for entry in body["digits"]]
    assert len(digits) == 3 and chunks(cassandra, picture) == 1

    for gone, digit_id in enumerate(digits[:-1], start=1):  # the first (the picture's own id) goes first
        assert staff_client.delete(f"/api/predictions/{digit_id}").status_code == 204
        assert prediction_get(prediction_id=digit_id) is None
        for left in digits[gone:]:
            assert prediction_image_get(prediction_id=left).data == png
            assert staff_client.get(f"/api/predictions/{left}/image").content == png
    assert chunks(cassandra, picture) == 1

    assert staff_client.delete(f"/api/predictions/{digits[-1]}").status_code == 204
    assert chunks(cassandra, picture) == 0


def test_deleting_a_later_digit_first_keeps_the_original_too(number_png, cassandra):
    [picture] = predictions_create(uploads=[ImageUpload(number_png([[1, 3]]))], source="api")
    prediction_delete(prediction=picture[1])
    assert prediction_image_get(prediction_id=picture[0].id) is not None
    prediction_delete(prediction=picture[0])
    assert chunks(cassandra, picture[0].id) == 0


def test_repair_keeps_an_original_whose_first_digit_is_gone_but_not_its_last(number_png, cassandra, tmp_path,
                                                                               monkeypatch):
    [picture] = predictions_create(uploads=[ImageUpload(number_png([[1, 3]]))], source="api")
    prediction_delete(prediction=picture[0])

    repair.repair(checkpoint=tmp_path / "checkpoint", orphan_age=dt.timedelta(0))
    assert prediction_image_get(prediction_id=picture[1].id) is not None

    with monkeypatch.context() as patch:  # as if the last delete's removal of the original had been lost
        patch.setattr(writes, "original_removals", lambda deleted: [])
        prediction_delete(prediction=picture[1])
    assert chunks(cassandra, picture[0].id) == 1
    assert repair.repair(checkpoint=tmp_path / "checkpoint", orphan_age=dt.timedelta(0))["orphan originals"] == 1
    assert chunks(cassandra, picture[0].id) == 0


def test_the_last_two_digits_deleted_at_once_take_the_original_along(cassandra, monkeypatch):
    picture_id = new_prediction_ids(1)[0]
    digits = [prediction_store(
        source="api", filename=None, content_type="image/png", image=b"picture", input_png=b"p",
        probabilities=[0.1] * 10, model_version="v", latency_ms=1.0,
        prediction_id=ids.digit_id(picture_id, position) if position else picture_id,
        picture={"picture_id": picture_id, "position": position, "digit_count": 2, "box": [0, 0, 1, 1]},
    ) for position in range(2)]
    real_run, both_marked = cql.run, threading.Barrier(2, timeout=30)

    def run(statement):  # the closest interleaving: each delete has marked its digit before either reads
        rows = real_run(statement)
        if "deleted_digits +" in statement.prepared_statement.query_string:
            both_marked.wait()
        return rows

    monkeypatch.setattr(cql, "run", run)
    threads = [threading.Thread(target=prediction_delete, kwargs={"prediction": digit}) for digit in digits]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert [prediction_get(prediction_id=digit.id) for digit in digits] == [None, None]
    assert chunks(cassandra, picture_id) == 0
