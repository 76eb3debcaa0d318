"""Fixtures of the number tests: ``number_png(lines, ...)``, pictures of numbers made of MNIST test digits."""

import importlib.util
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def number_png(mnist_test):
    """``pictures.number_png`` (beside this file: the tests' folders are no packages) on the MNIST test images."""
    spec = importlib.util.spec_from_file_location("number_pictures", HERE / "pictures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return lambda lines, **options: module.number_png(mnist_test[0], lines, **options)
