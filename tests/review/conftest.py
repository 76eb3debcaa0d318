"""The review queue's entries as Cassandra holds them (the queue itself: ``queue`` in tests/conftest.py)."""

from collections import defaultdict

import pytest

from recognizer.models import ReviewEntry


@pytest.fixture
def queue_entries(cassandra, cassandra_keyspace):
    """``queue_entries()``: {scope: set of ids} as the review queue table holds them."""

    def read() -> dict[str, set]:
        listed = defaultdict(set)
        for row in cassandra.execute(f"SELECT scope, id FROM {cassandra_keyspace}.{ReviewEntry.__table_name__}"):
            listed[row["scope"]].add(row["id"])
        return dict(listed)

    return read
