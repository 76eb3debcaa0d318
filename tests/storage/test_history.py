"""Corrections, deletion, two-way paging, date ranges and the counters behind the stats page."""

import datetime as dt

import pytest
from helpers import peaked

from recognizer.selectors import Filters, prediction_get, prediction_iter, prediction_list, prediction_stats
from recognizer.services import prediction_correct, prediction_delete, prediction_store

START = dt.datetime(2026, 5, 10, 20, 0, tzinfo=dt.UTC).timestamp()


def record(i: int, digit: int, source: str = "upload", confidence: float = 0.8):
    probabilities = peaked(digit, confidence, (1 - confidence) / 9)
    return prediction_store(
        source=source, filename=None, content_type="image/png", image=b"img", input_png=b"png",
        probabilities=probabilities, model_version="v", latency_ms=1.0, created=START + i * 3 * 3600,
    )


def ids(rows):
    return [row.id for row in rows]


@pytest.fixture
def made(cassandra):
    """Twelve predictions over four UTC days, digits 0,1,2 repeating, sources alternating."""
    return [record(i, i % 3, ("draw", "upload")[i % 2]) for i in range(12)]


def test_older_and_newer_pages_walk_the_same_rows(made):
    newest_first = ids(reversed(made))
    pages, before = [], None
    while page := prediction_list(before=before, limit=5):
        pages.append(ids(page))
        before = page[-1].id
    assert sum(pages, []) == newest_first
    # From the last page, "newer" pages lead back to the first one, each newest first.
    back, after = [], pages[-1][0]
    while page := prediction_list(after=after, limit=5):
        back.insert(0, ids(page))
        after = page[0].id
    assert sum(back, []) + pages[-1] == newest_first
    assert back[-1] == pages[-2] and back[0][-3:] == pages[0][-3:]


def test_date_range_keeps_whole_days(made):
    day = dt.date(2026, 5, 11)
    rows = prediction_list(limit=50, filters=Filters(date_from=day, date_to=day))
    assert ids(rows) == [p.id for p in reversed(made) if p.created_at.date() == day]
    assert rows


def test_correction_moves_a_prediction_between_label_filters(made):
    target = made[4]  # digit 1, source draw
    prediction_correct(prediction=target, label=7, user="alice")

    stored = prediction_get(prediction_id=target.id)
    assert (stored.corrected_label, stored.corrected_by) == (7, "alice") and stored.corrected_at
    assert ids(prediction_list(filters=Filters(label=7))) == [target.id]
    assert ids(prediction_list(filters=Filters(label=7, digit=1, source="draw"))) == [target.id]
    assert ids(prediction_list(filters=Filters(label=7, source="upload"))) == []
    assert ids(prediction_iter(filters=Filters(labelled=True))) == [target.id]

    prediction_correct(prediction=stored, label=1, user="bob")
    assert prediction_list(filters=Filters(label=7)) == []
    assert ids(prediction_list(filters=Filters(label=1))) == [target.id]

    prediction_correct(prediction=prediction_get(prediction_id=target.id), label=None, user="bob")
    cleared = prediction_get(prediction_id=target.id)
    assert (cleared.corrected_label, cleared.corrected_by, cleared.corrected_at) == (None, None, None)
    assert prediction_list(filters=Filters(label=1)) == []
    assert list(prediction_iter(filters=Filters(labelled=True))) == []


def test_delete_removes_the_prediction_everywhere(made):
    gone = made[3]
    prediction_correct(prediction=gone, label=5, user="alice")
    prediction_delete(prediction=prediction_get(prediction_id=gone.id))
    assert prediction_get(prediction_id=gone.id) is None
    assert gone.id not in ids(prediction_list(limit=50))
    assert gone.id not in ids(prediction_list(limit=50, filters=Filters(digit=gone.digit)))
    assert prediction_list(filters=Filters(label=5)) == []
    assert prediction_stats().total == 11


def test_stats_follow_records_corrections_and_deletes(made):
    today = dt.date(2026, 5, 13)
    prediction_correct(prediction=made[0], label=0, user="a")  # digit 0, confirmed
    prediction_correct(prediction=made[1], label=7, user="a")  # digit 1, wrong
    prediction_correct(prediction=made[1], label=4, user="a")  # re-corrected
    prediction_delete(prediction=made[2])

    stats = prediction_stats(days=5, today=today)
    assert stats.total == 11
    assert stats.by_digit == {0: 4, 1: 4, 2: 3, **{d: 0 for d in range(3, 10)}}
    assert stats.by_source == {"draw": 5, "upload": 6}
    assert sum(stats.by_day.values()) == 11 and list(stats.by_day)[-1] == today
    assert stats.mean_confidence == pytest.approx(0.8)
    assert (stats.labelled, stats.labelled_correct, stats.accuracy) == (2, 1, 0.5)
    assert stats.share_corrected == pytest.approx(2 / 11)
    assert stats.confusion[0][0] == 1 and stats.confusion[4][1] == 1 and stats.confusion[7][1] == 0
    assert sum(map(sum, stats.confusion)) == 2


def test_index_entries_without_a_row_do_not_cut_pages_short(made, cassandra):
    """A write that failed after the index entries but before the row leaves entries behind."""
    from cassandra.util import uuid_from_time

    from recognizer.models import FilterEntry
    from recognizer.storage.ids import partition_of

    last = made[-1]
    for n in range(6):  # dangling entries newer than everything, in the newest row's partition
        ghost = uuid_from_time(last.created_at.replace(tzinfo=dt.UTC).timestamp() + 1 + n, node=last.shard << 40)
        assert partition_of(ghost) == (last.bucket, last.shard)
        FilterEntry.create(key="source=upload", bucket=last.bucket, shard=last.shard, id=ghost)
    expected = [p.id for p in reversed(made) if p.source == "upload"]
    pages, before = [], None
    while page := prediction_list(before=before, limit=2, filters=Filters(source="upload")):
        pages.append(ids(page))
        before = page[-1].id
    assert sum(pages, []) == expected
    assert all(len(page) == 2 for page in pages[:-1])
