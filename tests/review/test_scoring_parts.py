"""The scoring pass split over processes (``score_predictions --part K/N``): every stored
prediction is scored by exactly one part, and each part continues from its own checkpoint."""

import io
import re
import time

import pytest
from django.core.management import CommandError, call_command

from recognizer.ml import mnist
from recognizer.preprocessing import to_png
from recognizer.selectors import prediction_get
from recognizer.services import prediction_store
from recognizer.storage import ids

pytestmark = pytest.mark.django_db


@pytest.fixture
def store(cassandra, doubtful):
    """``store(n)``: n unscored predictions a minute old (past the pass's settling time), on random shards."""

    def fill(count: int, *, start: int = 0) -> list:
        stored = []
        for image, _, probabilities, _ in doubtful[start:start + count]:
            png = to_png(mnist.to_unit(image))
            stored.append(prediction_store(source="api", filename=None, content_type="image/png", image=png,
                                           input_png=png, probabilities=probabilities, model_version="test",
                                           latency_ms=1.0, created=time.time() - 60))
        return stored

    return fill


def run_part(part: str) -> int:
    out = io.StringIO()
    call_command("score_predictions", "--part", part, stdout=out)
    return int(re.search(r"Read (\d+) predictions", out.getvalue())[1])


def scored(stored) -> set:
    return {p.id for p in stored if prediction_get(prediction_id=p.id).doubt is not None}


def test_two_parts_score_every_prediction_once_each_its_own_shards(store, cassandra, cassandra_keyspace):
    stored = store(40)
    first = {p.id for p in stored if ids.shard_of(p.id) % 2 == 0}
    assert 0 < len(first) < len(stored)  # both parts have work (40 predictions over 16 shards)

    assert run_part("1/2") == len(first)
    assert scored(stored) == first  # part 1 scored its own shards and nothing else
    assert run_part("2/2") == len(stored) - len(first)
    assert scored(stored) == {p.id for p in stored}

    # each part keeps its own checkpoint, and a restarted part reads only what came after it
    checkpoints = {row["name"]: row["last_id"]
                   for row in cassandra.execute(f"SELECT * FROM {cassandra_keyspace}.review_pass")}
    assert set(checkpoints) == {"doubt 1/2", "doubt 2/2"}
    assert ids.shard_of(checkpoints["doubt 1/2"]) % 2 == 0 and ids.shard_of(checkpoints["doubt 2/2"]) % 2 == 1
    assert run_part("1/2") == run_part("2/2") == 0
    later = store(12, start=40)
    assert run_part("2/2") + run_part("1/2") == len(later)
    assert scored(later) == {p.id for p in later}


def test_a_part_without_a_checkpoint_starts_where_the_whole_pass_stopped(store):
    before = store(10)
    assert run_part("1/1") == len(before)
    after = store(10, start=10)
    assert run_part("1/3") + run_part("2/3") + run_part("3/3") == len(after)  # the first ten are not read again


@pytest.mark.parametrize("part", ["0/2", "3/2", "2", "a/b", "1/257"])
def test_a_wrong_part_is_refused(part):
    with pytest.raises(CommandError, match="a part is K/N"):
        call_command("score_predictions", "--part", part)
