"""The verifier's training set: pieces of ink that segmentation may cut a number into, each labelled
one well-cut digit or not.

Made from MNIST training digits only (the test digits are what bench/number_accuracy.py reads). A
picture is one to three digits put side by side until their inks touch, or overlapping a little
further, at random sizes and baselines. Segmentation's own candidate cuts (``segmentation.cut_columns``)
are tried on its ink, straight down (segmentation then cuts along paths beside them; a verifier trained
on path-cut pieces read touching numbers worse, docs/numbers.md). Every run of parts it would read is
made into the model's input by ``digit_input`` and labelled by whose ink it holds: most of one digit
and little of any other is one digit; half a digit, a digit with a slice of its neighbour, two or
three digits are not."""

import numpy as np
from PIL import Image

from recognizer.preprocessing import digit_input
from recognizer.segmentation import cut_columns, spans

HEIGHTS = (28, 60)  # a digit's height in ink pixels (segmentation sees 30-60 on canvases, more on photos)
SIZE_SPREAD = 1.7  # digits of one picture differ in height up to this factor
BASELINE = 0.12  # a digit's baseline moves up to this share of its height
OVERLAP = (0.04, 0.12)  # an overlapping digit moves this share of the height past the touch
COUNTS, COUNT_ODDS = (1, 2, 3), (0.35, 0.45, 0.2)
MOST, LITTLE = 0.9, 0.12  # one digit: at least MOST of a digit's ink, others' ink under LITTLE of it
NOT_MOST, NOT_LITTLE = 0.75, 0.25  # not one digit: under NOT_MOST of any digit's, or others' over NOT_LITTLE
PER_PICTURE = 8  # at most this many pieces of one picture (all of its well-cut digits kept)


def pieces(images: np.ndarray, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(inputs (N, 28, 28) float32, labels (N,) 1 = one digit) from ``count`` pictures of ``images``."""
    rng = np.random.default_rng(seed)
    inputs, labels = [], []
    for _ in range(count):
        layers, _ = picture(rng, images, int(rng.choice(COUNTS, p=COUNT_ODDS)))
        ink = np.max(layers, axis=0)
        made = [(digit_input(np.where(mask, ink, 0)), label) for mask, label in _labelled(ink, layers)]
        rng.shuffle(made)
        kept = [item for item in made if item[1]] + [item for item in made if not item[1]]
        for array, label in kept[:max(PER_PICTURE, sum(label for _, label in made))]:
            inputs.append(array)
            labels.append(label)
    return np.stack(inputs).astype(np.float32), np.array(labels, dtype=np.float32)


def _labelled(ink: np.ndarray, layers: np.ndarray) -> list[tuple[np.ndarray, int]]:
    """Every piece segmentation would read in this ink (one connected group here), with its label;
    pieces neither clearly one digit nor clearly not are left out."""
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    height = int(rows[-1] - rows[0] + 1)
    cuts = cut_columns(ink, (int(cols[0]), int(cols[-1]) + 1), height)
    masses = layers.sum(axis=(1, 2))
    out = []
    for i, j in spans(cuts, height):
        mask = np.zeros(ink.shape, dtype=bool)
        mask[:, cuts[i]:cuts[j]] = ink[:, cuts[i]:cuts[j]] > 0
        if not mask.any():
            continue
        held = layers[:, :, cuts[i]:cuts[j]].sum(axis=(1, 2))
        main = int(np.argmax(held / masses))
        share, others = held[main] / masses[main], (held.sum() - held[main]) / masses[main]
        if share >= MOST and others <= LITTLE:
            out.append((mask, 1))
        elif share < NOT_MOST or others > NOT_LITTLE:
            out.append((mask, 0))
    return out


def picture(rng: np.random.Generator, images: np.ndarray, count: int) -> tuple[np.ndarray, list[int]]:
    """(count, H, W): each digit's own ink on the picture, placed left to right touching or overlapping
    (half of them overlapping), and which of ``images`` they are."""
    tallest = int(rng.integers(*HEIGHTS))
    picks, digits = [], []
    for _ in range(count):
        picks.append(int(rng.integers(len(images))))
        digits.append(_scaled(images[picks[-1]], int(tallest / rng.uniform(1, SIZE_SPREAD))))
    width = sum(digit.shape[1] for digit in digits) + 2 * tallest
    layers = np.zeros((count, 2 * tallest, width), dtype=np.float32)
    right = tallest // 2
    for k, digit in enumerate(digits):
        top = tallest // 2 + tallest - digit.shape[0] + int(rng.uniform(-BASELINE, BASELINE) * digit.shape[0])
        left = right
        if k:
            left = _touch(layers[:k].max(axis=0), digit, top, right)
            if rng.random() < 0.5:
                left = max(0, left - int(rng.uniform(*OVERLAP) * tallest))
        layers[k, top:top + digit.shape[0], left:left + digit.shape[1]] = digit
        right = max(right, left + digit.shape[1])
    return layers, picks


def _touch(canvas: np.ndarray, digit: np.ndarray, top: int, start: int) -> int:
    """The column where ``digit`` (at row ``top``) first meets the ink of ``canvas`` moving left from ``start``."""
    new = digit > 0.3
    height, width = digit.shape
    for left in range(start, max(0, start - width), -1):
        if (canvas[top:top + height, left:left + width] > 0.3)[new].any():
            return left
    return max(0, start - width // 2)


def _scaled(image: np.ndarray, height: int) -> np.ndarray:
    """An MNIST digit (uint8) cropped to its ink, ``height`` px high, in [0, 1]."""
    rows, cols = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
    crop = Image.fromarray(image[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1])
    width = max(1, round(crop.width * height / crop.height))
    return np.asarray(crop.resize((width, height), Image.Resampling.BILINEAR), dtype=np.float32) / 255
