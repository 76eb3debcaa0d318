"""manage.py recount_stats: counters that drifted are rebuilt from the rows, resumably."""

import io
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from django.core.management import call_command
from helpers import stored_peaked

from recognizer.selectors import prediction_stats
from recognizer.services import prediction_correct
from recognizer.storage import recount, stats
from recognizer.storage.keys import ALL
from recognizer.storage.stats import Stat

ROOT = Path(__file__).resolve().parents[2]


def store(n: int):
    return stored_peaked(n % 10, source=("draw", "api")[n % 2], created=1_790_000_000 + n * 97)


def figures():
    stats.flush()
    found = prediction_stats()
    return (found.total, found.by_digit, found.by_source, found.labelled, found.labelled_correct, found.confusion,
            round(found.mean_confidence, 6))


def test_drifted_counters_are_rebuilt_from_the_rows(cassandra, tmp_path, monkeypatch):
    made = [store(n) for n in range(23)]
    prediction_correct(prediction=made[3], label=4, user="a")
    prediction_correct(prediction=made[5], label=5, user="a")
    exact = figures()
    # Drift: a killed worker's unwritten changes, a timed-out counter batch dropped.
    stats.add(Counter({(Stat.TOTAL, ALL): -2, (Stat.DIGIT, "3"): -1, (Stat.LABELLED, ALL): 1,
                       (Stat.CONFUSION, "9,9"): 3}))
    assert figures() != exact

    monkeypatch.setattr(recount, "PAGE", 5)
    assert recount.recount(checkpoint=tmp_path / "checkpoint", pages=2) is None  # interrupted
    assert (tmp_path / "checkpoint").exists()
    store(99)  # stored while it runs: counted too
    out = io.StringIO()
    call_command("recount_stats", checkpoint=tmp_path / "checkpoint", stdout=out, stderr=io.StringIO())

    assert "total:all': 2" in out.getvalue()
    assert not (tmp_path / "checkpoint").exists()
    total, by_digit, _, labelled, labelled_correct, confusion, _ = figures()
    assert (total, labelled, labelled_correct) == (24, 2, 1)
    assert by_digit == {d: 3 if d < 3 else 2 for d in range(10)} | {9: 3}  # 0..22, then 99
    assert confusion[9][9] == 0 and confusion[4][3] == 1 and confusion[5][5] == 1
    again = io.StringIO()
    call_command("recount_stats", checkpoint=tmp_path / "checkpoint", stdout=again, stderr=io.StringIO())
    assert "counters moved: none" in again.getvalue()


STREAM = """
import django, sys, time
from pathlib import Path
django.setup()
from recognizer.services import prediction_store
stop, n = Path(sys.argv[1]), 0
while not stop.exists():
    probabilities = [0.02] * 10
    probabilities[n % 10] = 0.82
    prediction_store(source="api", filename=None, content_type="image/png", image=b"i", input_png=b"p",
                     probabilities=probabilities, model_version="v", latency_ms=1.0)
    n += 1
    time.sleep(0.01)
print(n)
"""


def test_recount_under_a_steady_stream_of_predictions_from_another_process_ends_equal_to_the_rows(
        cassandra, cassandra_keyspace, store_matches_rows, tmp_path, monkeypatch):
    """The other process counts what it stores about a second later, as a web worker does."""
    made = [store(n) for n in range(30)]
    prediction_correct(prediction=made[3], label=4, user="a")
    stats.add(Counter({(Stat.TOTAL, ALL): 5, (Stat.DIGIT, "7"): -1}))  # drift
    stats.flush()
    stop = tmp_path / "stop"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "numberfigure.settings.test",
           "CASSANDRA_KEYSPACE": cassandra_keyspace}
    stream = subprocess.Popen([sys.executable, "-c", STREAM, str(stop)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              text=True)
    try:
        time.sleep(5)  # it is storing
        monkeypatch.setattr(recount, "PAGE", 10)  # the walk takes a while
        recount.recount(checkpoint=tmp_path / "checkpoint")
        time.sleep(1)
    finally:
        stop.touch()
        stored = int(stream.communicate(timeout=60)[0].strip())
    time.sleep(2 * stats.FLUSH_SECONDS)  # its last changes are written (at its exit)
    assert stored > 100
    assert len(store_matches_rows()) == 30 + stored
