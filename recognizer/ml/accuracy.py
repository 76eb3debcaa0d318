"""How right a model is: the one place accuracy, per-digit accuracy and the confusion matrix are computed.

Free of TensorFlow, so the serving-side `evaluate_model` command uses it as training does.
"""

from dataclasses import dataclass

import numpy as np

from recognizer.ml.mnist import NUM_CLASSES


@dataclass(frozen=True)
class Score:
    accuracy: float
    per_digit: dict[str, float]  # "0".."9" -> share of that digit's images read right
    confusion: list[list[int]]  # rows: true digit, columns: predicted digit

    @property
    def errors(self) -> int:
        return int(np.sum(self.confusion) - np.trace(self.confusion))


def score(probabilities: np.ndarray, labels: np.ndarray) -> Score:
    """Score (N, 10) probabilities (or scores of any kind: the highest wins) against N labels."""
    labels = np.asarray(labels, dtype=int)
    confusion = np.zeros((NUM_CLASSES, NUM_CLASSES), dtype=int)
    np.add.at(confusion, (labels, np.asarray(probabilities).argmax(axis=1)), 1)
    per_digit = confusion.diagonal() / np.maximum(confusion.sum(axis=1), 1)
    return Score(
        accuracy=round(float(np.trace(confusion) / max(len(labels), 1)), 6),
        per_digit={str(digit): round(float(share), 6) for digit, share in enumerate(per_digit)},
        confusion=confusion.tolist(),
    )
