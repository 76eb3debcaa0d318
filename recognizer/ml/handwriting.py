"""Handwriting that is not MNIST, read the way an upload is read: the second figure of every model.

The set is the UCI "Optical Recognition of Handwritten Digits" test data as scikit-learn ships it
(`sklearn.datasets.load_digits`, no download): 1,797 digits written on forms by 43 people who are not
among MNIST's writers, scanned by NIST, thresholded to 32×32 bitmaps and pooled to 8×8 cells of 17
grey levels (the ink count of each 4×4 block). Each digit becomes a picture a person could upload:
dark ink on white paper, a margin of 3 cells around it, scaled up bilinearly to 160 px, a PNG. That
picture goes through the upload path (`decode_image`, `to_mnist`) to the model.

It is harder than MNIST in honest ways (other writers, European 1s and 7s, thick pens, blurred
strokes) and in one less fair way: the 8×8 pooling. So compare models on it; do not compare it with
MNIST's figure.
"""

import io
from functools import cache

import numpy as np
from PIL import Image

from recognizer.preprocessing import decode_image, to_mnist

NAME = "UCI optical digits (scikit-learn load_digits), read through the upload path"
MARGIN_CELLS, PICTURE_PX = 3, 160


def picture(cells: np.ndarray) -> bytes:
    """One 8×8 digit of ink counts 0-16 as the PNG a person could upload: dark ink on white paper."""
    paper = np.round(255 * (1 - np.pad(cells, MARGIN_CELLS) / 16)).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(paper).resize((PICTURE_PX, PICTURE_PX), Image.Resampling.BILINEAR).save(out, "PNG")
    return out.getvalue()


@cache
def inputs() -> tuple[np.ndarray, np.ndarray]:
    """(images, labels): the 1,797 digits as the model's (N, 28, 28) float32 inputs, and their labels."""
    from sklearn.datasets import load_digits  # the training and test environments only

    digits = load_digits()
    images = [to_mnist(decode_image(picture(cells), max_pixels=PICTURE_PX**2)) for cells in digits.images]
    return np.stack(images), digits.target.astype(np.uint8)
