"""The drift reference in a model card: how the served model answers MNIST's held-out validation
images, counted as the service counts a day of predictions (``recognizer.drift``).

Written by ``manage.py train`` with every new model; ``manage.py drift_reference`` adds it to the
card of a model trained before it existed.
"""

import json
from pathlib import Path

from recognizer import drift
from recognizer.ml import card, mnist
from recognizer.ml.export import silenced
from recognizer.ml.pipeline import hold_out
from recognizer.ml.runtime import CARD_FILE, MODEL_FILE, Classifier

IMAGES = "MNIST training images held out for validation (pipeline.hold_out), through the served LiteRT file"


def figures(tflite: Path, validation: mnist.Split, *, unsure_below: float) -> dict:
    """The card's ``drift_reference`` entry for the model file ``tflite``."""
    with silenced():  # LiteRT announces its CPU delegate
        served = Classifier(tflite)
    probabilities = served.predict(mnist.to_unit(validation[0]))
    return drift.card_reference(probabilities.max(axis=1), probabilities.argmax(axis=1), validation[1],
                                unsure_below=unsure_below, images=IMAGES)


def add_to_card(model_dir: Path, data_dir: Path | None, *, unsure_below: float) -> dict:
    """Compute the reference of the model installed in ``model_dir`` and write it into its card."""
    train_data, _ = mnist.load_mnist(data_dir)
    _, validation = hold_out(train_data)
    found = card.read(model_dir)
    if found is None:
        raise FileNotFoundError(f"{model_dir / CARD_FILE}: no model card")
    found["drift_reference"] = figures(model_dir / MODEL_FILE, validation, unsure_below=unsure_below)
    card.write(found, model_dir)
    return json.loads((model_dir / CARD_FILE).read_text())["drift_reference"]
