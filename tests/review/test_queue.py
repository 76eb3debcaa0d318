"""The review queue in Cassandra: its order, and its agreement with labels and deletes."""

import io
import time

import pytest
from cassandra.util import min_uuid_from_time
from django.core.management import call_command

from recognizer.ml import mnist
from recognizer.preprocessing import to_png
from recognizer.review.scoring import score_next
from recognizer.review.selectors import review_left
from recognizer.review.services import review_next
from recognizer.selectors import Filters, prediction_get
from recognizer.services import prediction_correct, prediction_delete, prediction_store
from recognizer.storage import review

pytestmark = pytest.mark.django_db


def test_queue_is_in_doubt_order_and_in_every_view(queue, queue_entries, store_matches_rows, doubtful):
    stored = queue(12, source="upload")
    rows = [prediction_get(prediction_id=p.id) for p in stored]
    assert all(row.doubt is not None for row in rows)
    by_doubt = sorted(rows, key=lambda row: -row.doubt)
    handed = review_next(user="ann", filters=Filters(), count=12)
    assert [review.band_of(row.doubt) for row in handed] == [review.band_of(row.doubt) for row in by_doubt]
    within_band = [row.doubt for row in handed if review.band_of(row.doubt) == review.band_of(handed[0].doubt)]
    assert within_band == sorted(within_band, reverse=True)
    assert {p.id for p in handed} == {p.id for p in stored}
    entries = queue_entries()
    assert entries["all"] == entries["source=upload"] == {p.id for p in stored}
    for row in rows:
        assert row.id in entries[f"digit={row.digit}"] and row.id in entries[f"digit={row.digit},source=upload"]
    assert review_left(filters=Filters()) == 12
    assert review_left(filters=Filters(source="draw")) == 0
    store_matches_rows()


def test_label_and_delete_take_a_prediction_out_and_clearing_puts_it_back(queue, queue_entries,
                                                                          store_matches_rows):
    first, second, third = queue(3)
    prediction_correct(prediction=prediction_get(prediction_id=first.id), label=first.digit, user="ann")
    prediction_delete(prediction=prediction_get(prediction_id=second.id))
    assert queue_entries()["all"] == {third.id}
    assert review_left(filters=Filters()) == 1
    prediction_correct(prediction=prediction_get(prediction_id=first.id), label=None, user="ann")
    assert queue_entries()["all"] == {first.id, third.id}
    assert review_left(filters=Filters()) == 2
    store_matches_rows()


def test_a_late_scoring_pass_does_not_requeue_a_labelled_prediction(queue, queue_entries, store_matches_rows):
    first, second = queue(2)
    prediction_correct(prediction=prediction_get(prediction_id=first.id), label=3, user="ann")
    score_next(after=None, settle=0)  # the pass again from its checkpoint: nothing new
    score_next(after=min_uuid_from_time(0), settle=0)  # and from the start: labelled ones are left alone
    assert queue_entries()["all"] == {second.id}
    store_matches_rows()


def test_a_stale_entry_is_skipped_and_removed(queue, queue_entries, cassandra, cassandra_keyspace):
    first, second = queue(2)
    # the row goes without its follow-ups (as when they wait in the outbox)
    cassandra.execute(f"DELETE FROM {cassandra_keyspace}.predictions_by_bucket WHERE bucket = %s AND shard = %s "
                      "AND id = %s", [first.bucket, first.shard, first.id])
    assert [p.id for p in review_next(user="ann", filters=Filters(), count=5)] == [second.id]
    assert queue_entries()["all"] == {second.id}


def test_filters_and_dates_narrow_the_queue(queue):
    drawn, uploaded = queue(3, source="draw"), queue(2, source="upload", start=3)
    assert {p.id for p in review_next(user="ann", filters=Filters(source="upload"), count=10)} == {
        p.id for p in uploaded}
    digit = drawn[0].digit
    assert all(p.digit == digit for p in review_next(user="bob", filters=Filters(digit=digit), count=10))
    day = drawn[0].created_at.date()
    assert review_next(user="cy", filters=Filters(date_to=day.replace(year=day.year - 1)), count=10) == []
    assert len(review_next(user="dee", filters=Filters(date_from=day, date_to=day), count=10)) >= 1


def test_score_predictions_scores_what_is_stored_and_goes_back_with_since(doubtful, cassandra):
    image, _, probabilities, expected = doubtful[0]
    png = to_png(mnist.to_unit(image))
    stored = prediction_store(source="api", filename=None, content_type="image/png", image=png, input_png=png,
                              probabilities=probabilities, model_version="test", latency_ms=1.0,
                              created=time.time() - 60)
    out = io.StringIO()
    call_command("score_predictions", stdout=out)
    assert "Read 1 predictions" in out.getvalue()
    assert prediction_get(prediction_id=stored.id).doubt == pytest.approx(expected, abs=1e-3)
    call_command("score_predictions", stdout=out)
    assert "Read 0 predictions" in out.getvalue()
    call_command("score_predictions", "--since", stored.created_at.date().isoformat(), stdout=out)
    assert out.getvalue().count("Read 1 predictions") == 2
