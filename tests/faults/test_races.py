"""8 threads racing corrections and deletions on the same predictions: no zombie rows, and the
indexes and the stats end up matching the rows exactly."""

import random
import threading
from collections import Counter, defaultdict

from recognizer.errors import PredictionChanged, PredictionNotFound
from recognizer.models import FilterEntry, Prediction
from recognizer.selectors import prediction_get, prediction_stats
from recognizer.services import prediction_correct, prediction_delete, prediction_store
from recognizer.storage import stats, writes
from recognizer.storage.records import from_rows


def test_racing_changes_leave_rows_indexes_and_stats_consistent(cassandra, cassandra_keyspace):
    made = [prediction_store(source=("draw", "api")[n % 2], filename=None, content_type="image/png", image=b"i",
                             input_png=b"p", probabilities=[0.1] * n + [0.55] + [0.05] * (9 - n),
                             model_version="v", latency_ms=1.0) for n in range(10)]
    outcomes, start = Counter(), threading.Barrier(8)

    def race(seed: int) -> None:
        rng = random.Random(seed)
        start.wait()
        for _ in range(25):
            current = prediction_get(prediction_id=rng.choice(made).id)
            if current is None:
                outcomes["already gone"] += 1
                continue
            try:
                if rng.random() < 0.15:
                    prediction_delete(prediction=current)
                    outcomes["deleted"] += 1
                else:
                    prediction_correct(prediction=current, label=rng.choice([None, 1, 2, 3]), user=f"t{seed}")
                    outcomes["corrected"] += 1
            except (PredictionNotFound, PredictionChanged) as refused:
                outcomes[type(refused).__name__] += 1

    threads = [threading.Thread(target=race, args=(seed,)) for seed in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert sum(outcomes.values()) == 200 and outcomes["corrected"] > 50, outcomes

    rows = from_rows(list(cassandra.execute(f"SELECT * FROM {Prediction.column_family_name()}")))
    assert all(row.digit is not None and row.source and row.input_png for row in rows)  # no partial rows
    assert {row.id for row in rows} < {p.id for p in made}

    listed = defaultdict(set)
    for entry in cassandra.execute(f"SELECT key, id FROM {FilterEntry.column_family_name()}"):
        listed[entry["key"]].add(entry["id"])
    expected = defaultdict(set)
    for row in rows:
        for key in writes.keys_of(row):
            expected[key].add(row.id)
    assert dict(listed) == dict(expected)

    stats.flush()
    figures = prediction_stats()
    assert figures.total == len(rows)
    assert figures.by_digit == {d: sum(row.digit == d for row in rows) for d in range(10)}
    assert figures.labelled == sum(row.corrected_label is not None for row in rows)
    assert figures.labelled_correct == sum(row.corrected_label == row.digit for row in rows)
    assert sum(map(sum, figures.confusion)) == figures.labelled
