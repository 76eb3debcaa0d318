"""Which of gunicorn's workers serve: requests one at a time keep to two of them (numberfigure/workers.py),
and under load every worker takes its share."""

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from helpers.servers import logged, make_run

from harness.server import request

pytestmark = pytest.mark.deploy

WORKERS = 4


@pytest.fixture(scope="module")
def four_workers(cassandra_keyspace, tmp_path_factory):
    """`make run` with gunicorn.conf.py's worker class and 4 workers; yields (port, log file)."""
    work = tmp_path_factory.mktemp("workers")
    with make_run(work, keyspace=cassandra_keyspace, WEB_CONCURRENCY=str(WORKERS),
                  RATE_LIMIT_PREVIEW="100000/m") as running:
        yield running


def served_by(log: Path, since: int, route: str) -> Counter:
    """Requests to ``route`` per worker pid, from the app's log lines after byte ``since``."""
    return Counter(entry["worker"] for entry in logged(log, since, route))


def preview(port: int, png: bytes) -> int:
    return request(port, "POST", "/api/preview", png, {"Content-Type": "image/png"})[0]


def test_requests_one_at_a_time_keep_to_two_warm_workers(four_workers, digit_png):
    port, log = four_workers
    png, _ = digit_png(0)
    since = log.stat().st_size

    assert [preview(port, png) for _ in range(40)] == [200] * 40

    shares = served_by(log, since, "/api/preview").most_common()
    assert sum(count for _, count in shares) == 40
    # gunicorn's own sync worker wakes every idle worker and spreads these over all four (19-33 % each)
    assert sum(count for _, count in shares[:2]) >= 36, shares


def test_under_load_every_worker_takes_its_share(four_workers, digit_png):
    port, log = four_workers
    png, _ = digit_png(1)
    since = log.stat().st_size

    with ThreadPoolExecutor(max_workers=8) as clients:  # 8 in flight for 4 workers on 2 cores
        statuses = list(clients.map(lambda _: preview(port, png), range(160)))

    assert statuses == [200] * 160
    shares = served_by(log, since, "/api/preview")
    assert len(shares) == WORKERS and min(shares.values()) >= 16, shares  # each ≥ 10 %
