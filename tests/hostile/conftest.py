"""Fixtures of the hostile-input tests: the image makers, a digit, and the count of stored rows."""

import importlib.util
from pathlib import Path

import pytest
from django.core.cache import cache

HERE = Path(__file__).resolve().parent


def load_images_module():
    """``images.py`` beside this file (the tests' folders are no packages)."""
    spec = importlib.util.spec_from_file_location("hostile_images", HERE / "images.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def images():
    return load_images_module()


@pytest.fixture(scope="session")
def seven(digit_png):
    """A good drawing: MNIST test image 0 (a 7) as a 280 px PNG, dark ink on white."""
    png, label = digit_png(0)
    assert label == 7
    return png


@pytest.fixture
def stored_rows(cassandra_keyspace):
    """``stored_rows()``: predictions and originals stored right now (a refused request adds none)."""
    from django.db import connections

    session = connections["cassandra"].connection.session

    def count() -> tuple[int, int]:
        return tuple(session.execute(f"SELECT COUNT(*) AS rows FROM {cassandra_keyspace}.{table}").one()["rows"]
                     for table in ("predictions_by_bucket", "original_chunks"))

    return count


@pytest.fixture(autouse=True)
def fresh_rate_counts():
    """Each test starts with no request counted against its address."""
    cache.clear()
    yield
    cache.clear()
