"""Finding every digit of a picture: gaps, broken strokes, touching digits, two lines, and one digit as before."""

import io

import numpy as np
import pytest
from PIL import Image

from recognizer import preprocessing, recognition, segmentation
from recognizer.errors import NoDigitFound
from recognizer.ml import handwriting
from recognizer.ml.runtime import get_classifier

# MNIST test images by label (the first of each the served model reads right)
TWO, ZERO, SIX, SEVEN, FOUR, ONE, THREE = 1, 3, 11, 0, 4, 2, 18
SECOND_TWO = 35
WIDE_ZERO, WIDE_TWO, WIDE_FOUR = 1191, 8165, 916  # MNIST's widest: 1.67, 1.82 and 1.43 × their height


def read(png: bytes) -> tuple[str, list[segmentation.Digit]]:
    classifier = get_classifier()
    digits = segmentation.split_digits(preprocessing.decode_image(png, max_pixels=10**8),
                                       recognition.reader(classifier))
    model = classifier.predict(np.stack([digit.input for digit in digits]))
    answers = [recognition.probabilities(digit, probabilities).argmax() for digit, probabilities in zip(
        digits, model, strict=True)]
    return "".join(str(answer) for answer in answers), digits


def test_digits_apart_are_read_left_to_right_with_their_boxes(number_png):
    number, digits = read(number_png([[TWO, ZERO, SECOND_TWO, SIX]], gap=30))
    assert number == "2026"
    lefts = [digit.box[0] for digit in digits]
    assert lefts == sorted(lefts) and all(digit.line == 0 for digit in digits)
    for before, after in zip(digits, digits[1:], strict=False):  # boxes apart, as the digits are
        assert before.box[0] + before.box[2] <= after.box[0] + 2
    assert all(digit.input.shape == (28, 28) for digit in digits)


def test_broken_strokes_stay_one_digit(number_png):
    """A band of blank rows through every digit (a 5's cap, a 4's open top): still four digits, and the
    single digits are still one each."""
    assert read(number_png([[TWO, ZERO, SECOND_TWO, SIX]], drop=(40, 46)))[0] == "2026"
    for index in (TWO, ZERO, SIX, SEVEN, FOUR, THREE):
        assert len(read(number_png([[index]], drop=(40, 46)))[1]) == 1


@pytest.mark.parametrize(("line", "touching", "expected"), [
    ((SIX, THREE), {1}, "63"), ((TWO, SIX), {1}, "26"),  # alone in the picture
    ((ONE, FOUR, SIX), {2}, "146"), ((ONE, SEVEN, TWO), {2}, "172"),  # beside another digit
    ((THREE, ZERO), {1}, "30"), ((FOUR, SIX), {1}, "46"),
    ((FOUR, SIX, THREE), {1, 2}, "463"), ((THREE, ZERO, SIX, FOUR), {1, 2, 3}, "3064"),  # whole numbers touching
    ((TWO, ZERO, SECOND_TWO, SIX), {1, 2, 3}, "2026"),
])
def test_touching_digits_are_cut_apart(number_png, line, touching, expected):
    number, digits = read(number_png([list(line)], touching=touching))
    assert number == expected
    lefts = [digit.box[0] for digit in digits]
    assert lefts == sorted(lefts)


@pytest.mark.parametrize(("line", "expected"), [((TWO, ZERO, SECOND_TWO, SIX), "2026"), ((FOUR, SIX, THREE), "463"),
                                                 ((SIX, THREE), "63")])
def test_overlapping_digits_are_read_with_a_box_each(number_png, line, expected):
    """Strokes crossing (8 px past the touch, 7 % of the height): no cut separates them cleanly, the string
    reader reads the run, and each digit still gets a box of its own, left to right."""
    number, digits = read(number_png([list(line)], touching=set(range(1, len(line))), overlap=8))
    assert number == expected
    assert all(digit.string_reading is not None for digit in digits)
    lefts = [digit.box[0] for digit in digits]
    assert lefts == sorted(lefts) and len(set(lefts)) == len(lefts)


def test_two_touching_runs_on_a_line_are_each_cut(number_png):
    """"20" and "26" touching, a gap between them: neither run is wider than the other digits of its line
    by much, and both are read."""
    assert read(number_png([[TWO, ZERO, SECOND_TWO, SIX]], touching={1, 3}))[0] == "2026"


@pytest.mark.parametrize(("index", "expected"), [(WIDE_ZERO, "0"), (WIDE_TWO, "2"), (WIDE_FOUR, "4")])
def test_a_wide_digit_stays_one(number_png, index, expected):
    """Wide enough to be two digits by its shape, but one: the verifier keeps it whole."""
    assert read(number_png([[index]]))[0] == expected


@pytest.mark.slow  # reads 1,797 pictures
def test_other_writers_single_digits_stay_one_digit():
    """The non-MNIST set's 1s carry a flag and a foot (0.6-0.8 × as wide as high) and some of its 4s and
    8s lean: the string reader may read such a lone piece as two, but none of the 1,797 is split."""
    from sklearn.datasets import load_digits

    drawn = load_digits()
    split = [int(label) for cells, label in zip(drawn.images, drawn.target, strict=True)
             if len(read(handwriting.picture(cells))[1]) != 1]
    assert split == []


def test_a_second_line_is_read_after_the_first(number_png):
    number, digits = read(number_png([[TWO, ZERO], [SECOND_TWO, SIX]]))
    assert number == "2026"
    assert [digit.line for digit in digits] == [0, 0, 1, 1]
    assert digits[2].box[1] > digits[0].box[1] + digits[0].box[3]  # the second line lies below the first


@pytest.mark.parametrize("index", [TWO, ZERO, SIX, SEVEN, FOUR, ONE, THREE])
def test_a_single_digit_gives_exactly_todays_input(number_png, digit_png, index):
    for png in (digit_png(index)[0], number_png([[index]])):
        image = preprocessing.decode_image(png, max_pixels=10**8)
        [digit] = segmentation.split_digits(image, recognition.reader(get_classifier()))
        np.testing.assert_array_equal(digit.input, preprocessing.to_mnist(image))


def test_a_blank_picture_has_no_digit():
    out = io.BytesIO()
    Image.new("L", (200, 100), 255).save(out, "PNG")
    with pytest.raises(NoDigitFound):
        segmentation.split_digits(preprocessing.decode_image(out.getvalue(), max_pixels=10**8),
                                  recognition.reader(get_classifier()))
