"""The training data as the network reads it: a held-out validation share and a tf.data pipeline."""

import numpy as np
import tensorflow as tf

from recognizer.ml import mnist
from recognizer.ml.augment import augment

VALIDATION_SHARE = 1 / 12  # 5,000 of MNIST's 60,000 training images are held out to validate on
CLEAN_FINISH_SHARE = 0.5  # of the images in each batch of the final steps (fitting.Options.clean_finish)
VALIDATION_SEED = 0  # the same images every run, so validation figures of different runs compare


def to_input(images: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) images to the network's float32 (N, 28, 28, 1) input in [0, 1]."""
    return mnist.to_unit(images)[..., np.newaxis]


def hold_out(data: mnist.Split) -> tuple[mnist.Split, mnist.Split]:
    """(fit, validation): a fixed random VALIDATION_SHARE of the images (at least one) set aside.

    Epochs are watched on the validation images, never on the test set, which is touched only for the
    final figure.
    """
    x, y = data
    order = np.random.default_rng(VALIDATION_SEED).permutation(len(x))
    cut = max(1, round(len(x) * VALIDATION_SHARE))
    return (x[order[cut:]], y[order[cut:]]), (x[order[:cut]], y[order[:cut]])


def training_batches(data: mnist.Split, *, batch_size: int, seed: int, augmented: bool,
                     clean_from_step: int) -> tf.data.Dataset:
    """Endless shuffled batches of (images, labels); augmented batches get fresh random changes each
    time, reproducible from the seed. From batch ``clean_from_step`` on, CLEAN_FINISH_SHARE of the
    images stay as they are: the last steps settle on digits as MNIST writes them."""
    x, y = data
    ds = tf.data.Dataset.from_tensor_slices((to_input(x), y.astype(np.int32)))
    ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True).repeat().batch(batch_size)
    if augmented:
        ds = ds.enumerate().map(
            lambda i, batch: (augment(batch[0], tf.stack([tf.constant(seed, tf.int64), i]),
                                      tf.where(i >= clean_from_step, CLEAN_FINISH_SHARE, 0.0)), batch[1])
        )  # one batch at a time (vectorised, a few ms); prefetch overlaps it with the training step
    return ds.prefetch(tf.data.AUTOTUNE)


def validation_batches(data: mnist.Split) -> tf.data.Dataset:
    """The held-out images in batches of 1,000, as they are (a dataset of our own: Keras' adapter for
    arrays builds a parallel map that TensorFlow 2.20 logs a spurious error about)."""
    return tf.data.Dataset.from_tensor_slices((to_input(data[0]), data[1].astype(np.int32))).batch(1000)
