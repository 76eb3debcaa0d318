"""8 threads racing corrections and deletions on the same predictions: no zombie rows, and the
indexes and the stats end up matching the rows exactly."""

import random
import threading
from collections import Counter

from recognizer.errors import PredictionChanged, PredictionNotFound
from recognizer.selectors import prediction_get
from recognizer.services import prediction_correct, prediction_delete, prediction_store


def test_racing_changes_leave_rows_indexes_and_stats_consistent(cassandra, store_matches_rows):
    made = [prediction_store(source=("draw", "api")[n % 2], filename=None, content_type="image/png", image=b"i",
                             input_png=b"p", probabilities=[0.1] * (n % 10) + [0.55] + [0.05] * (9 - n % 10),
                             model_version="v", latency_ms=1.0) for n in range(30)]
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
                if rng.random() < 0.05:
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

    rows = store_matches_rows()
    assert {row.id for row in rows} < {p.id for p in made}
