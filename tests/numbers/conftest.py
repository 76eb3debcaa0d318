"""Fixtures of the number tests: ``number_png(lines, ...)``, pictures of numbers made of MNIST test digits,
and ``twenty_26``, the picture of "2026" they read."""

import pytest
from helpers import pictures


@pytest.fixture(scope="session")
def number_png(mnist_test):
    """``helpers.pictures.number_png`` on the MNIST test images."""
    return lambda lines, **options: pictures.number_png(mnist_test[0], lines, **options)


TWO, ZERO, SIX, SECOND_TWO = 1, 3, 11, 35  # indices of MNIST test digits


@pytest.fixture(scope="session")
def twenty_26(number_png):
    return number_png([[TWO, ZERO, SECOND_TWO, SIX]])
