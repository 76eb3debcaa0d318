"""The string reader: a small network that reads a run of touching digits whole.

Touching digits have no clean cut between them: a cut through a 0 leaning on a 7 leaves a slice of one
in the other, and the digit model then reads a confident wrong digit (docs/numbers.md). The string
reader reads the run's ink as a sequence: convolutions down to one column of features every
two pixels, one of eleven answers per column (ten digits or nothing), trained with CTC on runs of 1-6
touching or overlapping MNIST *training* digits. Segmentation asks it how many digits a wide piece holds
and which; ``manage.py train_strings`` makes ``mlmodel/strings.tflite``; ``runtime.get_string_reader``
serves it.
"""

import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import layers  # noqa: E402

from recognizer.ml import mnist  # noqa: E402
from recognizer.ml.export import Trained, to_tflite  # noqa: E402
from recognizer.ml.pieces import picture  # noqa: E402
from recognizer.ml.runtime import BLANK, decode  # noqa: E402
from recognizer.preprocessing import STRING_ROWS as ROWS  # noqa: E402
from recognizer.preprocessing import string_input  # noqa: E402

VALIDATION_SHARE = 1 / 12  # the last 5,000 MNIST training digits make the held-out runs, never trained on
LENGTHS, LENGTH_ODDS = (1, 2, 3, 4, 5, 6), (0.2, 0.25, 0.2, 0.15, 0.1, 0.1)
LOW_RESOLUTION, LOW_ROWS = 0.25, (8, 16)  # this share of the runs is seen this many rows high, then enlarged
THICKER, BLURRED = 0.2, 0.2  # of the others, this share gets thicker strokes; of all, this share is blurred


@dataclass(frozen=True)
class Options:
    runs: int = 80_000  # runs of touching digits to train on
    validation_runs: int = 2_000
    epochs: int = 18
    filters: int = 32  # of the first convolution; twice as many in the others
    batch_size: int = 64
    learning_rate: float = 2e-3
    seed: int = 1


def build(filters: int) -> keras.Model:
    """3×3 convolutions with pooling down to one row every two columns, two wide convolutions along the
    run (each column sees about a digit and a half), eleven answers per column (ten digits, nothing)."""
    return keras.Sequential([
        keras.Input(shape=(ROWS, None, 1)),
        layers.Conv2D(filters, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(2),
        layers.Conv2D(2 * filters, 3, padding="same", activation="relu"),
        layers.MaxPooling2D((2, 1)),
        layers.Conv2D(2 * filters, 3, padding="same", activation="relu"),
        layers.Conv2D(4 * filters, (ROWS // 4, 1), activation="relu"),  # the column's rows, one feature vector
        layers.Conv2D(4 * filters, (1, 5), padding="same", activation="relu"),
        layers.Dropout(0.2),
        layers.Conv2D(4 * filters, (1, 5), padding="same", activation="relu"),
        layers.Conv2D(BLANK + 1, 1, activation="softmax"),
    ], name="string_reader")


def runs(images: np.ndarray, labels: np.ndarray, count: int, seed: int) -> list[tuple[np.ndarray, str]]:
    """``count`` runs of 1-6 digits of ``images`` placed touching (or overlapping), as the reader's inputs."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        layers, picks = picture(rng, images, int(rng.choice(LENGTHS, p=LENGTH_ODDS)))
        out.append((string_input(_varied(rng, layers.max(axis=0))), "".join(str(labels[i]) for i in picks)))
    return out


def _varied(rng: np.random.Generator, ink: np.ndarray) -> np.ndarray:
    """The run as other pens and cameras give it: fainter, thicker or thinner strokes, blurred, or seen
    at a low resolution (a small number in a photo)."""
    if rng.random() < LOW_RESOLUTION:
        height = ink.shape[0] * rng.uniform(*LOW_ROWS) / max(1, np.flatnonzero(ink.any(axis=1)).size)
        small = (max(1, round(ink.shape[1] * height / ink.shape[0])), max(1, round(height)))
        ink = np.asarray(Image.fromarray(ink).resize(small, Image.Resampling.BOX).resize(
            ink.shape[::-1], Image.Resampling.BILINEAR))
    elif rng.random() < THICKER:
        ink = ndimage.grey_dilation(ink, size=(2, 2))
    if rng.random() < BLURRED:
        ink = ndimage.gaussian_filter(ink, rng.uniform(0.5, 1.5))
    return np.clip(ink, 0, 1) * rng.uniform(0.6, 1.0)


def _batches(items: list[tuple[np.ndarray, str]], size: int, rng: np.random.Generator):
    """Batches of runs of about one width (padded on the right), in random order."""
    order = sorted(range(len(items)), key=lambda i: items[i][0].shape[1] + rng.uniform(0, 8))
    chunks = [order[i:i + size] for i in range(0, len(order), size)]
    rng.shuffle(chunks)
    for chunk in chunks:
        width = max(items[i][0].shape[1] for i in chunk)
        x = np.zeros((len(chunk), ROWS, width, 1), np.float32)
        for row, i in enumerate(chunk):
            x[row, :, :items[i][0].shape[1], 0] = items[i][0]
        texts = [items[i][1] for i in chunk]
        y = np.zeros((len(chunk), max(map(len, texts))), np.int32)
        for row, text in enumerate(texts):
            y[row, :len(text)] = [int(c) for c in text]
        yield x, y, np.array([len(t) for t in texts], np.int32)


def share_read_whole(model: keras.Model, items: list[tuple[np.ndarray, str]]) -> float:
    """The share of ``items`` the model (in Keras, before conversion) reads whole."""
    right = 0
    for image, text in items:
        frames = model(image[None, :, :, None], training=False).numpy()[0, 0]
        right += "".join(str(d) for d, _, _ in decode(frames)) == text
    return right / len(items)


def train(data_dir: Path | None, options: Options) -> Trained:
    """Make runs of MNIST's training digits, fit the reader with CTC (seeded), convert it to LiteRT."""
    started = time.monotonic()
    (images, labels), _ = mnist.load_mnist(data_dir)
    held = len(images) - max(1, round(len(images) * VALIDATION_SHARE))
    fit = runs(images[:held], labels[:held], options.runs, options.seed)
    held_out = runs(images[held:], labels[held:], options.validation_runs, options.seed + 1)
    keras.utils.set_random_seed(options.seed)
    tf.config.experimental.enable_op_determinism()
    model = build(options.filters)
    steps = -(-len(fit) // options.batch_size) * options.epochs
    optimizer = keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(options.learning_rate, steps,
                                                                             alpha=0.02))

    @tf.function(input_signature=[tf.TensorSpec((None, ROWS, None, 1)), tf.TensorSpec((None, None), tf.int32),
                                  tf.TensorSpec((None,), tf.int32)])
    def step(x, y, lengths):
        with tf.GradientTape() as tape:
            frames = model(x, training=True)[:, 0]
            logits = tf.math.log(frames + 1e-7)
            loss = tf.reduce_mean(tf.nn.ctc_loss(y, logits, lengths, tf.fill([tf.shape(x)[0]], tf.shape(frames)[1]),
                                                 logits_time_major=False, blank_index=BLANK))
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables,
                                       strict=True))
        return loss

    rng = np.random.default_rng(options.seed)
    history = []
    for epoch in range(options.epochs):
        losses = [float(step(x, y, n)) for x, y, n in _batches(fit, options.batch_size, rng)]
        history.append(round(float(np.mean(losses)), 4))
        print(f"epoch {epoch + 1}: loss {history[-1]} ({time.monotonic() - started:.0f} s)", flush=True)
    accuracy = share_read_whole(model, held_out)
    return Trained(to_tflite(model, quantize=False), {
        "data": "runs of 1-6 touching or overlapping MNIST training digits (recognizer/ml/strings.py)",
        "runs": len(fit), "validation_runs": len(held_out), "validation_read_whole": round(accuracy, 4),
        "options": vars(options), "parameters": model.count_params(), "loss": history,
        "seconds": round(time.monotonic() - started, 1),
    })
