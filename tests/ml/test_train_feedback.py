"""`manage.py train --include-feedback` learns from corrected predictions stored in Cassandra."""

import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from recognizer.ml import mnist
from recognizer.ml.runtime import Classifier
from recognizer.preprocessing import to_png
from recognizer.services import prediction_correct, prediction_store

pytestmark = pytest.mark.usefixtures("cassandra")
SHIPPED = Path(__file__).resolve().parents[2] / "mlmodel"
SMOKE = dict(include_feedback=True, limit=300, epochs=4, batch_size=128, seed=3, augment=False)  # 12 steps
TAUGHT_LABEL, CORRECTIONS = 7, 25


def discs(count: int) -> np.ndarray:
    """Filled discs of varied size and place: a mark no MNIST digit looks like, so a model reads it as
    TAUGHT_LABEL only if it learnt that from the users' corrections."""
    rng = np.random.default_rng(0)
    rows, cols = np.mgrid[:28, :28]
    centres, radii = 14 + rng.uniform(-2, 2, (count, 2)), rng.uniform(5, 7, count)
    inside = (rows - centres[:, :1, None]) ** 2 + (cols - centres[:, 1:, None]) ** 2 <= radii[:, None, None] ** 2
    return np.where(inside, 255, 0).astype(np.uint8)


@pytest.fixture
def corrected():
    """CORRECTIONS stored predictions of such discs, each corrected by staff to TAUGHT_LABEL."""
    for image in discs(CORRECTIONS):
        stored = prediction_store(source="draw", filename=None, content_type="image/png", image=b"x",
                                  input_png=to_png(mnist.to_unit(image)), probabilities=[0.1] * 10,
                                  model_version="old", latency_ms=1.0)
        prediction_correct(prediction=stored, label=TAUGHT_LABEL, user="staff")


def test_the_shipped_model_does_not_read_the_discs_as_the_taught_label():
    """What makes the next test able to fail: without the corrections, the discs are not read so."""
    predicted = Classifier.from_dir(SHIPPED).predict(mnist.to_unit(discs(CORRECTIONS))).argmax(1)
    assert np.mean(predicted == TAUGHT_LABEL) < 0.2


def test_corrections_teach_the_model_what_users_meant(corrected, tmp_path):
    out = io.StringIO()
    call_command("train", out=str(tmp_path), stdout=out, **SMOKE)
    card = json.loads((tmp_path / "card.json").read_text())
    report = card["feedback"]
    assert (report["corrected_images"], report["trained_on"], report["held_out"]) == (25, 20, 5)
    assert report["held_out_accuracy"] >= 0.8  # corrections it never saw, read as the users taught
    assert card["train_images"] == 300 - 25 + 20  # MNIST less the held-out validation share, plus corrections
    assert "Feedback: trained on 20 corrected predictions, held out 5" in out.getvalue()
    served = Classifier.from_dir(tmp_path).predict(mnist.to_unit(discs(CORRECTIONS))).argmax(1)
    assert np.mean(served == TAUGHT_LABEL) >= 0.8  # and the installed, served file reads them so too


def test_a_model_worse_on_mnist_is_not_installed(corrected, tmp_path):
    shutil.copy(SHIPPED / "card.json", tmp_path / "card.json")  # the shipped model's 99.6 % to beat
    before = (tmp_path / "card.json").read_text()
    out = io.StringIO()
    call_command("train", out=str(tmp_path), stdout=out, **SMOKE)
    assert "the installed model was kept" in out.getvalue()
    assert (tmp_path / "card.json").read_text() == before and not (tmp_path / "model.tflite").exists()


def test_no_feedback_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="no corrected predictions"):
        call_command("train", out=str(tmp_path), **SMOKE)
