"""The scaled-out layout on the real node: writes spread over partitions, pages merged across
shards and buckets in both directions, with filters, corrections and deletions."""

import datetime as dt
import random

import pytest
from cassandra.util import uuid_from_time
from helpers import stored_peaked

from recognizer.models import FilterEntry, Prediction
from recognizer.selectors import Filters, prediction_get, prediction_list
from recognizer.services import prediction_correct, prediction_delete
from recognizer.storage import cql, ids

START = dt.datetime(2026, 7, 1, 21, 0, tzinfo=dt.UTC).timestamp()


def store(created: float | None, digit: int, source: str = "api"):
    return stored_peaked(digit, source=source, created=created)


def partitions_of_rows(session, keyspace) -> set:
    rows = session.execute(f"SELECT DISTINCT bucket, shard FROM {keyspace}.{Prediction.__table_name__}")
    return {(row["bucket"], row["shard"]) for row in rows}


def test_a_burst_of_predictions_posted_to_the_api_lands_in_many_partitions(cassandra, cassandra_keyspace, client,
                                                                            digit_png):
    png, _ = digit_png(0, size=56)
    for _ in range(300):
        assert client.post("/api/predict", png, content_type="image/png").status_code == 201
    assert len(partitions_of_rows(cassandra, cassandra_keyspace)) >= 8


def test_a_prediction_is_read_by_id_with_one_partition_key_lookup(cassandra, monkeypatch):
    made = [store(START + n * 700, digit=n % 10) for n in range(20)]
    sent = []
    real_run = cql.run
    monkeypatch.setattr(cql, "run", lambda statement: sent.append(statement) or real_run(statement))
    for prediction in made:
        assert prediction_get(prediction_id=prediction.id).id == prediction.id
    assert len(sent) == len(made)
    assert all(s.prepared_statement.query_string.endswith("WHERE bucket = ? AND shard = ? AND id = ?") for s in sent)


def test_cassandra_orders_ids_of_one_instant_as_the_merge_does(cassandra):
    same_time = [uuid_from_time(START, node=random.getrandbits(48), clock_seq=random.getrandbits(14))
                 for _ in range(40)]
    for made in same_time:
        FilterEntry.create(key="order", bucket=dt.datetime(2026, 7, 1), shard=0, id=made)
    stored = [row.id for row in FilterEntry.objects.filter(key="order", bucket=dt.datetime(2026, 7, 1), shard=0)]
    assert stored == sorted(same_time, key=ids.order_key, reverse=True)


@pytest.fixture
def spread(cassandra):
    """150 predictions, one every 3 minutes over 7.5 hours: 45 buckets, two UTC days, 16 shards."""
    rng = random.Random(7)
    return [store(START + n * 180 + rng.random(), digit=n % 4, source=("draw", "api", "upload")[n % 3])
            for n in range(150)]


def walk(filters: Filters, limit: int) -> tuple[list, list]:
    """Every page older-wards from the newest, then newer-wards back from the oldest page."""
    older, before = [], None
    while page := prediction_list(before=before, limit=limit, filters=filters):
        older.append([row.id for row in page])
        before = page[-1].id
    newer, after = [], older[-1][0] if older else None
    while after and (page := prediction_list(after=after, limit=limit, filters=filters)):
        newer.insert(0, [row.id for row in page])
        after = page[0].id
    return older, newer


@pytest.mark.parametrize("filters", [Filters(), Filters(digit=2), Filters(source="draw"),
                                     Filters(digit=1, source="api"), Filters(date_from=dt.date(2026, 7, 2))])
def test_pages_cover_every_matching_row_once_in_order_both_ways(spread, filters):
    def matches(p):
        return ((filters.digit is None or p.digit == filters.digit)
                and (filters.source is None or p.source == filters.source)
                and (filters.date_from is None or p.created_at.date() >= filters.date_from))

    expected = [p.id for p in sorted(spread, key=lambda p: ids.order_key(p.id), reverse=True) if matches(p)]
    assert len({ids.shard_of(i) for i in expected}) > 1 and len({ids.bucket_of(i) for i in expected}) > 1
    older, newer = walk(filters, limit=7)
    assert sum(older, []) == expected
    assert all(len(page) == 7 for page in older[:-1])
    assert sum(newer, []) + older[-1] == expected


def test_corrections_and_deletions_move_rows_between_views_across_shards(spread):
    rng = random.Random(3)
    corrected = rng.sample(spread, 25)
    for prediction in corrected:
        prediction_correct(prediction=prediction, label=9, user="alice")
    deleted = rng.sample([p for p in spread if p not in corrected], 20) + corrected[:5]
    for prediction in deleted:
        prediction_delete(prediction=prediction)
    gone = {p.id for p in deleted}
    newest_first = sorted(spread, key=lambda p: ids.order_key(p.id), reverse=True)

    assert sum(walk(Filters(label=9), limit=6)[0], []) == [p.id for p in newest_first
                                                          if p in corrected and p.id not in gone]
    assert sum(walk(Filters(), limit=11)[0], []) == [p.id for p in newest_first if p.id not in gone]
    assert sum(walk(Filters(digit=3), limit=4)[0], []) == [p.id for p in newest_first
                                                          if p.digit == 3 and p.id not in gone]
    assert all(prediction_get(prediction_id=p.id) is None for p in deleted)
