"""A picture of several digits accepted while Cassandra cannot take writes: every digit waits in the
outbox, and the replay stores each digit's row under its id, the number reads back whole, counted once."""

import base64
import io
import json
import uuid

import pytest
from cassandra.cluster import NoHostAvailable

from recognizer.selectors import prediction_stats
from recognizer.storage import cql, outbox, stats

pytestmark = pytest.mark.usefixtures("cassandra")


def refuse(statements, **options):
    raise NoHostAvailable("Unable to connect to any servers", {})


def post(client, png):
    return client.post("/api/predict", {"image": io.BytesIO(png)}, format="multipart")


def assert_stored_whole(client, body: dict, png: bytes) -> None:
    for position, entry in enumerate(body["digits"]):
        read = client.get(f"/api/predictions/{entry['id']}")
        assert read.status_code == 200, read.content
        read = read.json()
        assert (read["number"], read["position"], read["picture_id"]) == ("2026", position, body["id"])
        assert [digit["id"] for digit in read["digits"]] == [digit["id"] for digit in body["digits"]]
        assert client.get(read["image_url"]).content == png
    stats.flush()
    figures = prediction_stats()
    assert figures.total == 4 and (figures.by_digit[2], figures.by_digit[0], figures.by_digit[6]) == (2, 1, 1)


def test_a_number_cassandra_cannot_take_is_answered_whole_and_replayed_digit_by_digit(
        client, twenty_26, settings, monkeypatch):
    settings.NUMBERFIGURE_HISTORY_PUBLIC = True
    with monkeypatch.context() as patch:
        patch.setattr(cql, "run_batch", refuse)
        answer = post(client, twenty_26)
        assert answer.status_code == 202, answer.content
        body = answer.json()
        assert (body["stored"], body["number"], len(body["digits"])) == ("pending", "2026", 4)
        assert outbox.measure().items == 4  # one file a digit, the original in the first only
        spooled = [json.loads(path.read_text()) for path in sorted(outbox.folder().glob("*.json"))]
        assert sorted(len(record["original"]) for record in spooled) == [0, 0, 0, len(base64.b64encode(twenty_26))]
        assert client.get(f"/api/predictions/{body['id']}").status_code == 404

    assert outbox.drain() == 4
    assert outbox.measure().items == 0
    assert_stored_whole(client, body, twenty_26)
    assert outbox.drain() == 0


def test_a_number_written_before_its_timeout_is_replayed_without_a_duplicate(
        client, twenty_26, settings, cassandra, writes_applied_then_timed_out):
    settings.NUMBERFIGURE_HISTORY_PUBLIC = True
    with writes_applied_then_timed_out():
        body = post(client, twenty_26).json()
    assert body["stored"] == "pending"
    assert outbox.drain() == 4
    assert_stored_whole(client, body, twenty_26)  # counted once: by the replay
    listed = client.get("/api/predictions", {"limit": 10}).json()["results"]
    assert [uuid.UUID(row["id"]) for row in listed] == [uuid.UUID(entry["id"]) for entry in body["digits"]]
