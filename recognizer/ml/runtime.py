"""Serving path: the LiteRT model, loaded once per process. Imports numpy and LiteRT only, never TensorFlow.

`get_classifier()` is what the web code calls: it caches one Classifier per model folder and swaps in a
new one when `manage.py train` installs a new model (checked at most once per second). The card names
the SHA-256 of its model file: a model and a card from different installs (one replaced, the other not
yet) are never served together, and the old model keeps serving until both are in place.
"""

import functools
import hashlib
import json
import logging
import queue
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter

MODEL_FILE, CARD_FILE = "model.tflite", "card.json"
VERIFIER_PATH = Path(__file__).resolve().parents[2] / "mlmodel" / "verifier.tflite"  # ml.verifier: one digit?
STRINGS_PATH = VERIFIER_PATH.with_name("strings.tflite")  # ml.strings: a run of touching digits read whole
BLANK = 10  # the string reader's eleventh answer: no digit at this column
RELOAD_CHECK_SECONDS = 1.0
# One XNNPACK thread: the server's parallelism is its worker processes. A second thread cut the batch-1
# latency of a lone process by ~20% (bench/runtimes.py), but cost ~35% more CPU per call, which under
# load (every core busy with workers) is time taken from other requests (bench/api.py, docs/performance.md).
THREADS = 1

logger = logging.getLogger(__name__)


class ModelMismatch(ValueError):
    """model.tflite is not the file card.json describes (an install in progress)."""


class Classifier:
    """Predicts digit probabilities for batches of 28x28 images in [0, 1], white ink on black.

    Concurrent calls each take an interpreter of their own from a pool (one interpreter's tensors
    must not be shared), so they neither block nor corrupt each other. The pool is last in, first
    out: one request at a time always gets the same interpreter, whose packed weights are then still
    in the CPU cache; one per thread (as before) was measurably slower at low load.
    """

    def __init__(self, model_path: str | Path, version: str = "unversioned", num_threads: int = THREADS,
                 content: bytes | None = None) -> None:
        self.model_path = Path(model_path)
        self.version = version
        self._content = self.model_path.read_bytes() if content is None else content
        self._num_threads = num_threads
        self._idle: queue.LifoQueue[_Slot] = queue.LifoQueue()
        self._idle.put(self._new_slot())  # fail now, not on the first request, if the file is not a model

    @classmethod
    def from_dir(cls, model_dir: str | Path, num_threads: int = THREADS) -> "Classifier":
        model_dir = Path(model_dir)
        card = json.loads((model_dir / CARD_FILE).read_text())
        content = (model_dir / MODEL_FILE).read_bytes()
        expected = card.get("files", {}).get(MODEL_FILE)
        if expected and hashlib.sha256(content).hexdigest() != expected:
            raise ModelMismatch(f"{model_dir / MODEL_FILE} is not the model {model_dir / CARD_FILE} describes")
        return cls(model_dir / MODEL_FILE, card["version"], num_threads, content)

    def _new_slot(self) -> "_Slot":
        return _Slot(Interpreter(model_content=self._content, num_threads=self._num_threads))

    @contextmanager
    def _slot(self) -> Iterator["_Slot"]:
        try:
            slot = self._idle.get_nowait()
        except queue.Empty:  # every interpreter is busy: this call gets a new one, kept afterwards
            slot = self._new_slot()
        try:
            yield slot
        finally:
            self._idle.put(slot)

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """(N, 28, 28) float32 in [0, 1] -> (N, 10) probabilities."""
        batch = np.asarray(batch, dtype=np.float32)
        if batch.ndim != 3 or batch.shape[1:] != (28, 28):
            raise ValueError(f"expected images of shape (N, 28, 28), got {batch.shape}")
        if not len(batch):
            return np.empty((0, 10), np.float32)
        return self.run(batch[..., None])

    def run(self, batch: np.ndarray) -> np.ndarray:
        """The network's output for ``batch`` as it is (the interpreter is resized to its shape)."""
        shape = batch.shape
        with self._slot() as slot:
            if slot.shape != shape:
                slot.interpreter.resize_tensor_input(slot.input, shape)
                slot.interpreter.allocate_tensors()
                slot.shape = shape
            slot.interpreter.set_tensor(slot.input, np.ascontiguousarray(batch, dtype=np.float32))
            slot.interpreter.invoke()
            return slot.interpreter.get_tensor(slot.output).copy()


class _Slot:
    """One interpreter, its tensor indices and the batch shape it is currently sized for."""

    def __init__(self, interpreter: Interpreter) -> None:
        interpreter.allocate_tensors()
        self.interpreter = interpreter
        self.input = interpreter.get_input_details()[0]["index"]
        self.output = interpreter.get_output_details()[0]["index"]
        self.shape = tuple(interpreter.get_input_details()[0]["shape"])


def _stamp(model_dir: Path) -> tuple:
    return tuple((s.st_mtime_ns, s.st_size) for s in (Path(model_dir, n).stat() for n in (MODEL_FILE, CARD_FILE)))


_lock = threading.Lock()
_cache: dict[Path, tuple[Classifier, tuple, float]] = {}


def _default_model_dir() -> Path:
    from django.conf import settings

    return Path(settings.NUMBERFIGURE_MODEL_DIR)


def get_classifier(model_dir: str | Path | None = None) -> Classifier:
    """The process-wide Classifier for model_dir (default: settings.NUMBERFIGURE_MODEL_DIR).

    Reloads when model.tflite or card.json changed. If the new files cannot be loaded (an install in
    progress, or anything else wrong with them), it keeps serving the previous model, logs why, and
    tries again on a later call; only the very first load may fail.
    """
    model_dir = Path(model_dir or _default_model_dir())  # resolved only when checked: 0.08-0.2 ms a request
    now = time.monotonic()
    with _lock:
        entry = _cache.get(model_dir)
        if entry and now - entry[2] < RELOAD_CHECK_SECONDS:
            return entry[0]
        try:
            resolved = model_dir.resolve()
            stamp = _stamp(resolved)
            classifier = entry[0] if entry and entry[1] == stamp else Classifier.from_dir(resolved)
        except Exception as error:
            if entry is None:
                raise
            logger.warning("Model in %s not loaded (%s: %s); still serving %s", model_dir, type(error).__name__,
                           error, entry[0].version)
            _cache[model_dir] = (entry[0], entry[1], now)
            return entry[0]
        _cache[model_dir] = (classifier, stamp, now)
        return classifier


@functools.cache
def get_verifier(path: Path = VERIFIER_PATH) -> Classifier:
    """The cut verifier (``ml.verifier``), loaded once per process: (N, 28, 28) -> (N, 1) P(one digit).
    It belongs to segmentation, not to a model version: promoting or retraining the digit model keeps it."""
    return Classifier(path, "cut-verifier")


def decode(frames: np.ndarray) -> list[tuple[int, int, np.ndarray]]:
    """Greedy CTC decoding of (columns, 11) answers: per digit read, (digit, the column where it is surest,
    its ten probabilities there, renormalised without BLANK)."""
    best = frames.argmax(axis=1)
    digits, start = [], 0
    for column in range(1, len(best) + 1):
        if column == len(best) or best[column] != best[start]:
            if best[start] != BLANK:
                surest = start + int(frames[start:column, best[start]].argmax())
                ten = frames[surest, :BLANK]
                digits.append((int(best[start]), surest, ten / max(float(ten.sum()), 1e-9)))
            start = column
    return digits


@functools.cache
def get_string_reader(path: Path = STRINGS_PATH) -> Classifier:
    """The string reader (``ml.strings``), loaded once per process: (1, 24, W, 1) ``string_input`` ->
    (1, 1, W / 2, 11); ``decode`` reads its digits. Like the verifier, it belongs to segmentation."""
    return Classifier(path, "string-reader")
