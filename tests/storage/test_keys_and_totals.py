"""Which indexes a prediction is listed in, and what it adds to the stats totals (no Cassandra)."""

import datetime as dt
from collections import Counter
from types import SimpleNamespace

from recognizer.storage import ids
from recognizer.storage.keys import ALL, LABELLED, filter_key, filter_keys
from recognizer.storage.stats import CONFIDENCE_SCALE, Stat, contribution, difference


def test_a_filter_key_names_its_fields_in_one_order():
    assert filter_key() == ALL
    assert filter_key(source="draw", digit=3) == "digit=3,source=draw"
    assert filter_key(digit=0, label=0, source="") == "digit=0,label=0"


def test_an_uncorrected_prediction_is_listed_under_its_digit_its_source_and_both():
    assert filter_keys(digit=3, label=None, source="draw") == {"digit=3", "source=draw", "digit=3,source=draw"}


def test_a_corrected_prediction_is_also_listed_under_its_label_and_as_labelled():
    keys = filter_keys(digit=3, label=5, source="api")
    assert keys == {"digit=3", "label=5", "source=api", "digit=3,label=5", "digit=3,source=api", "label=5,source=api",
                    "digit=3,label=5,source=api", LABELLED}
    # every combination a history filter can ask for finds it
    for digit in (None, 3):
        for label in (None, 5):
            for source in (None, "api"):
                key = filter_key(digit=digit, label=label, source=source)
                assert key == ALL or key in keys


def prediction(**fields):
    values = dict(digit=7, source="upload", confidence=0.875, corrected_label=None,
                  created_at=dt.datetime(2026, 11, 30, 23, 59, 59), model_version="m1")
    return SimpleNamespace(**{**values, **fields})


def test_a_prediction_counts_once_in_each_family():
    assert contribution(prediction()) == Counter({
        (Stat.TOTAL, ALL): 1, (Stat.DIGIT, "7"): 1, (Stat.SOURCE, "upload"): 1, (Stat.DAY, "2026-11-30"): 1,
        (Stat.CONFIDENCE, ALL): 875_000,
        # its model version's day: counted, in the confidence bin 0.8-0.9, under its digit (not unsure: >= 0.7)
        (Stat.DRIFT, "2026-11-30|m1|count|all"): 1, (Stat.DRIFT, "2026-11-30|m1|confidence|3"): 1,
        (Stat.DRIFT, "2026-11-30|m1|digit|7"): 1,
    })


def test_a_correction_moves_the_labelled_totals_and_the_confusion_cell():
    before, after = contribution(prediction()), contribution(prediction(corrected_label=1))
    assert difference(after, before) == Counter({
        (Stat.LABELLED, ALL): 1, (Stat.CONFUSION, "7,1"): 1,  # wrong: labelled_correct stays
        (Stat.DRIFT, "2026-11-30|m1|labelled|all"): 1,
    })
    confirmed = contribution(prediction(corrected_label=7))
    assert difference(confirmed, after) == Counter({(Stat.LABELLED_CORRECT, ALL): 1, (Stat.CONFUSION, "7,1"): -1,
                                                    (Stat.CONFUSION, "7,7"): 1,
                                                    (Stat.DRIFT, "2026-11-30|m1|labelled_correct|all"): 1})


def test_a_delete_takes_back_exactly_what_the_prediction_added():
    added = contribution(prediction(corrected_label=2, confidence=0.5))
    taken = difference(Counter(), added)
    assert taken == Counter({key: -amount for key, amount in added.items()})
    assert taken[(Stat.CONFIDENCE, ALL)] == -CONFIDENCE_SCALE // 2


def test_ids_name_their_partition_and_are_not_predictable():
    made = [ids.new_prediction_id(timestamp=1_780_000_123.456, shards=16) for _ in range(200)]
    assert {ids.bucket_of(m) for m in made} == {dt.datetime(2026, 5, 28, 20, 20)}
    assert {ids.shard_of(m) for m in made} == set(range(16))
    assert len({m.clock_seq for m in made}) > 150 and len({m.node & (2**40 - 1) for m in made}) == 200
    assert all(m.version == 1 and abs(ids.unix_time(m) - 1_780_000_123.456) < 1e-6 for m in made)
    assert ids.write_time(made[0]) == 1_780_000_123_456_000
