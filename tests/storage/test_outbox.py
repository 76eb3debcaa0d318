"""The outbox: when Cassandra cannot take a prediction, the person still gets it, and it is stored
under the same id, once, when Cassandra answers again."""

import io
import os
import time
import uuid

import pytest
from cassandra.cluster import NoHostAvailable
from django.core.management import call_command

from recognizer import health
from recognizer.models import Prediction
from recognizer.selectors import prediction_get, prediction_stats
from recognizer.storage import cql, outbox, stats

real_ensure_drainer = outbox.ensure_drainer


@pytest.fixture
def spool(cassandra, settings):
    """The test's own outbox folder (tests/conftest.py), drained by hand unless a test says so."""
    health.forget()
    yield settings.NUMBERFIGURE_OUTBOX_DIR
    health.forget()


def down(monkeypatch, error=None):
    def refuse(statements):
        raise error or NoHostAvailable("Unable to connect to any servers", {})

    monkeypatch.setattr(cql, "run_batch", refuse)


def rows(session) -> int:
    return session.execute(f"SELECT COUNT(*) FROM {Prediction.column_family_name()}").one()["count"]


def post(client, png):
    return client.post("/api/predict", {"image": io.BytesIO(png)}, format="multipart")


def test_a_prediction_cassandra_cannot_take_is_answered_202_and_stored_later_under_its_id(
        client, digit_png, spool, cassandra, monkeypatch):
    png, label = digit_png(0)
    with monkeypatch.context() as patch:
        down(patch)
        answer = post(client, png)
        assert answer.status_code == 202, answer.content
        body = answer.json()
        assert (body["stored"], body["digit"]) == ("pending", label)
        assert len(list(spool.glob("*.json"))) == 1
        assert client.get(f"/api/predictions/{body['id']}").status_code == 404
        assert client.get("/healthz").json()["status"] == "degraded"

    assert outbox.drain() == 1
    stored = prediction_get(prediction_id=uuid.UUID(body["id"]))
    assert (stored.digit, stored.source, stored.image_size) == (label, "api", len(png))
    assert client.get(body["image_url"]).content == png
    assert list(spool.glob("*.json")) == []
    stats.flush()
    assert prediction_stats().total == 1


def test_a_write_applied_before_its_timeout_is_replayed_without_a_duplicate(client, digit_png, spool, cassandra,
                                                                               writes_applied_then_timed_out):
    with writes_applied_then_timed_out():
        assert post(client, digit_png(1)[0]).status_code == 202
    assert outbox.drain() == 1
    assert rows(cassandra) == 1
    stats.flush()
    assert prediction_stats().total == 1  # counted once: by the replay


def test_replays_go_oldest_first_and_the_background_thread_drains_by_itself(client, digit_png, spool, cassandra,
                                                                             monkeypatch):
    ids = []
    with monkeypatch.context() as patch:
        down(patch)
        for index in (2, 3, 4):
            ids.append(post(client, digit_png(index)[0]).json()["id"])
            time.sleep(0.01)
    assert outbox.drain(limit=1) == 1
    assert prediction_get(prediction_id=uuid.UUID(ids[0])) is not None
    assert prediction_get(prediction_id=uuid.UUID(ids[1])) is None

    monkeypatch.setattr(outbox, "RETRY_SECONDS", 0.1)
    monkeypatch.setattr(outbox, "ensure_drainer", real_ensure_drainer)
    outbox.ensure_drainer()
    deadline = time.monotonic() + 10
    while outbox.measure().items and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(prediction_get(prediction_id=uuid.UUID(i)) for i in ids)


def test_a_full_outbox_is_a_clear_503_and_keeps_nothing_more(client, digit_png, spool, settings, monkeypatch):
    settings.NUMBERFIGURE_OUTBOX_MAX_ITEMS = 1
    down(monkeypatch)
    assert post(client, digit_png(5)[0]).status_code == 202
    refused = post(client, digit_png(6)[0])
    assert refused.status_code == 503 and "queue is full" in refused.json()["error"]
    assert len(list(spool.glob("*.json"))) == 1


def test_an_outbox_its_disk_refuses_is_a_clear_503_and_keeps_nothing(client, digit_png, spool, monkeypatch):
    down(monkeypatch)

    def disk_full(descriptor):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(outbox.os, "fsync", disk_full)
    refused = post(client, digit_png(6)[0])
    assert refused.status_code == 503 and "queue cannot be written" in refused.json()["error"]
    assert list(spool.iterdir()) == []


def test_the_upload_page_shows_a_spooled_result_and_drain_outbox_stores_it(client, digit_png, spool, cassandra,
                                                                            monkeypatch):
    png, label = digit_png(7)
    with monkeypatch.context() as patch:
        down(patch)
        page = client.post("/upload", {"images": io.BytesIO(png)})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="pending"' in html and "data:image/png;base64," in html

    out = io.StringIO()
    call_command("drain_outbox", stdout=out, stderr=io.StringIO())
    assert "Stored 1 predictions; 0 still waiting" in out.getvalue()
    assert rows(cassandra) == 1


def test_metrics_give_the_outbox_depth(client, digit_png, spool, monkeypatch, settings):
    settings.NUMBERFIGURE_METRICS_ALLOWED_IPS = ["127.0.0.1"]
    down(monkeypatch)
    post(client, digit_png(8)[0])
    text = client.get("/metrics").content.decode()
    assert "numberfigure_outbox_predictions 1.0" in text
    assert "numberfigure_outbox_oldest_age_seconds" in text


def test_a_poison_file_is_set_aside_and_the_others_replay(client, digit_png, spool, cassandra, monkeypatch,
                                                          settings):
    settings.NUMBERFIGURE_METRICS_ALLOWED_IPS = ["127.0.0.1"]
    with monkeypatch.context() as patch:
        down(patch)
        ids = [post(client, digit_png(index)[0]).json()["id"] for index in (1, 2)]
    poison = spool / f"{1:020d}-{uuid.uuid4()}.json"  # sorts first, as the oldest
    poison.write_bytes(b'{"not": "a prediction"')

    assert outbox.drain() == 2
    assert all(prediction_get(prediction_id=uuid.UUID(i)) for i in ids)
    assert [path.name for path in (spool / "dead").iterdir()] == [poison.name]
    assert "numberfigure_outbox_dead_files 1.0" in client.get("/metrics").content.decode()

    out = io.StringIO()
    call_command("drain_outbox", "--retry-dead", stdout=out, stderr=io.StringIO())
    assert "Put back 1 files" in out.getvalue() and "1 set aside in dead/" in out.getvalue()  # still bad


def test_partial_files_left_by_a_crashed_put_are_removed(spool, cassandra):
    spool.mkdir(parents=True, exist_ok=True)
    stale, fresh = spool / ".a.json.1.1.tmp", spool / ".b.json.2.2.tmp"
    stale.write_bytes(b"{")
    fresh.write_bytes(b"{")  # a put in another process, writing right now
    old = time.time() - 2 * outbox.STALE_PARTIAL_SECONDS
    os.utime(stale, (old, old))
    assert outbox.drain() == 0
    assert not stale.exists() and fresh.exists()
