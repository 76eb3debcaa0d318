"""The cut verifier: the shipped file tells one digit from touching digits, and `train_verifier` makes one."""

import json

import numpy as np
import pytest
from django.core.management import call_command
from helpers import small_mnist

from recognizer import preprocessing
from recognizer.ml.runtime import Classifier, get_verifier

# MNIST test images (the first of each the served model reads right), as in test_segmentation
TWO, ZERO, SIX, FOUR, ONE, THREE = 1, 3, 11, 4, 2, 18


def one_digit(png: bytes) -> float:
    """The verifier's P(one digit) for a picture's whole ink, made into the model's input."""
    model_input = preprocessing.to_mnist(preprocessing.decode_image(png, max_pixels=10**8))
    return float(get_verifier().predict(model_input[None])[0, 0])


@pytest.mark.parametrize("index", [TWO, ZERO, SIX, FOUR, ONE, THREE])
def test_one_digit_is_taken_for_one(number_png, index):
    assert one_digit(number_png([[index]])) > 0.5


@pytest.mark.parametrize("line", [(SIX, THREE), (TWO, SIX), (ONE, FOUR), (ZERO, TWO)])
def test_two_glued_digits_are_not_one(number_png, line):
    assert one_digit(number_png([list(line)], touching={1})) < 0.5


@pytest.mark.slow  # trains a tiny verifier (seconds)
def test_train_verifier_makes_a_verifier_from_mnist(tmp_path):
    data = small_mnist(tmp_path / "mnist", train=300, test=10)
    out = tmp_path / "verifier.tflite"
    call_command("train_verifier", data=str(data), out=out, pictures=60, validation_pictures=20, epochs=1, seed=3)
    made = json.loads(out.with_suffix(".json").read_text())
    assert made["options"]["pictures"] == 60 and made["pieces"] > 60 and made["validation_pieces"] > 20
    assert 0 < made["one_digit_share"] < 1
    answers = Classifier(out).predict(np.zeros((3, 28, 28), np.float32))
    assert answers.shape == (3, 1) and ((answers >= 0) & (answers <= 1)).all()
