"""Where a request's time goes inside a gunicorn worker: decode, preprocess, forward, store, rate limit,
framework.

Starts `make run` with one worker (as bench/api.py does), sends it one request at a time with wrk, and
samples the worker's stacks from outside with py-spy (``--idle``, so time spent waiting for Cassandra
counts as storing). Each sample is put in the first of these, walking from the request inwards:

    decode      recognizer.preprocessing open_image / load_image (Pillow reading the upload)
    preprocess  to_mnist (to MNIST's 28×28 shape), to_png (the stored input), the stored original
    forward     the model (LiteRT)
    store       services.prediction_store (statements, the Cassandra round trip, stats)
    rate limit  the per-client rate check (web.throttle)
    framework   the rest of the request: gunicorn, Django, DRF, JSON, logging, metrics

    .venv/bin/python bench/breakdown.py [--endpoint predict|preview] [--seconds 20]
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import api  # bench/api.py: starting `make run`, the PNG, the wrk script

CATEGORIES = (  # (name, frames that put a sample in it), matched from the request inwards
    ("rate limit", ("check (recognizer/web/throttle.py",)),
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", choices=api.ENDPOINTS, default="predict")
    parser.add_argument("--seconds", type=int, default=20)
    args = parser.parse_args()
    wrk = api.require_wrk()
    py_spy = Path(sys.executable).parent / "py-spy"  # requirements-dev.txt installs it beside Python
    with tempfile.TemporaryDirectory(prefix="bench-breakdown-") as folder:
        work = Path(folder)
        script = api.wrk_scripts(work)[True]
        server = api.start(argparse.Namespace(workers=1, worker_class="sync", threads=None, nginx=False), work)
        try:
            [worker] = server.worker_pids()
            api.load(server, server.port, args.endpoint, 1, 3, script, wrk)  # the model loads, the driver connects
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
            api.drop_keyspace()
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
