"""History and stats page cost at 1,000 and at 100,000 stored predictions.

Fills a separate keyspace (``bench_numberfigure``, dropped at the end) with predictions spread
over the last 30 days, then times, through Django's full request handling, the first history
page, the 50th history page (reached by following "older" cursors) and the stats page.
Prints median milliseconds and the 100k / 1k ratios.

    .venv/bin/python bench/history.py [--sizes 1000 100000] [--threads 16]
"""

import argparse
import html
import random
import re
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import in_process  # bench/in_process.py
import report  # bench/report.py: --output

KEYSPACE = "bench_numberfigure"
in_process.setup(keyspace=KEYSPACE)

from django.conf import settings  # noqa: E402
from django.test import Client  # noqa: E402

from recognizer.services import prediction_store  # noqa: E402

INPUT_PNG = (in_process.ROOT / "tests/preprocessing/images/mnist_7.png").read_bytes()
DAYS = 30
OLDER_LINK = re.compile(r'href="([^"]+)" data-testid="older"')


def fill(count: int, *, threads: int, seed: int) -> None:
    rng = random.Random(seed)
    now = time.time()
    jobs = []
    for _ in range(count):
        digit = rng.randrange(10)
        probabilities = [rng.random() * 0.02 for _ in range(10)]
        probabilities[digit] = 1 - sum(probabilities) + probabilities[digit]
        jobs.append((digit, probabilities, now - rng.random() * DAYS * 86400, rng.choice(("draw", "upload", "api"))))

    def write(job):
        _, probabilities, created, source = job
        prediction_store(source=source, filename=None, content_type="image/png", image=INPUT_PNG,
                          input_png=INPUT_PNG, probabilities=probabilities, model_version="bench",
                          latency_ms=3.0, created=created)

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(write, jobs, chunksize=64))


def timed(client: Client, url: str, runs: int = 7) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(samples)


def deep_page_url(client: Client, page: int = 50) -> tuple[int, str]:
    """The URL of history page ``page`` (or of the last page, when there are fewer)."""
    url, number = "/history", 1
    while number < page and (older := OLDER_LINK.search(client.get(url).content.decode())):
        url, number = "/history" + html.unescape(older[1]), number + 1
    return number, url


def measure(client: Client) -> dict[str, float]:
    number, deep_url = deep_page_url(client)
    return {
        "history page 1": timed(client, "/history"),
        f"history page 50 (got {number})": timed(client, deep_url),
        "history page 1, digit=3": timed(client, "/history?digit=3"),
        "stats": timed(client, "/stats"),
    }


@report.writes_output
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--threads", type=int, default=16)
    report.add_argument(parser)
    args = parser.parse_args()
    settings.NUMBERFIGURE_HISTORY_PUBLIC = True
    settings.ALLOWED_HOSTS = ["*"]
    in_process.fresh_keyspace()
    client = Client()
    results, stored = {}, 0
    try:
        for size in sorted(args.sizes):
            started = time.perf_counter()
            fill(size - stored, threads=args.threads, seed=size)
            stored = size
            print(f"filled to {size:,} predictions in {time.perf_counter() - started:.0f} s", flush=True)
            results[size] = measure(client)
    finally:
        in_process.drop_keyspace()
    small = min(results)
    print(f"\n{'median ms':<32}" + "".join(f"{size:>12,}" for size in results) + f"{'ratio':>9}")
    for position, name in enumerate(results[small]):
        values = [list(results[size].values())[position] for size in results]
        print(f"{name.split(' (')[0]:<32}" + "".join(f"{v:>12.1f}" for v in values) + f"{values[-1] / values[0]:>9.2f}")
    print("page reached per size:", {size: list(results[size])[1] for size in results})


if __name__ == "__main__":
    main()
