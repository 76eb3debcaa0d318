"""Converting a Keras model to the LiteRT flatbuffer the web process serves, quietly."""

import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import keras
import tensorflow as tf

from recognizer.ml import TrainingError


def to_tflite(model: keras.Model, *, quantize: bool = True) -> bytes:
    """Convert to a LiteRT flatbuffer (dynamic batch dimension, weights as constants).

    Served with its weights quantized to int8 (dynamic range: activations stay float): the 12.8 MB
    dense layer otherwise comes from memory on every request, as other work pushes it out of the
    CPU cache. A quarter of the bytes makes a prediction ~3x faster there, for the same accuracy
    within evaluation.LITERT_TOLERANCE (checked before a model is installed).
    """
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if quantize:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    with silenced() as log:
        try:
            return converter.convert()
        except Exception as exc:  # the converter raises many kinds; its log says why
            log.seek(0)
            raise TrainingError(f"converting to LiteRT failed: {exc}\n{log.read()[-4000:]}") from exc


@dataclass(frozen=True)
class Trained:
    """One of segmentation's networks (the cut verifier, the string reader), trained and converted."""

    tflite: bytes
    summary: dict  # what its .json says: data, options, held-out figures, seconds


def save_with_summary(tflite: bytes, summary: dict, path: Path) -> None:
    """A segmentation model's LiteRT file, and beside it (same name, .json) how it was made; each file is
    replaced whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for target, content in ((path.with_suffix(".json"), json.dumps(summary, indent=2).encode()), (path, tflite)):
        staged = target.with_name(f".{target.name}.incoming")
        staged.write_bytes(content)
        os.replace(staged, target)


@contextlib.contextmanager
def silenced() -> Iterator:
    """Send everything written to stdout and stderr meanwhile, by Python or by TensorFlow's C++ code
    (dozens of TensorSpec lines, "Saved artifact", absl warnings), to a log file yielded for errors."""
    with tempfile.TemporaryFile("w+") as log:
        sys.stdout.flush()
        sys.stderr.flush()
        saved = os.dup(1), os.dup(2)
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
                yield log
        finally:
            log.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
