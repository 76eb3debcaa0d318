"""`manage.py retrain`: a challenger learns from the labelled predictions, and serves only if it wins.

The challenger is the serving model's dense layers fine-tuned (two epochs, not a full training) on a
sample of MNIST's training images mixed with the labelled predictions in every batch (a replay
against forgetting), then moved back part of the way to the serving weights. The newest
``HELD_OUT_SHARE`` of the labelled predictions are kept out by time: they stand for what users will
send next. Both models, as served (LiteRT), are then compared on the same three sets: the MNIST test set, those
newest labelled predictions, and the non-MNIST handwriting. Each comparison is paired (the same
images): the images only one of the two reads right decide, and a difference counts when it
passes ``Z`` standard errors of that count (McNemar's test), i.e. beyond noise.

The challenger is kept as a version either way (``versions``); it is promoted only if it is better
on the labelled set and not worse beyond noise on the others, and the run says why.
"""

import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

from recognizer.ml import card, handwriting, install, mnist, versions  # noqa: E402
from recognizer.ml.pipeline import hold_out, training_batches  # noqa: E402
from recognizer.ml.runtime import Classifier  # noqa: E402
from recognizer.ml.training import _candidate as build_candidate  # noqa: E402 - one way to make a model folder

HELD_OUT_SHARE = 0.2
Z = 2.0


@dataclass(frozen=True)
class Options:
    epochs: int = 2
    mnist_sample: int = 4_000  # MNIST training images the challenger keeps seeing, against forgetting
    learning_rate: float = 0.005
    step: float = 0.6  # how far the challenger moves from the serving weights towards the fine-tuned ones
    batch_size: int = 128
    seed: int = 1


@dataclass(frozen=True)
class Comparison:
    """Two models on one set of images: their accuracies, and the images only one reads right."""

    name: str
    images: int
    serving: float
    challenger: float
    gained: int  # read right by the challenger only
    lost: int  # read right by the serving model only

    @property
    def noise(self) -> float:
        return Z * math.sqrt(self.gained + self.lost)

    def better(self) -> bool:
        return self.gained - self.lost > max(self.noise, 0)

    def worse(self) -> bool:
        return self.lost - self.gained > self.noise

    def __str__(self) -> str:
        return (f"{self.name}: {self.challenger:.2%} against {self.serving:.2%} "
                f"({self.gained} gained, {self.lost} lost, noise ±{self.noise:.1f})")


@dataclass(frozen=True)
class Outcome:
    version: str  # the challenger's
    serving: str | None  # the version that served when the run began
    promoted: bool
    reason: str
    comparisons: list[Comparison]
    seconds: float


def compare(name: str, serving: np.ndarray, challenger: np.ndarray, labels: np.ndarray) -> Comparison:
    """``serving``/``challenger``: each model's probabilities for the same images."""
    old, new = serving.argmax(1) == labels, challenger.argmax(1) == labels
    count = max(1, len(labels))
    return Comparison(name, len(labels), float(old.sum() / count), float(new.sum() / count),
                      int((new & ~old).sum()), int((old & ~new).sum()))


def time_split(images: np.ndarray, labels: np.ndarray, order: list) -> tuple[mnist.Split, mnist.Split]:
    """(older, newest): the newest HELD_OUT_SHARE (at least one) by ``order`` (e.g. ids' times) kept out."""
    ranked = np.argsort(order, kind="stable")
    cut = len(ranked) - max(1, round(len(ranked) * HELD_OUT_SHARE))
    return (images[ranked[:cut]], labels[ranked[:cut]]), (images[ranked[cut:]], labels[ranked[cut:]])


def decide(labelled: Comparison, others: list[Comparison]) -> tuple[bool, str]:
    if not labelled.better():
        return False, f"refused: not better on {labelled}"
    if worse := [str(other) for other in others if other.worse()]:
        return False, f"refused: worse beyond noise on {'; '.join(worse)}"
    return True, f"promoted: better on {labelled}; not worse beyond noise on {'; '.join(map(str, others))}"


def fine_tune(model_dir: Path, data: mnist.Split, options: Options) -> keras.Model:
    """The serving model's dense layers trained on ``data``, then moved back part of the way to the
    serving weights: the convolutions (what strokes it sees) stay, and so does most of what it read."""
    keras.utils.set_random_seed(options.seed)
    model = keras.saving.load_model(model_dir / "model.keras", compile=False)
    for layer in model.layers:
        layer.trainable = isinstance(layer, keras.layers.Dense)
    serving = [weights.copy() for weights in model.get_weights()]
    # Plain SGD moves each weight by its gradient: Adam moved even the settled ones by about the learning
    # rate at every step, which cost the MNIST figures whatever the rate.
    model.compile(optimizer=keras.optimizers.SGD(options.learning_rate, momentum=0.9),
                  loss="sparse_categorical_crossentropy")
    steps = math.ceil(len(data[0]) / options.batch_size)
    # Augmented as the serving model was trained (its last quarter half clean): fine-tuning on plain
    # digits alone moved it off other writers' handwriting.
    batches = training_batches(data, batch_size=options.batch_size, seed=options.seed, augmented=True,
                               clean_from_step=steps * options.epochs * 3 // 4)
    model.fit(batches, epochs=options.epochs, steps_per_epoch=steps, verbose=0)
    # Weights between the two models keep most of what was learnt and lose less of the rest than the
    # fine-tuned ones (which cost MNIST and non-MNIST beyond noise in every recipe tried, docs/review.md).
    model.set_weights([old + options.step * (new - old) for old, new in zip(serving, model.get_weights(), strict=True)])
    return model


def run(model_dir: Path, data_dir: Path | None, labelled: mnist.Split, order: list, options: Options) -> Outcome:
    """Train, compare, keep and (if it wins) promote a challenger; ``order``: the labelled ones' times."""
    started = time.monotonic()
    serving_version = versions.keep(model_dir)
    older, newest = time_split(*labelled, order)
    train_data, test_data = mnist.load_mnist(data_dir)
    (train_x, train_y), validation = hold_out(train_data)  # as the serving model was validated: its drift reference
    sample = np.random.default_rng(options.seed).choice(len(train_x), min(options.mnist_sample, len(train_x)),
                                                        replace=False)
    repeats = max(1, min(10, len(sample) // max(1, 2 * len(older[0]))))  # the labels weigh about a third
    fit_data = mnist.combine((train_x[sample], train_y[sample]), *([older] * repeats))
    model = fine_tune(model_dir, fit_data, options)
    serving = Classifier.from_dir(model_dir)
    other_x, other_y = handwriting.inputs()
    with install.staging(model_dir) as staged:
        details = {"source": "manage.py retrain", **card.data_details(data_dir), "fine_tuned_from": serving_version,
                   "train_images": len(fit_data[0]), "options": asdict(options)}
        challenger_card = build_candidate(model, staged, test_data, details, validation)
        challenger = Classifier.from_dir(staged)
        sets = [("newest labelled predictions", mnist.to_unit(newest[0]), newest[1]),
                ("MNIST test", mnist.to_unit(test_data[0]), test_data[1]),
                ("non-MNIST handwriting", other_x, other_y)]
        comparisons = [compare(name, serving.predict(x), challenger.predict(x), np.asarray(y))
                       for name, x, y in sets]
        promoted, reason = decide(comparisons[0], comparisons[1:])
        challenger_card["retrain"] = {
            "labelled": {"trained_on": len(older[0]), "held_out": len(newest[0]), "repeats": repeats},
            "serving": {"version": serving_version, "labelled": comparisons[0].serving,
                        "mnist_test": comparisons[1].serving, "non_mnist": comparisons[2].serving},
            "challenger": {"labelled": comparisons[0].challenger, "mnist_test": comparisons[1].challenger,
                           "non_mnist": comparisons[2].challenger},
            "comparisons": [asdict(comparison) for comparison in comparisons],
            "promoted": promoted, "reason": reason,
        }
        card.write(challenger_card, staged)
        version = versions.add(model_dir, staged)
    if promoted:
        versions.promote(model_dir, version, reason=reason)
    return Outcome(version, serving_version, promoted, reason, comparisons, time.monotonic() - started)
