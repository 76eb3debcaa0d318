"""Fixtures of the number tests: ``number_png(lines, ...)``, pictures of numbers made of MNIST test digits."""

import pytest
from helpers import pictures


@pytest.fixture(scope="session")
def number_png(mnist_test):
    """``helpers.pictures.number_png`` on the MNIST test images."""
    return lambda lines, **options: pictures.number_png(mnist_test[0], lines, **options)
