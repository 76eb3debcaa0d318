"""Stored predictions of real MNIST digits, scored by the real model: the queue the review tests read."""

from collections import defaultdict

import numpy as np
import pytest

from recognizer.ml import doubt, mnist
from recognizer.ml.runtime import get_classifier
from recognizer.models import ReviewEntry
from recognizer.preprocessing import to_png
from recognizer.review.scoring import score_next
from recognizer.services import prediction_store
from recognizer.storage import review
from recognizer.storage.records import StoredPrediction

SCANNED = 3000  # MNIST test digits scored once per run to find doubtful ones


@pytest.fixture(scope="session")
def doubtful(mnist_test):
    """MNIST test digits the model doubts, most doubtful first: (image, label, probabilities, doubt)."""
    images, labels = mnist_test
    inputs = mnist.to_unit(images[:SCANNED])
    classifier = get_classifier()
    probabilities = classifier.predict(inputs)
    doubts = np.array(doubt.doubts_of(classifier, probabilities, inputs))
    order = [int(i) for i in np.argsort(-doubts) if doubts[i] >= review.QUEUE_FROM]
    return [(images[i], int(labels[i]), [float(p) for p in probabilities[i]], float(doubts[i])) for i in order]


@pytest.fixture
def queue(cassandra, doubtful):
    """``queue(n, source=...)``: store the ``n`` most doubtful digits (oldest first), score them; the stored."""

    def fill(count: int, *, source: str = "draw", start: int = 0) -> list[StoredPrediction]:
        stored = []
        for image, _, probabilities, _ in doubtful[start:start + count]:
            png = to_png(mnist.to_unit(image))
            stored.append(prediction_store(source=source, filename=None, content_type="image/png", image=png,
                                           input_png=png, probabilities=probabilities, model_version="test",
                                           latency_ms=1.0))
        while score_next(settle=0):
            pass
        return stored

    return fill


@pytest.fixture
def queue_entries(cassandra, cassandra_keyspace):
    """``queue_entries()``: {scope: set of ids} as the review queue table holds them."""

    def read() -> dict[str, set]:
        listed = defaultdict(set)
        for row in cassandra.execute(f"SELECT scope, id FROM {cassandra_keyspace}.{ReviewEntry.__table_name__}"):
            listed[row["scope"]].add(row["id"])
        return dict(listed)

    return read
