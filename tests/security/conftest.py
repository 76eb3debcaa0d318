"""The hostile-input tests: each starts with no request counted against its address."""

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def fresh_rate_counts():
    """Each test starts with no request counted against its address."""
    cache.clear()
    yield
    cache.clear()
