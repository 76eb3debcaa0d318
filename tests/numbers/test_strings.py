"""The string reader: the shipped file reads runs of touching digits whole, its answers decode into digits
in order with where it read them, and `train_strings` makes one."""

import json

import numpy as np
import pytest
from django.core.management import call_command
from helpers import small_mnist

from recognizer import preprocessing, recognition, segmentation
from recognizer.ml.runtime import BLANK, Classifier, decode, get_string_reader

# MNIST test images (the first of each the served model reads right), as in test_segmentation
TWO, ZERO, SIX, FOUR, ONE, THREE, SECOND_TWO = 1, 3, 11, 4, 2, 18, 35


def read(png: bytes) -> list[tuple[int, int, np.ndarray]]:
    """What the string reader reads in a picture's whole ink."""
    ink = preprocessing.ink_layer(preprocessing.decode_image(png, max_pixels=10**8)).ink
    run = preprocessing.string_input(ink)
    return decode(get_string_reader().run(run[None, :, :, None])[0, 0])


@pytest.mark.parametrize(("line", "expected"), [
    ((SIX, THREE), "63"), ((TWO, SIX), "26"), ((ONE, FOUR), "14"), ((FOUR, SIX, THREE), "463"),
    ((TWO, ZERO, SECOND_TWO, SIX), "2026"),
])
def test_touching_digits_are_read_whole_in_order(number_png, line, expected):
    said = read(number_png([list(line)], touching=set(range(1, len(line)))))
    assert "".join(str(digit) for digit, _, _ in said) == expected
    columns = [column for _, column, _ in said]
    assert columns == sorted(columns) and len(set(columns)) == len(columns)
    for digit, _, ten in said:
        assert ten.argmax() == digit and ten.sum() == pytest.approx(1, abs=1e-5)


@pytest.mark.parametrize("index", [TWO, ZERO, SIX, FOUR, ONE, THREE])
def test_one_digit_is_read_as_one(number_png, index):
    assert len(read(number_png([[index]]))) == 1


def test_decode_collapses_repeats_and_keeps_a_digit_twice_across_a_blank():
    """Columns reading 3 3 _ 3 7 7 _ are "337"; each digit where it is surest, its ten renormalised."""
    frames = np.full((7, BLANK + 1), 0.01, np.float32)
    for column, answer, sure in ((0, 3, 0.6), (1, 3, 0.9), (2, BLANK, 0.9), (3, 3, 0.8), (4, 7, 0.7),
                                 (5, 7, 0.5), (6, BLANK, 0.9)):
        frames[column, answer] = sure
    said = decode(frames)
    assert [(digit, column) for digit, column, _ in said] == [(3, 1), (3, 3), (7, 4)]
    assert said[0][2].sum() == pytest.approx(1) and said[0][2].argmax() == 3


def test_decode_of_only_blanks_is_no_digit():
    frames = np.zeros((5, BLANK + 1), np.float32)
    frames[:, BLANK] = 1
    assert decode(frames) == []


@pytest.mark.slow  # trains a tiny reader (seconds)
def test_train_strings_makes_a_reader_from_mnist(tmp_path):
    data = small_mnist(tmp_path / "mnist", train=300, test=10)
    out = tmp_path / "strings.tflite"
    call_command("train_strings", data=str(data), out=out, runs=80, validation_runs=20, epochs=1, seed=3)
    made = json.loads(out.with_suffix(".json").read_text())
    assert made["options"]["runs"] == 80 and made["runs"] == 80 and made["validation_runs"] == 20
    assert 0 <= made["validation_read_whole"] <= 1
    run = np.zeros((1, preprocessing.STRING_ROWS, 40, 1), np.float32)
    assert Classifier(out).run(run).shape == (1, 1, 20, BLANK + 1)


def test_a_touching_digit_is_answered_by_both_models_together():
    """The digit model reads the part as 1 (0.6) or 7 (0.4); the string reader read a 7 there (0.9): 7,
    with the product renormalised. A digit the string reader did not read keeps the model's answer."""
    model = np.full(10, 0.0, np.float32)
    model[[1, 7]] = 0.6, 0.4
    read_there = np.full(10, 0.1 / 9)
    read_there[7] = 0.9
    touching = segmentation.Digit(np.zeros((28, 28)), (0, 0, 1, 1), 0, string_reading=read_there)
    answer = recognition.probabilities(touching, model)
    assert answer.argmax() == 7 and answer.sum() == pytest.approx(1)
    assert answer[7] == pytest.approx(0.4 * 0.9 / (0.4 * 0.9 + 0.6 * 0.1 / 9))
    alone = segmentation.Digit(np.zeros((28, 28)), (0, 0, 1, 1), 0)
    assert recognition.probabilities(alone, model) is model
