"""The cut verifier: a small network that tells whether a model input is ONE well-cut digit.

The digit model reads half a 0 as a confident 1, so its confidence cannot choose where touching digits
are cut. The verifier is trained on the pieces segmentation's candidate cuts make of MNIST training
digits (``pieces``): well-cut digits against halves, digits with a slice of their neighbour, and two or
three digits together. Segmentation weighs every candidate part by P(one digit) × the digit model's
confidence. ``manage.py train_verifier`` makes ``mlmodel/verifier.tflite`` (float32 LiteRT, ~0.2 MB);
``runtime.get_verifier`` serves it.
"""

import os
import time
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import layers  # noqa: E402

from recognizer.ml import mnist  # noqa: E402
from recognizer.ml.export import Trained, to_tflite  # noqa: E402
from recognizer.ml.network import INPUT_SHAPE  # noqa: E402
from recognizer.ml.pieces import pieces  # noqa: E402

VALIDATION_SHARE = 1 / 12  # the last 5,000 MNIST training digits make the held-out pieces, never trained on


@dataclass(frozen=True)
class Options:
    pictures: int = 12_000  # pictures of 1-3 touching digits cut into pieces to train on (~6 pieces each)
    validation_pictures: int = 1_000
    epochs: int = 8
    filters: int = 24  # of the first convolution; twice as many in the others
    batch_size: int = 256
    learning_rate: float = 2e-3
    seed: int = 1


def build(filters: int) -> keras.Model:
    """Three 3×3 convolutions (``filters``, twice, twice as many) with max-pooling, a dense layer of four
    times ``filters``, a sigmoid: P(one digit)."""
    return keras.Sequential([
        keras.Input(shape=INPUT_SHAPE),
        layers.Conv2D(filters, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(2),
        layers.Conv2D(2 * filters, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(2),
        layers.Conv2D(2 * filters, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(4 * filters, activation="relu"),
        layers.Dropout(0.3),
        layers.Dense(1, activation="sigmoid"),
    ], name="cut_verifier")


def train(data_dir: Path | None, options: Options) -> Trained:
    """Make the pieces from MNIST's training digits, fit the verifier (seeded: the same file each run on
    one machine), and convert it to LiteRT."""
    started = time.monotonic()
    (images, _), _ = mnist.load_mnist(data_dir)
    held = len(images) - max(1, round(len(images) * VALIDATION_SHARE))
    fit_x, fit_y = pieces(images[:held], options.pictures, options.seed)
    val_x, val_y = pieces(images[held:], options.validation_pictures, options.seed + 1)
    keras.utils.set_random_seed(options.seed)
    tf.config.experimental.enable_op_determinism()
    model = build(options.filters)
    steps = -(-len(fit_x) // options.batch_size) * options.epochs
    model.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(
        options.learning_rate, steps, alpha=0.02)), loss="binary_crossentropy", metrics=["accuracy"])
    weight = {0: 1.0, 1: float((1 - fit_y.mean()) / max(fit_y.mean(), 1e-6))}  # one digit as heavy as not
    history = model.fit(fit_x[..., None], fit_y, batch_size=options.batch_size, epochs=options.epochs,
                        class_weight=weight, validation_data=(val_x[..., None], val_y), verbose=0)
    predicted = model.predict(val_x[..., None], batch_size=1024, verbose=0)[:, 0] >= 0.5
    truth = val_y.astype(bool)
    return Trained(to_tflite(model, quantize=False), {
        "data": "pieces of touching MNIST training digits (recognizer/ml/pieces.py)",
        "pieces": len(fit_x), "one_digit_share": round(float(fit_y.mean()), 3),
        "validation_pieces": len(val_x),
        "validation_accuracy": round(float((predicted == truth).mean()), 4),
        "validation_one_digit_kept": round(float(predicted[truth].mean()), 4),
        "validation_not_one_rejected": round(float((~predicted[~truth]).mean()), 4),
        "options": vars(options),
        "parameters": model.count_params(),
        "history": {key: [round(float(v), 4) for v in values] for key, values in history.history.items()},
        "seconds": round(time.monotonic() - started, 1),
    })
