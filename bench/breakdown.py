"""Where a request's time goes inside a gunicorn worker: decode, preprocess, forward, store, rate limit,
framework.

Starts `make run` with one worker (as bench/api.py does), sends it one request at a time with wrk, and
samples the worker's stacks from outside with py-spy (``--idle``, so time spent waiting for Cassandra
counts as storing). Each sample is put in the first of these, walking from the request inwards:

    decode      recognizer.preprocessing open_image / load_image (Pillow reading the upload)
    preprocess  to_mnist (to MNIST's 28×28 shape), to_png (the stored input), the stored original
    forward     the model (LiteRT)
    store       services.prediction_store (statements, the Cassandra round trip, stats)
    rate limit  the per-client rate check (web.rates)
    framework   the rest of the request: gunicorn, Django, DRF, JSON, logging, metrics

    .venv/bin/python bench/breakdown.py [--endpoint predict|preview] [--seconds 20] [--keyspace NAME]

``--in-process`` times the same steps without a server, with a clock in this process: decode, to_mnist
and to_png of the draw page's own uploads (bench/canvases.py: the 50 browser digits, 280×280 RGBA),
``--runs`` times each in turn per round, and prints each step's median per round and over the rounds.

    .venv/bin/python bench/breakdown.py --in-process [--runs 1000] [--rounds 3]
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from types import ModuleType

import api  # bench/api.py: starting `make run`, the PNG, the wrk script
import canvases
import report  # bench/report.py: --output

STEPS = ("decode", "to_mnist", "to_png", "whole")

CATEGORIES = (  # (name, frames that put a sample in it), matched from the request inwards
    ("rate limit", ("check (recognizer/web/rates.py",)),
    ("store", ("prediction_store (recognizer/services.py",)),
    ("decode", ("open_image (recognizer/preprocessing.py", "load_image (recognizer/preprocessing.py")),
    ("preprocess", ("to_mnist (recognizer/preprocessing.py", "to_png (recognizer/preprocessing.py",
                    "stored (recognizer/originals.py", "Described.of (recognizer/originals.py")),
    ("forward", ("Classifier.predict (recognizer/ml/runtime.py",)),
)
IN_REQUEST = "SyncWorker.handle_request (gunicorn/workers/sync.py"


def category(frames: list[str]) -> str:
    for frame in frames:
        for name, markers in CATEGORIES:
            if frame.startswith(markers):
                return name
    return "framework"


def in_process(runs: int, preprocessing: ModuleType | None = None) -> dict[str, float]:
    """Median milliseconds of each step (and of the whole) over ``runs`` uploads of the draw page, read by
    ``preprocessing`` (default: recognizer.preprocessing; bench/preprocessing_versions.py passes an older one)."""
    if preprocessing is None:
        sys.path.insert(0, str(api.ROOT))
        from recognizer import preprocessing
    uploads = [png for _, png in canvases.browser_canvases()]
    times = {step: [] for step in STEPS}
    for run in range(runs + 20):  # 20 to warm up
        data = uploads[run % len(uploads)]
        start = time.perf_counter()
        image = preprocessing.load_image(preprocessing.open_image(data, max_pixels=10**6))
        decoded = time.perf_counter()
        array = preprocessing.to_mnist(image)
        preprocessed = time.perf_counter()
        preprocessing.to_png(array)
        end = time.perf_counter()
        if run >= 20:
            for step, seconds in zip(STEPS, (decoded - start, preprocessed - decoded, end - preprocessed, end - start),
                                     strict=True):
                times[step].append(seconds * 1000)
    return {step: statistics.median(values) for step, values in times.items()}


def report_in_process(runs: int, rounds: int, versions: dict[str, ModuleType | None] | None = None) -> None:
    """Each version's step medians per round and the median of the rounds; versions take turns each round."""
    versions = versions or {"current": None}
    medians = {name: [] for name in versions}
    for _ in range(rounds):
        for name, module in versions.items():
            medians[name].append(in_process(runs, module))
    print(f"In-process, the draw page's 280×280 RGBA canvas PNG (50 browser digits in turn), {runs} runs a round; "
          "median ms:")
    print(f"  {'round':<16}" + "".join(f"{step:>10}" for step in STEPS))
    for name, rows in medians.items():
        for number, figures in enumerate(rows, 1):
            print(f"  {f'{name} {number}':<16}" + "".join(f"{figures[step]:10.3f}" for step in STEPS))
        print(f"  {f'{name} median':<16}" + "".join(f"{statistics.median(m[step] for m in rows):10.3f}"
                                                   for step in STEPS))


@report.writes_output
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", choices=api.ENDPOINTS, default="predict")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--keyspace", default=api.KEYSPACE, help="Cassandra keyspace to fill (dropped at the end)")
    parser.add_argument("--in-process", action="store_true", help="time the steps in this process, no server")
    parser.add_argument("--runs", type=int, default=1000, help="with --in-process: runs a round")
    parser.add_argument("--rounds", type=int, default=3, help="with --in-process")
    report.add_argument(parser)
    args = parser.parse_args()
    if args.in_process:
        report_in_process(args.runs, args.rounds)
        return
    wrk = api.require_wrk()
    py_spy = Path(sys.executable).parent / "py-spy"  # requirements-dev.txt installs it beside Python
    with tempfile.TemporaryDirectory(prefix="bench-breakdown-") as folder:
        work = Path(folder)
        scripts = api.wrk_scripts(work)
        server = api.start(argparse.Namespace(workers=1, worker_class="sync", threads=None, nginx=False,
                                              keyspace=args.keyspace), work)
        try:
            [worker] = server.worker_pids()
            api.load(server, server.port, args.endpoint, 1, 3, scripts, True, wrk)  # the model loads, it connects
            script = scripts[args.endpoint, True]
            load = subprocess.Popen([wrk, "-t1", "-c1", f"-d{args.seconds + 2}s", "-s", str(script),
                                     f"http://127.0.0.1:{server.port}/api/{args.endpoint}"],
                                    stdout=subprocess.PIPE, text=True)
            time.sleep(1)
            subprocess.run([py_spy, "record", "--pid", str(worker), "--duration", str(args.seconds), "--rate", "250",
                            "--idle", "--nonblocking", "--format", "raw", "--output", str(work / "stacks.txt")],
                           check=True, capture_output=True)
            figures = json.loads(load.communicate()[0].strip().splitlines()[-1])
        finally:
            server.stop()
            api.drop_keyspace(args.keyspace)
        samples = Counter()
        for line in (work / "stacks.txt").read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            frames = stack.split(";")
            if any(frame.startswith(IN_REQUEST) for frame in frames):
                samples[category(frames)] += int(count)
    per_request = figures["seconds"] * 1000 / figures["requests"]
    total = sum(samples.values())
    if not total:
        raise SystemExit("py-spy saw no request in the worker")
    print(f"POST /api/{args.endpoint}, one request at a time to one sync worker: {per_request:.2f} ms a request "
          f"(p50 {figures['p50_ms']:.2f} ms), {total:,} samples of the worker inside a request")
    for name in [name for name, _ in CATEGORIES] + ["framework"]:
        share = samples[name] / total
        print(f"  {name:<11} {share:6.1%}  {share * per_request:5.2f} ms")


if __name__ == "__main__":
    main()
