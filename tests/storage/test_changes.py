"""Corrections and deletes applied exactly once, whatever happens to their answers: a transaction's
answer lost or duplicated, its follow-up writes failing, a server whose clock is ahead."""

import re
import time

import pytest
from cassandra import OperationTimedOut
from cassandra.cluster import NoHostAvailable
from cassandra.protocol import ErrorMessage
from django.conf import settings
from helpers import stored_peaked

from recognizer import health
from recognizer.models import OriginalChunk, Prediction
from recognizer.selectors import Filters, prediction_get, prediction_image_get, prediction_list
from recognizer.services import prediction_correct, prediction_delete
from recognizer.storage import cql, ids, outbox, recount


def store(n: int = 3, **overrides):
    return stored_peaked(n % 10, **{"source": ("draw", "api")[n % 2], "image": b"original", **overrides})


@pytest.fixture
def transactions(monkeypatch):
    """``transactions(answer)``: each lightweight transaction is applied by Cassandra, and the app is
    then given ``answer(statement, real_run)`` instead of the result (a lost or duplicated answer)."""
    real = cql.run

    def install(answer):
        def run(statement):
            result = real(statement)
            return answer(statement, real) if " IF " in statement.prepared_statement.query_string else result

        monkeypatch.setattr(cql, "run", run)

    return install


def lost(statement, run):
    raise OperationTimedOut("the answer never came")


def unknown(statement, run):
    """Cassandra: the proposal reached too few replicas to know (CAS_WRITE_UNKNOWN)."""
    raise ErrorMessage(code=cql.CAS_WRITE_UNKNOWN, message="CAS operation result is unknown", info=None)


def duplicated(statement, run):
    """A second copy of the transaction (a speculative send) answers first: "not applied"."""
    return run(statement)


@pytest.mark.parametrize("answer", [lost, unknown, duplicated], ids=["answer lost", "unknown", "answer duplicated"])
def test_a_correction_whose_answer_is_lost_or_duplicated_is_still_its_own_win(
        cassandra, store_matches_rows, transactions, answer):
    made = [store(n) for n in range(4)]
    transactions(answer)

    corrected = prediction_correct(prediction=made[0], label=9, user="alice")
    prediction_correct(prediction=made[1], label=made[1].digit, user="alice")

    assert (corrected.corrected_label, corrected.version) == (9, 1)  # applied once, not twice
    stored = prediction_get(prediction_id=made[0].id)
    assert (stored.corrected_label, stored.version) == (9, 1)
    assert [p.id for p in prediction_list(filters=Filters(label=9))] == [made[0].id]
    assert [p.id for p in prediction_list(filters=Filters(labelled=True))] == [made[1].id, made[0].id]
    store_matches_rows()


def test_a_serial_read_back_that_cannot_complete_the_proposal_yet_is_read_again(
        cassandra, store_matches_rows, monkeypatch):
    """The read after an unknown outcome completes the proposal in flight and may itself reach too few
    replicas (CAS_WRITE_UNKNOWN, seen on three nodes with one paused): it is read again, not a 500."""
    made = store(1)
    real, refused = cql.run, []

    def run(statement):
        if " IF " in statement.prepared_statement.query_string:
            real(statement)  # applied, but the answer cannot say so
            unknown(statement, real)
        if statement.consistency_level == settings.CASSANDRA_SERIAL_CONSISTENCY and not refused:
            refused.append(statement)
            unknown(statement, real)
        return real(statement)

    monkeypatch.setattr(cql, "run", run)
    corrected = prediction_correct(prediction=made, label=4, user="alice")

    assert refused and (corrected.corrected_label, corrected.version) == (4, 1)
    assert prediction_get(prediction_id=made.id).corrected_label == 4
    store_matches_rows()


@pytest.mark.parametrize("answer", [lost, duplicated], ids=["answer lost", "answer duplicated"])
def test_a_delete_whose_answer_is_lost_or_duplicated_removes_everything_once(
        cassandra, store_matches_rows, transactions, answer):
    made = [store(n) for n in range(3)]
    prediction_correct(prediction=made[0], label=1, user="alice")
    transactions(answer)

    prediction_delete(prediction=prediction_get(prediction_id=made[0].id))

    assert prediction_get(prediction_id=made[0].id) is None
    assert prediction_image_get(prediction_id=made[0].id) is None
    assert not list(cassandra.execute(f"SELECT * FROM {OriginalChunk.column_family_name()} WHERE id = %s",
                                      [made[0].id]))
    rows = store_matches_rows()
    assert {row.id for row in rows} == {made[1].id, made[2].id}


def test_follow_up_writes_cassandra_cannot_take_wait_in_the_outbox(cassandra, store_matches_rows, monkeypatch):
    made = [store(n) for n in range(3)]
    with monkeypatch.context() as patch:
        def refuse(statements, **options):
            raise NoHostAvailable("Unable to connect to any servers", {})

        patch.setattr(cql, "run_concurrently", refuse)
        prediction_correct(prediction=made[0], label=7, user="alice")
        prediction_delete(prediction=made[1])
        assert outbox.measure().items == 2
        # The changes are decided: the row reads corrected, the deleted one is gone.
        assert prediction_get(prediction_id=made[0].id).corrected_label == 7
        assert prediction_get(prediction_id=made[1].id) is None

    assert outbox.drain() == 2
    assert [p.id for p in prediction_list(filters=Filters(label=7))] == [made[0].id]
    rows = store_matches_rows()
    assert {row.id for row in rows} == {made[0].id, made[2].id}


def test_a_server_whose_clock_is_5_minutes_ahead_can_have_its_predictions_deleted(
        cassandra, store_matches_rows, monkeypatch, tmp_path):
    monkeypatch.setattr(ids, "clock", lambda: time.time() + 300)
    ahead = [store(n) for n in range(3)]
    monkeypatch.setattr(ids, "clock", time.time)  # the delete runs on a server with the right time

    prediction_delete(prediction=ahead[0])

    assert prediction_get(prediction_id=ahead[0].id) is None
    assert not list(cassandra.execute(f"SELECT id FROM {Prediction.column_family_name()} WHERE bucket = %s AND "
                                      "shard = %s AND id = %s", [ahead[0].bucket, ahead[0].shard, ahead[0].id]))
    assert ahead[0].id not in [p.id for p in prediction_list()]
    recount.recount(checkpoint=tmp_path / "recount")
    assert {row.id for row in store_matches_rows()} == {ahead[1].id, ahead[2].id}


def test_deleting_twice_takes_from_the_stats_once(cassandra, store_matches_rows):
    made = [store(n) for n in range(2)]
    prediction_delete(prediction=made[0])
    prediction_delete(prediction=made[0])  # a stale copy, as a second click or a retry would send
    assert len(store_matches_rows()) == 1


def test_a_server_clock_off_from_cassandras_is_reported_degraded_with_the_skew(cassandra, client, settings,
                                                                             monkeypatch, admin_client):
    settings.NUMBERFIGURE_METRICS_ALLOWED_IPS = ["127.0.0.1"]
    health.forget()
    assert client.get("/healthz").json()["status"] == "ok"

    monkeypatch.setattr(ids, "clock", lambda: time.time() + 300)
    health.forget()
    assert client.get("/healthz").json()["status"] == "degraded"
    skew = admin_client.get("/healthz").json()["cassandra"]["clock_skew_seconds"]
    assert -301 < skew < -299  # Cassandra is 5 minutes behind this server
    metrics = client.get("/metrics").content.decode()
    assert re.search(r"^numberfigure_cassandra_clock_skew_seconds -(299|300)\.", metrics, re.MULTILINE), metrics
    health.forget()
