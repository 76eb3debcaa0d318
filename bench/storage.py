"""The storage layout at its design rate: partition sizes, write spread, history cost, write cost.

In a keyspace of its own (``bench_storage``, dropped at the end) this writes predictions with
synthetic timestamps, as the write path stores them (one UNLOGGED batch each, ``storage.writes``):

1. write cost: the same predictions stored as one UNLOGGED batch each (as served), one LOGGED
   batch, concurrent idempotent statements, and in the first (day-partitioned) layout as it was
   served (one LOGGED batch); predictions per second and CPU per
   prediction of this process and of the Cassandra node (from /proc);
2. 1,000 predictions over 30 days, then history page 1, page 50 (20 a page) and a filtered page;
3. the design rate: 1,000 predictions/s for ``--minutes`` simulated minutes, plus 100,000 over 30
   days; the same pages again, and their ratio to the 1k figures;
4. the largest partition of each table (rows exactly, from the ids written, checked against
   Cassandra; bytes from ``nodetool tablestats`` after a flush) and the write spread over 8 equal
   token ranges (max/mean, 1.0 is perfect).

    .venv/bin/python bench/storage.py [--minutes 10] [--rate 1000] [--spread 100000]

It needs the node started by ``scripts/cassandra start`` (for its CPU time and ``nodetool``); to
keep the bench off the development node, start another one beside it and point both at it:
``CASSANDRA_LOCAL_DIR=/tmp/bench-node CASSANDRA_LOCAL_PORT=9043 CASSANDRA_LOCAL_STORAGE_PORT=7001
CASSANDRA_LOCAL_JMX_PORT=7299`` for the script, and ``CASSANDRA_PORT=9043`` for the bench.
"""

import argparse
import datetime as dt
import os
import random
import re
import statistics
import subprocess
import threading
import time
from collections import Counter
from functools import partial
from pathlib import Path

import in_process  # bench/in_process.py
import report  # bench/report.py: --output

KEYSPACE = "bench_storage"
in_process.setup(keyspace=KEYSPACE)

from api import cpu_seconds  # noqa: E402 - bench/api.py
from cassandra.cqlengine.management import sync_table  # noqa: E402
from cassandra.metadata import Murmur3Token  # noqa: E402
from cassandra.query import BatchStatement, BatchType  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connections  # noqa: E402

from recognizer.first_layout import old_writes  # noqa: E402
from recognizer.first_layout.tables import LEGACY_TABLES, LegacyDay, LegacyPrediction  # noqa: E402
from recognizer.models import BucketEntry, FilterEntry, MonthEntry, OriginalChunk, Prediction  # noqa: E402
from recognizer.selectors import Filters, prediction_list  # noqa: E402
from recognizer.storage import cql, ids, writes  # noqa: E402
from recognizer.storage.keys import ALL, keys_of  # noqa: E402
from recognizer.storage.records import StoredPrediction  # noqa: E402

ROOT = in_process.ROOT
INPUT_PNG = (ROOT / "tests/preprocessing/images/mnist_7.png").read_bytes()
ORIGINAL = (ROOT / "tests/preprocessing/images/drawn_7.png").read_bytes()
DAY = 86400
IN_FLIGHT = 64


def prediction(created: float, rng: random.Random) -> StoredPrediction:
    """A prediction as the write path builds it, at a synthetic time."""
    prediction_id = ids.new_prediction_id(timestamp=created, shards=settings.NUMBERFIGURE_SHARDS)
    bucket, shard = ids.partition_of(prediction_id)
    digit = rng.randrange(10)
    probabilities = [rng.random() * 0.01 for _ in range(10)]
    probabilities[digit] = 1 - sum(probabilities) + probabilities[digit]
    return StoredPrediction(
        bucket=bucket, shard=shard, id=prediction_id,
        created_at=dt.datetime.fromtimestamp(created, dt.UTC).replace(tzinfo=None),
        source=rng.choice(("draw", "upload", "api")), filename=None, content_type="image/png",
        image_size=len(ORIGINAL), input_png=INPUT_PNG, digit=digit, confidence=probabilities[digit],
        probabilities=probabilities, model_version="bench", latency_ms=3.0,
    )


def new_layout_batches(made: list[StoredPrediction], *, logged: bool = False) -> list:
    batches = []
    for row in made:
        _, statements, entries = writes.creation(row, ORIGINAL)
        writes.listed.remember(entries, row.bucket)
        batch = BatchStatement(batch_type=BatchType.LOGGED if logged else BatchType.UNLOGGED)
        for statement in statements:
            batch.add(statement)
        batch.is_idempotent = True
        batches.append([batch])
    return batches


def new_layout_statements(made: list[StoredPrediction]) -> list:
    groups = []
    for row in made:
        _, statements, entries = writes.creation(row, ORIGINAL)
        writes.listed.remember(entries, row.bucket)
        groups.append(statements)
    return groups


_old_days: set = set()


def old_layout_batches(made: list[StoredPrediction]) -> list:
    return [[old_writes.batch(row, ORIGINAL, days_written=_old_days)] for row in made]


def send(groups: list[list]) -> float:
    """Run every group's statements, IN_FLIGHT at a time, asynchronously; seconds taken."""
    session = connections["cassandra"].connection.session
    window, errors = threading.Semaphore(IN_FLIGHT), []
    done = threading.Event()
    remaining = [sum(len(group) for group in groups)]
    lock = threading.Lock()

    def finished(_=None):
        window.release()
        with lock:
            remaining[0] -= 1
            if remaining[0] == 0:
                done.set()

    def failed(error):
        errors.append(error)
        finished()

    started = time.perf_counter()
    for group in groups:
        for statement in group:
            window.acquire()
            session.execute_async(statement).add_callbacks(finished, failed)
    done.wait()
    if errors:
        raise errors[0]
    return time.perf_counter() - started


def cassandra_pid() -> int:
    """The local node's pid (scripts/cassandra's state folder, CASSANDRA_LOCAL_DIR if set)."""
    return int((Path(os.environ.get("CASSANDRA_LOCAL_DIR", ROOT / ".cassandra")) / "cassandra.pid").read_text())


def write_cost(count: int, rng: random.Random) -> None:
    print(f"\n== write cost: {count:,} predictions per way, {IN_FLIGHT} in flight ==")
    print(f"{'way':<44}{'pred/s':>9}{'app ms':>9}{'Cass ms':>9}{'pred/CPU-s':>12}")
    ways = [
        ("new layout, one UNLOGGED batch (served)", new_layout_batches),
        ("new layout, one LOGGED batch", partial(new_layout_batches, logged=True)),
        ("new layout, concurrent idempotent statements", new_layout_statements),
        ("first layout, one LOGGED batch", old_layout_batches),
    ]
    results = {}
    for name, build in ways * 2:  # twice, interleaved: the second, warm round is the one kept
        made = [prediction(time.time() - rng.random() * 60, rng) for _ in range(count)]
        node, app = cpu_seconds(cassandra_pid()), time.process_time()
        seconds = send(build(made))  # building the statements is part of the app's cost
        node, app = cpu_seconds(cassandra_pid()) - node, time.process_time() - app
        results[name] = (count / seconds, app / count * 1000, node / count * 1000, count / (app + node))
    for name, (rate, app_ms, node_ms, per_cpu) in results.items():
        print(f"{name:<44}{rate:>9,.0f}{app_ms:>9.2f}{node_ms:>9.2f}{per_cpu:>12,.0f}")


def fill(times: list[float], rng: random.Random, written: list) -> None:
    made = [prediction(created, rng) for created in times]
    for start in range(0, len(made), 20_000):
        send(new_layout_batches(made[start:start + 20_000]))
    written += made


def timed(read, runs: int = 9) -> float:
    read()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        read()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def history_costs() -> dict[str, float]:
    before = None
    for _ in range(49):  # follow "older" cursors to page 50 of 20
        before = prediction_list(before=before, limit=20)[-1].id
    return {
        "history page 1 (50 rows)": timed(lambda: prediction_list(limit=50)),
        "history page 50 (20 a page)": timed(lambda: prediction_list(before=before, limit=20)),
        "filtered page 1 (digit=3, 50 rows)": timed(lambda: prediction_list(limit=50, filters=Filters(digit=3))),
    }


def largest_partitions(written: list[StoredPrediction]) -> None:
    print(f"\n== largest partition of each table ({len(written):,} predictions) ==")
    rows = Counter((p.bucket, p.shard) for p in written)
    index = Counter((key, p.bucket, p.shard) for p in written for key in keys_of(p))
    scopes = [(key, p) for p in written for key in keys_of(p) | {ALL}]
    months = Counter(scope for scope, _ in {(key, ids.month_of(p.bucket)) for key, p in scopes})
    bucket_rows = {(key, ids.month_of(p.bucket), p.bucket) for key, p in scopes}
    buckets = Counter((scope, month) for scope, month, _ in bucket_rows)
    (bucket, shard), most = rows.most_common(1)[0]
    counted = cql.run(cql.select(Prediction, "bucket = ? AND shard = ?", [bucket, shard], columns="COUNT(*)"))[0]
    assert counted["count"] == most, (counted, most)  # the ids' arithmetic is what Cassandra holds
    flushed = subprocess.run([str(ROOT / "scripts/cassandra"), "nodetool", "flush", KEYSPACE],
                             capture_output=True, text=True).returncode == 0
    stats = subprocess.run([str(ROOT / "scripts/cassandra"), "nodetool", "tablestats", KEYSPACE],
                           capture_output=True, text=True).stdout if flushed else ""
    sizes = {}
    for block in stats.split("Table: ")[1:]:
        name = block.split()[0]
        found = re.search(r"Compacted partition maximum bytes: (\d+)", block)
        mean = re.search(r"Compacted partition mean bytes: (\d+)", block)
        sizes[name] = (int(found[1]), int(mean[1])) if found and mean else None
    print(f"{'table':<24}{'rows':>10}{'max bytes (nodetool)':>24}")
    for table, counter in [("predictions_by_bucket", rows), ("ids_by_filter", index),
                           ("months_by_scope", months), ("buckets_by_month", buckets)]:
        size = sizes.get(table)
        print(f"{table:<24}{counter.most_common(1)[0][1]:>10,}"
              f"{f'{size[0]:,}' if size else 'n/a':>24}")
    print(f"{'original_chunks':<24}{1:>10}{'(one partition per id; chunks ≤ 512 KiB)':>44}")
    if sizes.get("predictions_by_bucket") and sizes.get("prediction"):
        days = cql.run(cql.select(LegacyDay, "scope = ?", [ALL], columns="day"))
        old_rows = max(cql.run(cql.select(LegacyPrediction, "bucket = ?", [day["day"]], columns="COUNT(*)"))[0]["count"]
                       for day in days)
        new_row = sizes["predictions_by_bucket"][0] / most
        print(f"row size (largest partition's bytes / its rows): {new_row:,.0f} bytes; "
              f"first layout {sizes['prediction'][0] / old_rows:,.0f} bytes")


def spread(written: list[StoredPrediction], *, first_layout: bool = False, ranges: int = 8) -> float:
    """max/mean rows written per equal token range (of ``ranges``), from the rows' partition keys."""
    counts = Counter()
    for p in written:
        if first_layout:
            statement = cql.insert(LegacyPrediction, {"bucket": p.bucket.date(), "id": p.id})
        else:
            statement = cql.insert(Prediction, {"bucket": p.bucket, "shard": p.shard, "id": p.id})
        token = Murmur3Token.from_key(statement.routing_key).value
        counts[(token + 2**63) * ranges // 2**64] += 1
    return max(counts.values()) / (len(written) / ranges)


@report.writes_output
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10, help="simulated minutes at the design rate")
    parser.add_argument("--rate", type=int, default=1000, help="design rate, predictions per second")
    parser.add_argument("--spread", type=int, default=100_000, help="predictions spread over 30 days")
    parser.add_argument("--cost", type=int, default=5000, help="predictions per way in the write-cost run")
    report.add_argument(parser)
    args = parser.parse_args()
    rng = random.Random(1)
    session = in_process.fresh_keyspace()
    for table in LEGACY_TABLES:
        sync_table(table)
    session.execute(f"CREATE TABLE {KEYSPACE}.prediction_index (key text, bucket date, id timeuuid, "
                    "PRIMARY KEY ((key, bucket), id)) WITH CLUSTERING ORDER BY (id DESC)")
    try:
        write_cost(args.cost, rng)
        for table in (Prediction, OriginalChunk, FilterEntry, MonthEntry, BucketEntry):
            session.execute(f"TRUNCATE {table.column_family_name()}")
        writes.listed.clear()

        now, written = time.time(), []
        fill(sorted(now - 3600 - rng.random() * 30 * DAY for _ in range(1000)), rng, written)
        small = history_costs()
        burst = [prediction(now, rng) for _ in range(300)]
        print(f"\n300 predictions in one burst: {len({(p.bucket, p.shard) for p in burst})} partitions")

        count = int(args.minutes * 60 * args.rate)
        started = time.perf_counter()
        fill([now - args.minutes * 60 + n / args.rate for n in range(count)], rng, written)
        print(f"design rate: {count:,} predictions ({args.rate:,}/s × {args.minutes:g} min) written in "
              f"{time.perf_counter() - started:.0f} s", flush=True)
        fill(sorted(now - 3600 - rng.random() * 30 * DAY for _ in range(args.spread - 1000)), rng, written)
        full = history_costs()
        print(f"\n== history reads, median ms: 1,000 stored vs {len(written):,} ==")
        for name in small:
            print(f"{name:<38}{small[name]:>9.1f}{full[name]:>9.1f}   ratio {full[name] / small[name]:.2f}")
        largest_partitions(written)
        design = written[1000:1000 + count]
        print(f"\nwrite spread over 8 token ranges (max/mean; 1.00 is even, 8.00 all on one):\n"
              f"  design-rate minutes {spread(design):.2f} (first layout {spread(design, first_layout=True):.2f}), "
              f"the 300 burst {spread(burst):.2f} (first layout {spread(burst, first_layout=True):.2f})")
    finally:
        in_process.drop_keyspace()


if __name__ == "__main__":
    main()
