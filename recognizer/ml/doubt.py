"""How likely a stored prediction is wrong: its "doubt", the review queue's order.

Two signs that a digit is misread: the top two probabilities are close (a small margin), and the
answer does not hold when the 28×28 input is moved a pixel or two or drawn a little larger or
smaller, which a person reading it would not notice. The doubt is one minus the mean margin of the
stored digit over the input and its copies (a copy that reads another digit has a negative
margin), halved into [0, 1]: 0 for a digit read with certainty under every copy, 1 for one that
every copy reads as another digit with certainty. ``bench/review_order.py`` measured it against
newest-first and random order.
"""

from collections.abc import Sequence

import numpy as np
from scipy import ndimage

SHIFTS = ((0, 2), (0, -2), (2, 0), (-2, 0))  # (rows, columns), in pixels
SCALES = (0.85, 1.15)  # about the image's centre, where preprocessing put the centre of mass
COPIES = len(SHIFTS) + len(SCALES)


def _scaled(image: np.ndarray, factor: float) -> np.ndarray:
    centre = (np.array(image.shape) - 1) / 2
    matrix = np.eye(2) / factor
    return ndimage.affine_transform(image, matrix, offset=centre - matrix @ centre, order=1, mode="constant")


def copies(image: np.ndarray) -> np.ndarray:
    """The (COPIES, 28, 28) moved and scaled copies of one 28×28 input in [0, 1]."""
    moved = [ndimage.shift(image, shift, order=0, mode="constant") for shift in SHIFTS]
    return np.stack([*moved, *(_scaled(image, factor) for factor in SCALES)]).astype(np.float32)


def margin(probabilities: np.ndarray, digit: int) -> np.ndarray:
    """P(digit) minus the largest other probability, per row of ``probabilities`` (N, 10)."""
    others = np.delete(probabilities, digit, axis=1)
    return probabilities[:, digit] - others.max(axis=1)


def doubts(probabilities: Sequence[Sequence[float]], copy_probabilities: np.ndarray) -> list[float]:
    """The doubt of each prediction, from its stored probabilities (N, 10) and the model's answers
    for its copies (N × COPIES, 10, in the order ``copies`` makes them)."""
    stored = np.asarray(probabilities, dtype=np.float32)
    moved = np.asarray(copy_probabilities, dtype=np.float32).reshape(len(stored), COPIES, 10)
    result = []
    for own, theirs in zip(stored, moved, strict=True):
        digit = int(np.argmax(own))
        margins = np.concatenate([margin(own[None], digit), margin(theirs, digit)])
        result.append(float(np.clip((1 - margins.mean()) / 2, 0, 1)))
    return result


def doubts_of(classifier, probabilities: Sequence[Sequence[float]], inputs: np.ndarray) -> list[float]:
    """The doubts of predictions whose 28×28 inputs are ``inputs`` (N, 28, 28): every copy of every
    input goes through the model in one call."""
    if not len(inputs):
        return []
    return doubts(probabilities, classifier.predict(np.concatenate([copies(image) for image in inputs])))
