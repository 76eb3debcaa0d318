"""The non-MNIST evaluation set: real handwriting of other writers, read through the upload path."""

import io

import numpy as np
import pytest
from PIL import Image

from recognizer.ml import handwriting


def test_each_digit_becomes_a_picture_a_person_could_upload():
    cells = np.zeros((8, 8))
    cells[1:7, 3:5] = 16  # a bar of full ink
    picture = Image.open(io.BytesIO(handwriting.picture(cells)))
    assert picture.format == "PNG" and picture.size == (handwriting.PICTURE_PX,) * 2
    pixels = np.asarray(picture)
    assert pixels[0, 0] == 255 and pixels.min() == 0  # white paper around dark ink
    assert pixels[:, : handwriting.PICTURE_PX // 3].min() == 255  # the margin is paper


@pytest.mark.slow  # preprocesses 1,797 images
def test_the_set_holds_every_digit_of_43_writers_as_model_inputs():
    images, labels = handwriting.inputs()
    assert images.shape == (1797, 28, 28) and images.dtype == np.float32
    assert images.min() == 0 and images.max() == 1
    assert np.bincount(labels).min() >= 170  # about 180 of each digit
    centre = (images.sum(axis=2) * np.arange(28)).sum(axis=1) / images.sum(axis=(1, 2))
    assert np.all(np.abs(centre - 14) < 1)  # as preprocessing places an upload: MNIST's centre of mass
