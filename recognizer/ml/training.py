"""Training, evaluation, model card and installation of the mnist_deep model.

Produces a model directory holding model.keras (weights, no optimizer state), model.tflite (what the
web process serves through LiteRT), card.json and two PNG pictures. Needs TensorFlow/Keras.
"""

import hashlib
import json
import math
import os
import re
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from recognizer.ml import mnist  # noqa: E402
from recognizer.ml.network import INPUT_SHAPE, NUM_CLASSES, build_model  # noqa: E402

ARTIFACTS = ("model.keras", "model.tflite", "card.json", "training_curves.png", "confusion_matrix.png")
LITERT_TOLERANCE = 0.0005  # LiteRT must match Keras' test accuracy within 0.05 points.


class TrainingError(Exception):
    """A model file or model directory that cannot be used."""


@dataclass(frozen=True)
class Options:
    epochs: int = 20
    batch_size: int = 128
    seed: int | None = None
    augment: bool = True
    limit: int | None = None
    learning_rate: float = 1e-3
    dropout: float = 0.5


# --- augmentation ---------------------------------------------------------------------------------
# Drawn digits are off-centre, tilted, bigger or smaller, and drawn with a thicker or thinner pen than
# MNIST's. One random affine warp per image (shift, rotation, zoom) plus a random stroke-width change
# teaches the model those variations. It runs on whole batches in the tf.data pipeline, with
# stateless random ops so a seed reproduces it, and is never part of the saved model.

SHIFT_PX, ROTATE_DEG, ZOOM = 2.5, 10.0, 0.10


def _affine(batch: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    n = tf.shape(batch)[0]
    u = tf.random.stateless_uniform([n, 4], seed, -1.0, 1.0)
    angle, scale = u[:, 0] * math.radians(ROTATE_DEG), 1.0 + u[:, 1] * ZOOM
    tx, ty = u[:, 2] * SHIFT_PX, u[:, 3] * SHIFT_PX
    # The transform maps output pixel (x, y) to the input pixel it samples, rotating and scaling about
    # the image centre c: in = A (out - c - t) + c, with A = R(angle) / scale.
    c = (INPUT_SHAPE[0] - 1) / 2
    a00, a01 = tf.cos(angle) / scale, tf.sin(angle) / scale
    a10, a11 = -a01, a00
    transform = tf.stack(
        [a00, a01, c - a00 * (c + tx) - a01 * (c + ty), a10, a11, c - a10 * (c + tx) - a11 * (c + ty)]
        + [tf.zeros([n])] * 2,
        axis=1,
    )
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=batch, transforms=transform, output_shape=tf.shape(batch)[1:3],
        fill_value=0.0, interpolation="BILINEAR", fill_mode="CONSTANT",
    )


def _stroke(batch: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    # Grey-level dilation/erosion with a 2x2 window, blended in by a random amount: half the images keep
    # their pen, the others get up to about one pixel thicker or thinner strokes.
    n = tf.shape(batch)[0]
    t = tf.random.stateless_uniform([n, 1, 1, 1], seed, -1.0, 1.0)
    t = tf.where(tf.abs(t) < 0.5, 0.0, (tf.abs(t) - 0.5) * 2.0 * tf.sign(t))
    thick = tf.nn.max_pool2d(batch, 2, 1, "SAME")
    thin = -tf.nn.max_pool2d(-batch, 2, 1, "SAME")
    return batch + tf.maximum(t, 0.0) * (thick - batch) + tf.maximum(-t, 0.0) * (thin - batch)


def augment(batch: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """Randomly warp and re-stroke a batch of (N, 28, 28, 1) images in [0, 1]; seed is a [2] int tensor."""
    seeds = tf.random.experimental.stateless_split(seed, 2)
    return tf.clip_by_value(_stroke(_affine(batch, seeds[0]), seeds[1]), 0.0, 1.0)


def to_input(images: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) MNIST images to the network's float32 (N, 28, 28, 1) input in [0, 1]."""
    return (images.astype(np.float32) / 255.0)[..., np.newaxis]


def _dataset(x: np.ndarray, y: np.ndarray, options: Options, seed: int) -> tf.data.Dataset:
    ds = tf.data.Dataset.from_tensor_slices((to_input(x), y.astype(np.int32)))
    ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True).repeat()
    ds = ds.batch(options.batch_size, drop_remainder=False)
    if options.augment:
        ds = ds.enumerate().map(
            lambda i, xy: (augment(xy[0], tf.stack([tf.constant(seed, tf.int64), i])), xy[1]),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    return ds.prefetch(tf.data.AUTOTUNE)


# --- training and evaluation ----------------------------------------------------------------------


def train(
    train_data: mnist.Split, test_data: mnist.Split, options: Options
) -> tuple[keras.Model, dict[str, list[float]], float]:
    """Fit mnist_deep; returns (model, per-epoch history, seconds). The test split is only monitored."""
    seed = options.seed if options.seed is not None else int.from_bytes(os.urandom(4))
    keras.utils.set_random_seed(seed)
    if options.seed is not None:
        tf.config.experimental.enable_op_determinism()
    x, y = train_data
    if options.limit:
        x, y = x[: options.limit], y[: options.limit]
    steps = math.ceil(len(x) / options.batch_size)
    model = build_model(options.dropout)
    schedule = keras.optimizers.schedules.CosineDecay(options.learning_rate, steps * options.epochs, alpha=0.01)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    started = time.monotonic()
    history = model.fit(
        _dataset(x, y, options, seed),
        epochs=options.epochs,
        steps_per_epoch=steps,
        validation_data=(to_input(test_data[0]), test_data[1].astype(np.int32)),
        validation_batch_size=1000,
        shuffle=False,  # the dataset shuffles itself
        verbose=1 if sys.stdout.isatty() else 2,
    )
    return model, {k: [float(v) for v in vs] for k, vs in history.history.items()}, time.monotonic() - started


def evaluate(probabilities: np.ndarray, labels: np.ndarray) -> dict:
    """Test accuracy, per-digit accuracy and the confusion matrix (rows: true digit, columns: predicted)."""
    predicted = probabilities.argmax(axis=1)
    confusion = np.zeros((NUM_CLASSES, NUM_CLASSES), dtype=int)
    np.add.at(confusion, (labels, predicted), 1)
    per_digit = confusion.diagonal() / np.maximum(confusion.sum(axis=1), 1)
    return {
        "test_accuracy": round(float((predicted == labels).mean()), 6),
        "per_digit_accuracy": {str(d): round(float(a), 6) for d, a in enumerate(per_digit)},
        "confusion_matrix": confusion.tolist(),
    }


# --- export, model card and installation ----------------------------------------------------------


def to_tflite(model: keras.Model, *, quantize: bool = True) -> bytes:
    """Convert to a LiteRT flatbuffer (dynamic batch dimension, weights as constants).

    Served with its weights quantized to int8 (dynamic range: activations stay float): the 12.8 MB
    dense layer otherwise comes from memory on every request, as other work pushes it out of the
    CPU cache. A quarter of the bytes makes a prediction ~3x faster there, for the same accuracy
    within LITERT_TOLERANCE (checked by ``export``).
    """
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if quantize:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    return converter.convert()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _to_json(card: dict) -> str:
    """Indented JSON with lists of numbers kept on one line, so the confusion matrix reads as a table."""
    text = json.dumps(card, indent=2)
    return re.sub(r"\[[-+.\deE,\s]+\]", lambda m: json.dumps(json.loads(m.group())), text) + "\n"


def _plot_curves(history: dict[str, list[float]], path: Path) -> None:
    import matplotlib.pyplot as plt

    epochs = range(1, len(history["loss"]) + 1)
    error = {key: [1.0 - a for a in history[key]] for key in ("accuracy", "val_accuracy")}
    fig, (loss_ax, error_ax) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    for ax, train_values, test_values, title in (
        (loss_ax, history["loss"], history["val_loss"], "loss (cross-entropy)"),
        (error_ax, error["accuracy"], error["val_accuracy"], "error rate (1 - accuracy)"),
    ):
        ax.plot(epochs, train_values, "o-", label="training images (augmented)")
        ax.plot(epochs, test_values, "o-", label="test images (monitored, not used)")
        ax.set(xlabel="epoch", yscale="log", title=title)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(alpha=0.3, which="both")
        ax.legend()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _plot_confusion(confusion: list[list[int]], accuracy: float, path: Path) -> None:
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    matrix = np.array(confusion)
    fig, ax = plt.subplots(figsize=(7, 6), layout="constrained")
    image = ax.imshow(np.maximum(matrix, 0.5), cmap="Blues", norm=LogNorm(vmin=0.5, vmax=matrix.max()))
    for (true, pred), count in np.ndenumerate(matrix):
        if count:
            ax.text(pred, true, count, ha="center", va="center", fontsize=8,
                    color="white" if true == pred else "black")
    ax.set(xticks=range(NUM_CLASSES), yticks=range(NUM_CLASSES), xlabel="predicted digit", ylabel="true digit",
           title=f"Confusion matrix on the 10,000 test images (accuracy {accuracy:.2%})")
    fig.colorbar(image, ax=ax, label="images (log scale)")
    fig.savefig(path, dpi=100)
    plt.close(fig)


def export(model: keras.Model, out_dir: Path, test_data: mnist.Split, details: dict) -> dict:
    """Write model.keras, model.tflite, card.json and pictures into out_dir; returns the card.

    Everything is built and checked in a temporary folder first, then moved in with os.replace (card
    last), so a serving process never sees a half-written model.
    """
    from recognizer.ml.runtime import Classifier

    x_test, y_test = to_input(test_data[0]), test_data[1]
    plain = model.__class__.from_config(model.get_config())  # same layers and weights, never compiled
    plain.set_weights(model.get_weights())
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".incoming-") as tmp_name:
        tmp = Path(tmp_name)
        plain.save(tmp / "model.keras")
        (tmp / "model.tflite").write_bytes(to_tflite(plain))
        keras_probs = plain.predict(x_test, batch_size=1000, verbose=0)
        litert_probs = Classifier(tmp / "model.tflite").predict(x_test[..., 0])
        metrics = evaluate(keras_probs, y_test)
        litert_accuracy = evaluate(litert_probs, y_test)["test_accuracy"]
        if abs(litert_accuracy - metrics["test_accuracy"]) > LITERT_TOLERANCE:
            raise TrainingError(
                f"LiteRT test accuracy {litert_accuracy:.4%} differs from Keras' {metrics['test_accuracy']:.4%}"
            )
        now = datetime.now(UTC)
        card = {
            "name": plain.name,
            "version": f"{now:%Y-%m-%d}-{_sha256(tmp / 'model.tflite')[:8]}",
            "created_at": now.isoformat(timespec="seconds"),
            **details,
            "test_accuracy": metrics["test_accuracy"],
            "test_accuracy_litert": litert_accuracy,
            "litert_weights": "int8 (dynamic range)",
            "litert_agreement": float((keras_probs.argmax(1) == litert_probs.argmax(1)).mean()),
            "per_digit_accuracy": metrics["per_digit_accuracy"],
            "confusion_matrix": metrics["confusion_matrix"],
            "parameters": plain.count_params(),
            "layers": [f"{layer.__class__.__name__} -> {tuple(layer.output.shape)}" for layer in plain.layers],
            "files": {name: _sha256(tmp / name) for name in ("model.keras", "model.tflite")},
            "software": {"tensorflow": tf.__version__, "keras": keras.__version__},
        }
        if details.get("history"):
            _plot_curves(details["history"], tmp / "training_curves.png")
        _plot_confusion(card["confusion_matrix"], card["test_accuracy"], tmp / "confusion_matrix.png")
        (tmp / "card.json").write_text(_to_json(card))
        for name in ARTIFACTS:  # card.json comes after the model files; stale pictures go
            if (tmp / name).exists():
                os.replace(tmp / name, out_dir / name)
            else:
                (out_dir / name).unlink(missing_ok=True)
    return card


def _data_details(data_dir: Path | None, train_count: int | None = None) -> dict:
    return {
        "data_dir": str(data_dir) if data_dir else "keras.datasets.mnist (downloaded)",
        "data_checksums": mnist.data_checksums(data_dir),
        **({"train_images": train_count} if train_count is not None else {}),
    }


def run(data_dir: Path | None, out_dir: Path, options: Options, feedback: mnist.Split | None = None) -> dict:
    """Train on MNIST's training split and export; with ``feedback`` (users' corrected inputs and
    labels), train on those too, and keep a share of them aside to report how the model does on them.

    With feedback the new model is installed only if its MNIST test accuracy is not below the
    installed model's; ``card["installed"]`` says whether it was.
    """
    train_data, test_data = mnist.load_mnist(data_dir)
    if options.limit:  # the limit applies to MNIST; feedback is always used whole
        train_data = (train_data[0][: options.limit], train_data[1][: options.limit])
    held_out = None
    if feedback is not None:
        fit_part, held_out = split_feedback(feedback, seed=options.seed)
        train_data = mnist.combine(train_data, fit_part)
    model, history, seconds = train(train_data, test_data, replace(options, limit=None))
    details = {
        "source": "manage.py train" + (" --include-feedback" if feedback is not None else ""),
        **_data_details(data_dir, len(train_data[0])),
        "options": asdict(options),
        "training_seconds": round(seconds, 1),
        "history": history,
    }
    if feedback is not None:
        details["feedback"] = _feedback_report(model, out_dir, test_data, held_out, len(feedback[0]))
        if not details["feedback"]["accepted"]:
            return {**details, "installed": False, "version": None,
                    "test_accuracy": details["feedback"]["mnist_test_accuracy"]}
    return {**export(model, out_dir, test_data, details), "installed": True}


def split_feedback(feedback: mnist.Split, *, seed: int | None, held_out_share: float = 0.2) -> tuple:
    """Shuffle the corrected examples and keep ``held_out_share`` of them (at least one) aside."""
    x, y = feedback
    order = np.random.default_rng(seed).permutation(len(x))
    cut = max(1, round(len(x) * held_out_share)) if len(x) > 1 else 0
    return (x[order[cut:]], y[order[cut:]]), (x[order[:cut]], y[order[:cut]])


def _feedback_report(model: keras.Model, out_dir: Path, test_data: mnist.Split, held_out: mnist.Split,
                     total: int) -> dict:
    def accuracy(x: np.ndarray, y: np.ndarray) -> float | None:
        if not len(x):
            return None
        return round(float((model.predict(to_input(x), batch_size=1000, verbose=0).argmax(1) == y).mean()), 6)

    card_path = out_dir / "card.json"
    previous = json.loads(card_path.read_text())["test_accuracy"] if card_path.exists() else None
    mnist_accuracy = accuracy(*test_data)
    return {
        "corrected_images": total,
        "trained_on": total - len(held_out[0]),
        "held_out": len(held_out[0]),
        "held_out_accuracy": accuracy(*held_out),
        "mnist_test_accuracy": mnist_accuracy,
        "previous_mnist_test_accuracy": previous,
        "accepted": previous is None or mnist_accuracy >= previous,
    }


def install_model(path: Path, model_dir: Path, data_dir: Path | None) -> dict:
    """Validate an existing Keras model file, evaluate it on the test split and install it."""
    if not path.is_file():
        raise TrainingError(f"{path}: no such file")
    try:
        model = keras.saving.load_model(path, compile=False)
    except Exception as exc:  # Keras raises many types for unreadable files
        raise TrainingError(f"{path}: not a loadable Keras model: {exc}") from exc
    expected = {"input": (None, *INPUT_SHAPE), "output": (None, NUM_CLASSES)}
    shapes = {"input": tuple(model.input_shape), "output": tuple(model.output_shape)}
    if shapes != expected:
        raise TrainingError(f"{path}: model has {shapes}, expected {expected}")
    _, test_data = mnist.load_mnist(data_dir)
    details = {"source": f"manage.py train --load {path.name}", **_data_details(data_dir)}
    return export(model, model_dir, test_data, details)

