"""What storing one prediction costs when a sync worker stores it: one request at a time.

For the served write (``services.prediction_store``: one UNLOGGED batch of the row, its index
entries and its original), the same under an id given to it (a request with an Idempotency-Key:
then a lightweight transaction decides that it is counted once) and, as the least any request can
cost, a one-row insert, it prints per
write: the wall time (p50/p99), the CPU of this process's request thread and of its other threads
(the driver's event loop; the stats, flushed once a second), and the CPU of the local Cassandra
node (from /proc). Each is measured back to back and after idle gaps, as in a request, where
decoding and preprocessing come first.

    .venv/bin/python bench/write_path.py [--count 1500] [--gaps 0,5]

It needs the node of ``scripts/cassandra start`` (for its CPU time) and writes in a keyspace of its
own (``bench_write_path``, dropped at the end).
"""

import argparse
import statistics
import sys
import time

import in_process  # bench/in_process.py
import report  # bench/report.py: --output

KEYSPACE = "bench_write_path"
in_process.setup(keyspace=KEYSPACE)

from api import cassandra_pids, cpu_seconds  # noqa: E402 - bench/api.py: the node's process and CPU
from django.conf import settings  # noqa: E402

from recognizer.models import Prediction  # noqa: E402
from recognizer.services import prediction_store  # noqa: E402
from recognizer.storage import cql, ids  # noqa: E402

ROOT = in_process.ROOT
ORIGINAL = (ROOT / "tests/preprocessing/images/drawn_7.png").read_bytes()
INPUT_PNG = (ROOT / "tests/preprocessing/images/mnist_7.png").read_bytes()
PROBABILITIES = [0.001] * 7 + [0.991] + [0.001] * 2


def served_write() -> None:
    prediction_store(source="api", filename=None, content_type="image/png", image=ORIGINAL,
                     input_png=INPUT_PNG, probabilities=PROBABILITIES, model_version="bench", latency_ms=3.0)


def known_id_write() -> None:
    prediction_store(source="api", filename=None, content_type="image/png", image=ORIGINAL,
                     input_png=INPUT_PNG, probabilities=PROBABILITIES, model_version="bench", latency_ms=3.0,
                     prediction_id=ids.new_prediction_id(timestamp=ids.now(), shards=settings.NUMBERFIGURE_SHARDS))


def one_row_insert() -> None:
    prediction_id = ids.new_prediction_id(timestamp=time.time(), shards=settings.NUMBERFIGURE_SHARDS)
    bucket, shard = ids.partition_of(prediction_id)
    cql.run(cql.insert(Prediction, {"bucket": bucket, "shard": shard, "id": prediction_id, "digit": 7}))


def measure(write, *, gap: float, count: int, node: int) -> str:
    walls = []
    own, process, node_before = time.thread_time(), time.process_time(), cpu_seconds(node)
    for _ in range(count):
        time.sleep(gap)
        started = time.perf_counter()
        write()
        walls.append((time.perf_counter() - started) * 1000)
    own, process = time.thread_time() - own, time.process_time() - process
    node_cpu = cpu_seconds(node) - node_before
    walls.sort()
    return (f"p50 {statistics.median(walls):5.2f} ms  p99 {walls[int(0.99 * count)]:5.2f} ms   "
            f"CPU per write: request thread {own * 1000 / count:.2f} ms, "
            f"driver threads {(process - own) * 1000 / count:.2f} ms, "
            f"Cassandra {node_cpu * 1000 / count:.2f} ms")


@report.writes_output
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1500, help="writes per measurement")
    parser.add_argument("--gaps", default="0,5", help="idle gaps before each write, in ms, comma-separated")
    report.add_argument(parser)
    args = parser.parse_args()
    nodes = cassandra_pids()
    if not nodes:
        sys.exit("No local Cassandra node runs: start one with scripts/cassandra start.")
    node = nodes[0]
    in_process.fresh_keyspace()
    try:
        writes = (("served write", served_write), ("known-id write", known_id_write),
                  ("one-row insert", one_row_insert))
        for _, write in writes:  # the first few hundred warm the node's code up
            for _ in range(300):
                write()
        print(f"{args.count} writes each, one at a time, to the node at {settings.DATABASES['cassandra']['HOST']}")
        for gap in (float(g) / 1000 for g in args.gaps.split(",")):
            for name, write in writes:
                print(f"  {name:15s} gap {gap * 1000:3.0f} ms  {measure(write, gap=gap, count=args.count, node=node)}")
    finally:
        in_process.drop_keyspace()


if __name__ == "__main__":
    main()
