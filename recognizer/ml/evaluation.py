"""The figures of a candidate model: MNIST test accuracy with Keras and with the served LiteRT file,
and accuracy on handwriting that is not MNIST (through the upload path, served file)."""

from pathlib import Path

import keras
import numpy as np

from recognizer.ml import TrainingError, handwriting, mnist
from recognizer.ml.accuracy import Score, score
from recognizer.ml.export import silenced
from recognizer.ml.runtime import Classifier

LITERT_TOLERANCE = 0.0005  # LiteRT must match Keras' test accuracy within 0.05 points.


def evaluate(model: keras.Model, tflite: Path, test_data: mnist.Split) -> dict:
    """Card entries for the model and its converted file; TrainingError if the file reads worse."""
    images, labels = mnist.to_unit(test_data[0]), test_data[1]
    keras_probs = model.predict(images[..., np.newaxis], batch_size=1000, verbose=0)
    with silenced():  # LiteRT announces its CPU delegate
        served = Classifier(tflite)
    litert_probs = served.predict(images)
    test, litert = score(keras_probs, labels), score(litert_probs, labels)
    if abs(litert.accuracy - test.accuracy) > LITERT_TOLERANCE:
        raise TrainingError(f"LiteRT test accuracy {litert.accuracy:.4%} differs from Keras' {test.accuracy:.4%}")
    other = handwriting_score(served)
    return {
        "test_accuracy": test.accuracy,
        "test_accuracy_litert": litert.accuracy,
        "litert_weights": "int8 (dynamic range)",
        "litert_agreement": float((keras_probs.argmax(1) == litert_probs.argmax(1)).mean()),
        "per_digit_accuracy": test.per_digit,
        "confusion_matrix": test.confusion,
        "non_mnist": {"set": handwriting.NAME, "images": int(np.sum(other.confusion)),
                      "accuracy_litert": other.accuracy, "per_digit_accuracy": other.per_digit},
    }


def handwriting_score(classifier: Classifier) -> Score:
    """How the served model reads the non-MNIST handwriting set."""
    images, labels = handwriting.inputs()
    return score(classifier.predict(images), labels)
