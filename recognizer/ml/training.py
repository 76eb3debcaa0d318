"""`manage.py train`, step by step: load MNIST, fit, build a candidate model folder, install it.

Every run returns an Outcome of one shape: the candidate's full card, whether it was installed, and
how long it all took. With users' corrections (feedback) a candidate is installed only if its MNIST
test accuracy is not below the installed model's.
"""

import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TextIO

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
from django.conf import settings  # noqa: E402

from recognizer.ml import (  # noqa: E402
    TrainingError,
    card,
    install,
    mnist,
    reference,
)
from recognizer.ml.accuracy import score  # noqa: E402
from recognizer.ml.evaluation import evaluate  # noqa: E402
from recognizer.ml.export import to_tflite  # noqa: E402
from recognizer.ml.fitting import Options, fit  # noqa: E402
from recognizer.ml.network import INPUT_SHAPE  # noqa: E402
from recognizer.ml.pipeline import hold_out, to_input  # noqa: E402
from recognizer.ml.plots import plot_confusion, plot_curves  # noqa: E402
from recognizer.ml.runtime import MODEL_FILE  # noqa: E402

__all__ = ["Options", "Outcome", "TrainingError", "install_model", "run"]
FEEDBACK_HELD_OUT_SHARE = 0.2


@dataclass(frozen=True)
class Outcome:
    card: dict  # the candidate's card, installed or not
    installed: bool
    previous: dict | None  # the card of the model installed before the run, if any
    seconds: float  # the whole run: loading, fitting, converting, evaluating, installing


def run(data_dir: Path | None, out_dir: Path, options: Options, *, feedback: mnist.Split | None = None,
        progress: TextIO | None = None) -> Outcome:
    """Train on MNIST's training images (a share held out to validate on) and, with ``feedback`` (users'
    corrected inputs and labels), on most of those too, keeping FEEDBACK_HELD_OUT_SHARE aside to report on."""
    started = time.monotonic()
    train_data, test_data = mnist.load_mnist(data_dir)
    if options.limit:  # the limit applies to MNIST; feedback is always used whole
        train_data = (train_data[0][: options.limit], train_data[1][: options.limit])
    fit_data, validation_data = hold_out(train_data)
    held_out = None
    if feedback is not None:
        fed, held_out = split_feedback(feedback, seed=options.seed)
        fit_data = mnist.combine(fit_data, fed)
    fitted = fit(fit_data, validation_data, options, progress=progress)
    details = {
        "source": "manage.py train" + (" --include-feedback" if feedback is not None else ""),
        **card.data_details(data_dir),
        "train_images": len(fit_data[0]),
        "validation_images": len(validation_data[0]),
        "options": asdict(options),
        "training_seconds": round(fitted.seconds, 1),
        "history": fitted.history,
    }
    if held_out is not None:
        details["feedback"] = feedback_report(fitted.model, held_out, total=len(feedback[0]))
    previous = card.read(out_dir)
    with install.staging(out_dir) as staged:
        candidate = _candidate(fitted.model, staged, test_data, details, validation_data)
        accepted = feedback is None or previous is None or candidate["test_accuracy"] >= previous["test_accuracy"]
        if accepted:
            install.install(staged, out_dir)
    return Outcome(candidate, accepted, previous, time.monotonic() - started)


def install_model(path: Path, model_dir: Path, data_dir: Path | None) -> Outcome:
    """Validate an existing Keras model file, evaluate it on the test split and install it."""
    started = time.monotonic()
    if not path.is_file():
        raise TrainingError(f"{path}: no such file")
    try:
        model = keras.saving.load_model(path, compile=False)
    except Exception as exc:  # Keras raises many types for unreadable files
        raise TrainingError(f"{path}: not a loadable Keras model: {exc}") from exc
    expected = {"input": (None, *INPUT_SHAPE), "output": (None, mnist.NUM_CLASSES)}
    shapes = {"input": tuple(model.input_shape), "output": tuple(model.output_shape)}
    if shapes != expected:
        raise TrainingError(f"{path}: model has {shapes}, expected {expected}")
    train_data, test_data = mnist.load_mnist(data_dir)
    details = {"source": f"manage.py train --load {path.name}", **card.data_details(data_dir)}
    previous = card.read(model_dir)
    with install.staging(model_dir) as staged:
        candidate = _candidate(model, staged, test_data, details, hold_out(train_data)[1])
        install.install(staged, model_dir)
    return Outcome(candidate, True, previous, time.monotonic() - started)


def _candidate(model: keras.Model, folder: Path, test_data: mnist.Split, details: dict,
               validation_data: mnist.Split) -> dict:
    """Save, convert, evaluate and describe the model in folder (with the drift reference of its
    validation images); returns its card."""
    plain = model.__class__.from_config(model.get_config())  # same layers and weights, never compiled
    plain.set_weights(model.get_weights())
    plain.save(folder / "model.keras")
    (folder / MODEL_FILE).write_bytes(to_tflite(plain))
    figures = {**evaluate(plain, folder / MODEL_FILE, test_data),
               "drift_reference": reference.figures(folder / MODEL_FILE, validation_data,
                                                    unsure_below=settings.NUMBERFIGURE_UNSURE_BELOW)}
    built = card.build(plain, folder, details=details, figures=figures)
    if details.get("history"):
        plot_curves(details["history"], folder / "training_curves.png")
    plot_confusion(built["confusion_matrix"], built["test_accuracy"], folder / "confusion_matrix.png")
    card.write(built, folder)
    return built


def split_feedback(feedback: mnist.Split, *, seed: int | None) -> tuple[mnist.Split, mnist.Split]:
    """Shuffle the corrected examples and keep FEEDBACK_HELD_OUT_SHARE of them (at least one) aside."""
    x, y = feedback
    order = np.random.default_rng(seed).permutation(len(x))
    cut = max(1, round(len(x) * FEEDBACK_HELD_OUT_SHARE)) if len(x) > 1 else 0
    return (x[order[cut:]], y[order[cut:]]), (x[order[:cut]], y[order[:cut]])


def feedback_report(model: keras.Model, held_out: mnist.Split, *, total: int) -> dict:
    """How many corrections were trained on, and how the new model reads the ones held out."""
    x, y = held_out
    accuracy = score(model.predict(to_input(x), verbose=0), y).accuracy if len(x) else None
    return {"corrected_images": total, "trained_on": total - len(x), "held_out": len(x),
            "held_out_accuracy": accuracy}
