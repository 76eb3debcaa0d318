"""Latency and agreement of each way to run the model: Keras, tf.function, LiteRT.

    python bench/runtimes.py [--model-dir mlmodel] [--data ../shared/mnist] [--runs 200]

Runs are interleaved (one call of each runtime in turn) so background load hits all runtimes alike.
The web process serves with LiteRT (recognizer.ml.runtime) and int8 weights; this shows it is the
fastest at batch 1 and predicts what the Keras model predicts.
"""

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import report  # bench/report.py: --output

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from recognizer.ml import runtime  # noqa: E402
from recognizer.ml.accuracy import score  # noqa: E402
from recognizer.ml.export import to_tflite  # noqa: E402
from recognizer.ml.mnist import find_data_dir, load_mnist, to_unit  # noqa: E402

Runtime = Callable[[np.ndarray], np.ndarray]  # (N, 28, 28) float32 -> (N, 10) probabilities


def litert_name(weights: str, threads: int) -> str:
    return f"LiteRT {weights}, {threads} thr"


SERVED = litert_name("int8", runtime.THREADS)


def runtimes(model_dir: Path, scratch: Path) -> dict[str, Runtime]:
    """Every runtime; LiteRT both with the shipped int8-weight file and with a float32 conversion."""
    model = keras.saving.load_model(model_dir / "model.keras", compile=False)
    spec = [tf.TensorSpec((None, 28, 28, 1), tf.float32)]
    graph = tf.function(lambda x: model(x, training=False), input_signature=spec)
    xla = tf.function(lambda x: model(x, training=False), input_signature=spec, jit_compile=True)
    (scratch / "float32.tflite").write_bytes(to_tflite(model, quantize=False))
    files = {"float32": scratch / "float32.tflite", "int8": model_dir / "model.tflite"}
    lite = {litert_name(weights, n): runtime.Classifier(path, num_threads=n).predict
            for weights, path in files.items() for n in (1, 2)}
    return {
        "Keras model(x)": lambda x: model(x[..., None], training=False).numpy(),
        "Keras model.predict": lambda x: model.predict(x[..., None], verbose=0),
        "tf.function": lambda x: graph(x[..., None]).numpy(),
        "tf.function, XLA": lambda x: xla(x[..., None]).numpy(),
        **lite,
    }


def latencies(funcs: dict[str, Runtime], images: np.ndarray, batch: int, runs: int) -> dict[str, np.ndarray]:
    """Milliseconds per call, `runs` calls of each runtime, interleaved, after a warm-up."""
    times = {name: [] for name in funcs}
    for i in range(runs + 10):
        x = images[(i * batch) % (len(images) - batch):][:batch]
        for name, func in funcs.items():
            start = time.perf_counter()
            func(x)
            if i >= 10:
                times[name].append((time.perf_counter() - start) * 1000)
    return {name: np.array(t) for name, t in times.items()}


@report.writes_output
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, default=Path(__file__).resolve().parents[1] / "mlmodel")
    parser.add_argument("--data", help="MNIST folder (default: $MNIST_DIR, then ../shared/mnist)")
    parser.add_argument("--runs", type=int, default=200)
    report.add_argument(parser)
    args = parser.parse_args()

    _, (x_test, y_test) = load_mnist(find_data_dir(args.data))
    images = to_unit(x_test)
    with tempfile.TemporaryDirectory() as scratch:
        funcs = runtimes(args.model_dir, Path(scratch))
    timings = {batch: latencies(funcs, images, batch, args.runs) for batch in (1, 32)}
    probs = {name: np.concatenate([f(images[i : i + 500]) for i in range(0, len(images), 500)])
             for name, f in funcs.items()}
    reference = probs["Keras model(x)"]

    print(f"{len(images):,} test images, {args.runs} timed calls per cell, {os.cpu_count()} CPUs\n")
    print(f"{'runtime':22} {'batch 1 median':>14} {'p99':>8} {'batch 32 median':>16} {'p99':>8}"
          f" {'accuracy':>9} {'same digit':>11} {'max |dp|':>9}")
    for name in funcs:
        b1, b32, p = timings[1][name], timings[32][name], probs[name]
        print(f"{name + (' *' if name == SERVED else ''):22} {np.median(b1):11.3f} ms {np.percentile(b1, 99):8.3f}"
              f" {np.median(b32):13.3f} ms {np.percentile(b32, 99):8.3f}"
              f" {score(p, y_test).accuracy:9.2%} {(p.argmax(1) == reference.argmax(1)).mean():11.2%}"
              f" {np.abs(p - reference).max():9.1e}")
    fastest = min(funcs, key=lambda name: np.median(timings[1][name]))
    ratio = np.median(timings[1][SERVED]) / np.median(timings[1][fastest])
    print(f"\n* served by the web process. Batch-1 median: {ratio:.2f}x the fastest ({fastest}).")
    print("same digit and max |dp|: against Keras model(x) on every test image.")


if __name__ == "__main__":
    main()
