"""Idempotency-Key on POST /api/predict: a retry gets the first answer, and one row exists."""

import io
import time
import uuid

import pytest
from cassandra.cluster import NoHostAvailable

from recognizer.models import IdempotencyRecord, Prediction
from recognizer.recognition import ImageUpload
from recognizer.selectors import prediction_get, prediction_stats
from recognizer.services import request_claim
from recognizer.storage import claims, cql, outbox, stats, writes

pytestmark = pytest.mark.usefixtures("cassandra")


def rows(session, keyspace) -> int:
    return session.execute(f"SELECT COUNT(*) FROM {keyspace}.{Prediction.__table_name__}").one()["count"]


def post(client, *pngs: bytes, key: str | None = None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post("/api/predict", {"image": [io.BytesIO(png) for png in pngs]}, format="multipart", **headers)


def test_a_repeated_key_returns_the_first_answer_and_stores_once(client, digit_png, cassandra, cassandra_keyspace):
    png, label = digit_png(0)
    key = str(uuid.uuid4())
    first, again = post(client, png, key=key), post(client, png, key=key)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and first.json()["digit"] == label
    assert again["Idempotent-Replayed"] == "true" and not first.has_header("Idempotent-Replayed")
    assert rows(cassandra, cassandra_keyspace) == 1
    assert post(client, png).json()["id"] != first.json()["id"]  # without a key: a new prediction


def test_a_key_reused_for_another_request_is_refused(client, digit_png, cassandra, cassandra_keyspace):
    key = "order-42"
    assert post(client, digit_png(0)[0], key=key).status_code == 201
    refused = post(client, digit_png(1)[0], key=key)

    assert refused.status_code == 422
    assert "different request" in refused.json()["error"]
    assert rows(cassandra, cassandra_keyspace) == 1


def test_several_images_replay_together(client, digit_png, cassandra, cassandra_keyspace):
    pngs = [digit_png(i)[0] for i in (1, 2, 3)]
    first, again = post(client, *pngs, key="batch-1"), post(client, *pngs, key="batch-1")
    assert len(first.json()["results"]) == 3 and again.json() == first.json()
    assert rows(cassandra, cassandra_keyspace) == 3


def test_a_retry_after_a_timed_out_write_that_was_applied_stores_no_duplicate(
        client, digit_png, cassandra, cassandra_keyspace, writes_applied_then_timed_out):
    """Cassandra applied the batch, then the coordinator timed out: the client saw a 202 and retries."""
    png, _ = digit_png(2)
    with writes_applied_then_timed_out():
        failed = post(client, png, key="retry-me")
    assert failed.status_code == 202 and failed.json()["stored"] == "pending"  # kept in the outbox
    assert rows(cassandra, cassandra_keyspace) == 1  # written, though the app could not know

    retried = post(client, png, key="retry-me")
    assert retried.status_code == 202 and retried.json() == failed.json()
    assert outbox.drain() == 1
    assert rows(cassandra, cassandra_keyspace) == 1  # the outbox wrote the same id again
    assert prediction_get(prediction_id=uuid.UUID(retried.json()["id"])) is not None


def test_a_key_held_by_a_running_request_gets_409(client, digit_png, cassandra, cassandra_keyspace):
    png, _ = digit_png(3)
    held = request_claim(client="address:127.0.0.1", key="busy", uploads=[ImageUpload(data=png)], source="api")
    assert isinstance(held, claims.Claim)

    busy = client.post("/api/predict", png, content_type="image/png", HTTP_IDEMPOTENCY_KEY="busy")
    assert busy.status_code == 409 and "still being processed" in busy.json()["error"]
    assert rows(cassandra, cassandra_keyspace) == 0


@pytest.mark.parametrize("key", ["", "x" * 256, "caf\u00e9"])
def test_a_malformed_key_is_a_400(client, digit_png, key, cassandra, cassandra_keyspace):
    response = post(client, digit_png(0)[0], key=key)
    assert response.status_code == 400 and "Idempotency-Key" in response.json()["error"]
    assert rows(cassandra, cassandra_keyspace) == 0


def test_the_schema_documents_the_header(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    parameters = schema["paths"]["/api/predict"]["post"]["parameters"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in parameters)
    assert "409" in schema["paths"]["/api/predict"]["post"]["responses"]


def test_two_clients_may_choose_the_same_key(client, digit_png, cassandra, cassandra_keyspace):
    mine = client.post("/api/predict", digit_png(0)[0], content_type="image/png", HTTP_IDEMPOTENCY_KEY="1",
                       REMOTE_ADDR="192.0.2.1")
    theirs = client.post("/api/predict", digit_png(1)[0], content_type="image/png", HTTP_IDEMPOTENCY_KEY="1",
                         REMOTE_ADDR="192.0.2.2")
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"] and rows(cassandra, cassandra_keyspace) == 2


def test_a_claim_answered_by_a_duplicate_of_itself_still_holds_the_key(client, digit_png, cassandra,
                                                                        cassandra_keyspace, monkeypatch):
    """A second copy of the claim's transaction (a speculative send) answers first: "not applied"."""
    real = cql.run

    def duplicated(statement):
        result = real(statement)
        return real(statement) if "IF NOT EXISTS" in statement.prepared_statement.query_string else result

    monkeypatch.setattr(cql, "run", duplicated)
    answer = post(client, digit_png(4)[0], key="once")
    assert answer.status_code == 201, answer.content
    assert rows(cassandra, cassandra_keyspace) == 1


def test_a_released_key_is_gone_once_its_ttl_has_passed(cassandra, monkeypatch):
    monkeypatch.setattr(claims, "TTL_SECONDS", 2)
    held = claims.claim(client="user:1", key="short", fingerprint="f", new_ids=lambda: [uuid.uuid1()])
    time.sleep(1)
    claims.release(held)  # the take-over and the release write every cell with the TTL again
    time.sleep(2.5)
    assert list(cassandra.execute(f"SELECT * FROM {IdempotencyRecord.column_family_name()}")) == []


def test_a_request_that_stored_some_images_then_failed_is_counted_once_when_retried(
        client, digit_png, cassandra, cassandra_keyspace, monkeypatch, settings):
    pngs = [digit_png(i)[0] for i in (5, 6, 7)]
    real_store, calls = writes.store, []

    def second_fails(prediction, original):
        calls.append(prediction.id)
        if len(calls) == 2:
            raise NoHostAvailable("Unable to connect to any servers", {})
        real_store(prediction, original)

    with monkeypatch.context() as patch:
        patch.setattr(writes, "store", second_fails)
        settings.NUMBERFIGURE_OUTBOX_MAX_ITEMS = 0  # and the outbox is full: the request fails (503)
        assert post(client, *pngs, key="three").status_code == 503
    settings.NUMBERFIGURE_OUTBOX_MAX_ITEMS = 10
    assert rows(cassandra, cassandra_keyspace) == 1 and stats_total() == 1

    retried = post(client, *pngs, key="three")
    assert retried.status_code == 201
    assert [uuid.UUID(result["id"]) for result in retried.json()["results"]][0] == calls[0]  # the same ids
    assert rows(cassandra, cassandra_keyspace) == 3 and stats_total() == 3


def stats_total() -> int:
    stats.flush()
    return prediction_stats().total
