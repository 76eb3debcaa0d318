"""`manage.py train --include-feedback` learns from corrected predictions stored in Cassandra."""

import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from recognizer.preprocessing import to_png
from recognizer.services import prediction_correct, prediction_store

pytestmark = pytest.mark.usefixtures("cassandra")
SHIPPED = Path(__file__).resolve().parents[2] / "mlmodel"
SMOKE = dict(include_feedback=True, limit=300, epochs=1, seed=3, augment=False)


@pytest.fixture
def corrected(mnist_test):
    """Five stored predictions of MNIST test digits, each corrected to its true label."""
    images, labels = mnist_test
    for index in range(5):
        probabilities = [0.1] * 10
        stored = prediction_store(source="draw", filename=None, content_type="image/png", image=b"x",
                                   input_png=to_png(images[index].astype(np.float32) / 255),
                                   probabilities=probabilities, model_version="old", latency_ms=1.0)
        prediction_correct(prediction=stored, label=int(labels[index]), user="staff")


def test_feedback_is_trained_on_and_reported(corrected, tmp_path):
    out = io.StringIO()
    call_command("train", out=str(tmp_path), stdout=out, **SMOKE)
    card = json.loads((tmp_path / "card.json").read_text())
    assert card["feedback"]["corrected_images"] == 5
    assert (card["feedback"]["trained_on"], card["feedback"]["held_out"]) == (4, 1)
    assert card["feedback"]["held_out_accuracy"] in (0.0, 1.0)
    assert card["train_images"] == 300 + 4
    assert "Feedback: trained on 4 corrected predictions" in out.getvalue()
    assert (tmp_path / "model.tflite").exists()


def test_a_model_worse_on_mnist_is_not_installed(corrected, tmp_path):
    shutil.copy(SHIPPED / "card.json", tmp_path / "card.json")  # the shipped model's 99.6 % to beat
    before = (tmp_path / "card.json").read_text()
    out = io.StringIO()
    call_command("train", out=str(tmp_path), stdout=out, **SMOKE)
    assert "the installed model was kept" in out.getvalue()
    assert (tmp_path / "card.json").read_text() == before and not (tmp_path / "model.tflite").exists()


def test_no_feedback_is_a_clear_error(cassandra, tmp_path):
    with pytest.raises(CommandError, match="no corrected predictions"):
        call_command("train", out=str(tmp_path), **SMOKE)
