"""The product under faults: gunicorn with the repo's config against real Cassandra nodes (started by
scripts/cassandra in folders and on ports of their own) that are stopped, killed and paused.
``make test-faults`` runs this folder; the helpers are in ``helpers.faults``.
"""

import pytest
from helpers.faults import Nodes, Server


def running(nodes: Nodes):
    nodes.run("start")
    yield nodes
    nodes.run("stop")


@pytest.fixture(scope="session")
def cluster():
    """Three nodes on 127.0.0.1-3, a keyspace with replication factor 3, read and written at QUORUM."""
    yield from running(Nodes(3, "cluster", 9142, 7100, 7300))


@pytest.fixture(scope="session")
def single():
    """One node, the whole store: when it stops, nothing can be written."""
    yield from running(Nodes(1, "single", 9242, 7200, 7400))


@pytest.fixture
def server(tmp_path):
    """``server(nodes, **options)``: a started gunicorn, answering, stopped after the test."""
    started = []

    def start(nodes: Nodes, **options) -> Server:
        started.append(Server(nodes, tmp_path / f"server{len(started)}", **options))
        return started[-1]

    yield start
    for made in started:
        made.stop()


@pytest.fixture(scope="session")
def pngs(digit_png):
    """Twenty different MNIST digits as browser-canvas-like PNGs."""
    return [digit_png(index, size=112)[0] for index in range(20)]
