"""How fast the scoring pass goes as one process and split in parts (``score_predictions --part``).

Stores ``--count`` MNIST test predictions as densely as the design rate stores them (the last ten
minutes: 16 shards), then scores them all with 1 process, and again (doubts cleared) with 2
processes side by side, each a part; prints the predictions scored a second for each.

    .venv/bin/python bench/review_parts.py [--count 1500] [--parts 1 2] [--keyspace bench_review_parts]

Writes in a keyspace of its own (dropped at the end). Each part is a process of this script
(``--worker K/N``) that has loaded the app and the model before the clock starts.
"""

import argparse
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import report  # bench/report.py: --output

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--count", type=int, default=1500, help="predictions stored (MNIST test digits)")
parser.add_argument("--parts", type=int, nargs="+", default=[1, 2], help="part counts to time")
parser.add_argument("--keyspace", default="bench_review_parts")
parser.add_argument("--worker", metavar="K/N", help=argparse.SUPPRESS)
report.add_argument(parser)
args = parser.parse_args()

import in_process  # noqa: E402  (bench/in_process.py)

in_process.setup(keyspace=args.keyspace)


from recognizer.ml import mnist  # noqa: E402
from recognizer.ml.runtime import get_classifier  # noqa: E402
from recognizer.preprocessing import to_png  # noqa: E402
from recognizer.review import scoring  # noqa: E402
from recognizer.services import prediction_store  # noqa: E402
from recognizer.storage import cql, writes  # noqa: E402


def worker(part: scoring.Part) -> None:
    """Wait for ``go`` on stdin, score the part to its end, print how many."""
    get_classifier().predict(mnist.to_unit(mnist.load_mnist(mnist.find_data_dir())[1][0][:1]))
    print("ready", flush=True)
    sys.stdin.readline()
    read = 0
    while batch := scoring.score_next(settle=0, part=part):
        read += batch
    print(read, flush=True)


def fill(count: int) -> None:
    images = mnist.to_unit(mnist.load_mnist(mnist.find_data_dir())[1][0][:count])
    probabilities = get_classifier().predict(images)
    now = time.time()

    def write(i: int) -> None:
        png = to_png(images[i])
        prediction_store(source="api", filename=None, content_type="image/png", image=png, input_png=png,
                         probabilities=[float(v) for v in probabilities[i]], model_version="bench", latency_ms=1.0,
                         created=now - 600 * (1 - i / count))

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(write, range(count)))


def unscore(session) -> None:
    """Clear every doubt and checkpoint, so the next run scores all again."""
    rows = list(session.execute(f"SELECT bucket, shard, id FROM {args.keyspace}.predictions_by_bucket"))
    cql.run_concurrently([cql.bind(f"UPDATE {args.keyspace}.predictions_by_bucket SET doubt = null "
                                   "WHERE bucket = ? AND shard = ? AND id = ?", [r["bucket"], r["shard"], r["id"]])
                          for r in rows])
    session.execute(f"TRUNCATE {args.keyspace}.review_pass")


def timed(parts: int) -> tuple[int, float]:
    """Predictions scored by ``parts`` processes, and the wall seconds from go to the last one done."""
    env = {**os.environ, "PYTHONPATH": os.path.dirname(__file__)}
    workers = [subprocess.Popen([sys.executable, __file__, "--keyspace", args.keyspace, "--worker", f"{k}/{parts}"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
               for k in range(1, parts + 1)]
    for process in workers:
        assert process.stdout.readline().strip() == "ready"
    started = time.perf_counter()
    for process in workers:
        process.stdin.write("go\n")
        process.stdin.flush()
    read = sum(int(process.stdout.readline()) for process in workers)
    seconds = time.perf_counter() - started
    for process in workers:
        process.wait()
    return read, seconds


@report.writes_output
def main() -> None:
    session = in_process.fresh_keyspace()
    writes.listed.clear()
    try:
        fill(args.count)
        print(f"stored {args.count:,} predictions over 10 minutes; {os.cpu_count()} CPUs", flush=True)
        for parts in args.parts:
            unscore(session)
            read, seconds = timed(parts)
            print(f"{parts} part(s): {read:,} scored in {seconds:.1f} s: {read / seconds:,.0f} predictions/s "
                  f"({read / seconds / parts:,.0f} a part)", flush=True)
    finally:
        in_process.drop_keyspace()


if __name__ == "__main__":
    if args.worker:
        worker(scoring.Part.parse(args.worker))
    else:
        main()
