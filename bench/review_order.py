"""How well the review queue finds the model's mistakes, and what scoring costs, on real digits.

Stores, as bench/history.py does (spread over the last 30 days, random sources), predictions of
digits whose true label is known: the MNIST test set and the 1,797 non-MNIST UCI digits
(``ml.handwriting``), answered by the serving model. Then:

* the cost of a doubt (``ml.doubt``) computed when storing (one prediction's copies per forward
  call, in the request) against the scoring pass (``review.scoring``: batches of 256 read back from
  Cassandra, their copies in one forward call, the doubts and queue entries written), in CPU ms of
  this process per prediction, and what the design rate (1,000 predictions/s) would take in cores;
* the share of the wrong predictions that the first 5 % of the stored predictions hold, in the
  queue's order (read from Cassandra), newest first (the history) and in random order.

    .venv/bin/python bench/review_order.py [--mnist 10000] [--threads 16]

Writes in a keyspace of its own (``bench_review``, dropped at the end).
"""

import argparse
import math
import random
import time
from concurrent.futures import ThreadPoolExecutor

import in_process  # bench/in_process.py
import report  # bench/report.py: --output

KEYSPACE = "bench_review"
in_process.setup(keyspace=KEYSPACE)

import numpy as np  # noqa: E402

from recognizer.ml import doubt, handwriting, mnist  # noqa: E402
from recognizer.ml.runtime import get_classifier  # noqa: E402
from recognizer.preprocessing import to_png  # noqa: E402
from recognizer.review import scoring  # noqa: E402
from recognizer.selectors import prediction_list  # noqa: E402
from recognizer.services import prediction_store  # noqa: E402
from recognizer.storage import review, writes  # noqa: E402

DAYS = 30
SHARE = 0.05
DESIGN_RATE = 1000


def digits(count: int) -> tuple[np.ndarray, np.ndarray]:
    images, labels = mnist.load_mnist(mnist.find_data_dir())[1]
    other, other_labels = handwriting.inputs()
    return (np.concatenate([mnist.to_unit(images[:count]), other]),
            np.concatenate([labels[:count], other_labels]).astype(int))


def fill(inputs: np.ndarray, probabilities: np.ndarray, *, threads: int, seconds: float) -> list:
    rng, now = random.Random(1), time.time()
    jobs = [(x, p, now - rng.random() * seconds, rng.choice(("draw", "upload", "api")))
            for x, p in zip(inputs, probabilities, strict=True)]

    def write(job):
        x, p, created, source = job
        png = to_png(x)
        return prediction_store(source=source, filename=None, content_type="image/png", image=png, input_png=png,
                                probabilities=[float(v) for v in p], model_version="bench", latency_ms=1.0,
                                created=created).id

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(write, jobs, chunksize=64))


def cpu_ms_per(prediction_count: int, work) -> float:
    started = time.process_time()
    work()
    return (time.process_time() - started) * 1000 / prediction_count


def share(order: list, wrong: set, first: int) -> float:
    return len(wrong & set(order[:first])) / len(wrong)


@report.writes_output
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mnist", type=int, default=10_000, help="MNIST test digits to store (and all UCI ones)")
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--shuffles", type=int, default=200, help="random orders averaged")
    report.add_argument(parser)
    args = parser.parse_args()
    in_process.fresh_keyspace()
    try:
        inputs, labels = digits(args.mnist)
        classifier = get_classifier()
        probabilities = classifier.predict(inputs)
        costs(inputs, probabilities, classifier, threads=args.threads)
        in_process.fresh_keyspace()
        writes.listed.clear()  # the lists this process wrote went with the keyspace
        stored = fill(inputs, probabilities, threads=args.threads, seconds=DAYS * 86400)
        print(f"\nstored {len(stored):,} predictions over {DAYS} days "
              f"({int((probabilities.argmax(1) != labels).sum())} wrong)", flush=True)
        wrong = {pid for pid, p, y in zip(stored, probabilities, labels, strict=True) if p.argmax() != y}
        while scoring.score_next(settle=0):
            pass
        first = math.ceil(SHARE * len(stored))
        queue = [entry.id for entry in review.read(limit=first)]
        rows = prediction_list(limit=first)
        newest = [row.id for row in rows]
        rng = random.Random(2)
        shuffles = [share(rng.sample(stored, len(stored)), wrong, first) for _ in range(args.shuffles)]
        queued = [row.doubt for row in scoring_rows(stored)]
        bands = np.bincount([review.band_of(d) for d in queued if d >= review.QUEUE_FROM], minlength=review.BANDS)
        print(f"\nshare of the {len(wrong)} wrong predictions in the first 5 % ({first:,} of {len(stored):,}):")
        print(f"  review queue (doubt bands, newest hour first): {share(queue, wrong, first):6.1%}"
              f"   (the queue holds {sum(bands):,}: {sum(bands) / len(stored):.1%} of the predictions)")
        print(f"  newest first (the history):                    {share(newest, wrong, first):6.1%}")
        print(f"  random (mean of {args.shuffles}):                        {np.mean(shuffles):6.1%}")
        busiest = bands.max() / len(stored)
        print(f"\nbusiest band: {busiest:.2%} of predictions: at {DESIGN_RATE:,}/s an hour partition of it holds "
              f"{busiest * DESIGN_RATE * 3600:,.0f} entries")
    finally:
        in_process.drop_keyspace()


def costs(inputs: np.ndarray, probabilities: np.ndarray, classifier, *, threads: int) -> None:
    """CPU of this process per prediction: the doubt in the request against the pass, on predictions
    stored as densely as the design rate stores them (the last ten minutes: full partitions)."""
    stored = fill(inputs, probabilities, threads=threads, seconds=600)
    sample = min(1000, len(inputs))
    at_store = cpu_ms_per(sample, lambda: [doubt.doubts_of(classifier, probabilities[i:i + 1], inputs[i:i + 1])
                                           for i in range(sample)])
    started = time.perf_counter()
    in_pass = cpu_ms_per(len(stored), lambda: [None for _ in iter(lambda: scoring.score_next(settle=0), 0)])
    wall = (time.perf_counter() - started) * 1000 / len(stored)
    print(f"\ndoubt when storing: {at_store:.2f} CPU ms a prediction, in the request "
          f"({at_store * DESIGN_RATE / 1000:.2f} cores at {DESIGN_RATE:,}/s)")
    print(f"scoring pass:       {in_pass:.2f} CPU ms a prediction, its reads and writes included "
          f"({in_pass * DESIGN_RATE / 1000:.2f} cores at {DESIGN_RATE:,}/s; {wall:.2f} ms wall), outside requests")


def scoring_rows(stored: list) -> list:
    """The stored rows, with their doubts, read back through the history (newest first)."""
    rows, before = [], None
    while page := prediction_list(before=before, limit=500):
        rows += page
        before = page[-1].id
    assert len(rows) == len(stored)
    return rows


if __name__ == "__main__":
    main()
