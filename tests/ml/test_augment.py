"""Training-time augmentation: each change does what it says, keeps the digit, and follows the seed."""

import numpy as np
import pytest
import tensorflow as tf

from recognizer.ml import augment, mnist, pipeline


@pytest.fixture(scope="module")
def digits(mnist_test):
    return tf.constant(pipeline.to_input(mnist_test[0][:256]))


def test_augmentation_keeps_shape_and_range_and_follows_the_seed(digits):
    seed = tf.constant([1, 2], tf.int64)
    out = augment.augment(digits, seed).numpy()
    assert out.shape == digits.shape and out.min() >= 0 and out.max() <= 1
    assert not np.allclose(out, digits.numpy())
    np.testing.assert_array_equal(out, augment.augment(digits, seed).numpy())
    assert not np.allclose(out, augment.augment(digits, tf.constant([1, 3], tf.int64)).numpy())


def test_augmented_digits_stay_in_the_picture(digits):
    """No warp pushes a digit out of the 28×28 field or wipes it: ink and centre stay close to MNIST's."""
    out = augment.augment(digits, tf.constant([7, 7], tf.int64)).numpy()[..., 0]
    before = digits.numpy()[..., 0]
    assert np.all(out.sum(axis=(1, 2)) > 0.25 * before.sum(axis=(1, 2)))  # thin 1s lose most when thinned
    rows = (out.sum(axis=2) * np.arange(28)).sum(axis=1) / out.sum(axis=(1, 2))
    assert np.all(np.abs(rows - 14) < 5)


def test_an_identity_warp_samples_the_image_unchanged(digits):
    size = digits.shape[1]
    grid = tf.broadcast_to(tf.range(size, dtype=tf.float32), [digits.shape[0], size, size])
    same = augment._sample(digits, tf.transpose(grid, [0, 2, 1]), grid)
    np.testing.assert_allclose(same.numpy(), digits.numpy(), atol=1e-6)
    shifted = augment._sample(digits, tf.transpose(grid, [0, 2, 1]), grid - 1.0).numpy()  # x - 1: right by one
    np.testing.assert_allclose(shifted[:, :, 1:], digits.numpy()[:, :, :-1], atol=1e-6)
    assert np.all(shifted[:, :, 0] == 0)  # outside the picture is black


def test_stroke_changes_make_strokes_thicker_or_thinner(digits):
    out = augment._stroke(digits, tf.constant([0, 1], tf.int64)).numpy()
    change = out.sum(axis=(1, 2, 3)) - digits.numpy().sum(axis=(1, 2, 3))
    assert (change > 1).sum() > 30 and (change < -1).sum() > 30 and (np.abs(change) < 1e-6).sum() > 60


def test_occlusion_wipes_a_small_square_from_some_digits(digits):
    out = augment._occlude(digits, tf.constant([0, 5], tf.int64)).numpy()
    wiped = (out == 0) & (digits.numpy() > 0)
    per_image = wiped.sum(axis=(1, 2, 3))
    assert 0.1 < np.mean(per_image > 0) < 0.4 and per_image.max() <= augment.OCCLUDE_PX[1] ** 2


def test_coarse_capture_blurs_some_digits_and_keeps_full_ink(digits):
    out = augment._coarse(digits, tf.constant([3, 4], tf.int64)).numpy()
    changed = ~np.all(np.isclose(out, digits.numpy()), axis=(1, 2, 3))
    assert 0.1 < changed.mean() < 0.4
    assert np.all(out[changed].max(axis=(1, 2, 3)) > 0.99)


def test_to_input_scales_to_the_unit_range():
    images = np.array([[[0, 255] * 14] * 28], np.uint8)
    assert pipeline.to_input(images).shape == (1, 28, 28, 1)
    assert pipeline.to_input(images).max() == 1.0 and mnist.to_unit(images).dtype == np.float32


def test_the_final_steps_leave_half_of_each_batch_unaugmented(mnist_test):
    """Before ``clean_from_step`` every image is changed; from it on about CLEAN_FINISH_SHARE are not."""
    data = (mnist_test[0][:512], mnist_test[1][:512])
    batches = pipeline.training_batches(data, batch_size=512, seed=1, augmented=True, clean_from_step=2)
    originals = {image.tobytes() for image in pipeline.to_input(data[0])}
    untouched = [np.mean([image.tobytes() in originals for image in images.numpy()])
                 for images, _ in batches.take(4)]
    assert untouched[:2] == [0.0, 0.0]
    assert all(abs(share - pipeline.CLEAN_FINISH_SHARE) < 0.1 for share in untouched[2:])
