"""`manage.py train`: train mnist_deep on MNIST and install it, or install an existing model with --load."""

import argparse
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from recognizer.ml import training  # needs TensorFlow (requirements-train.txt)
from recognizer.ml.mnist import MnistError, find_data_dir
from recognizer.ml.progress import duration


def labelled_inputs():
    """The corrected predictions' 28×28 inputs and labels, read from Cassandra."""
    from recognizer.exports import labelled_dataset

    images, labels, _ = labelled_dataset()
    if not len(images):
        raise CommandError("--include-feedback: no corrected predictions are stored yet")
    return images, labels


class Command(BaseCommand):
    help = (
        "Train the mnist_deep network on the MNIST training images (a share held out to validate on), "
        "evaluate it on the 10,000 test images and on non-MNIST handwriting, and install model.keras, "
        "model.tflite, card.json and pictures into the model folder."
    )
    requires_system_checks = []  # training needs neither the URLs nor the database

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        defaults = training.Options()
        parser.add_argument("--data", help="folder with the four MNIST IDX files, gzipped or not "
                            "(default: $MNIST_DIR, then ../shared/mnist, else download)")
        parser.add_argument("--out", help="model folder to write (default: settings.NUMBERFIGURE_MODEL_DIR)")
        parser.add_argument("--epochs", type=int, default=defaults.epochs)
        parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
        parser.add_argument("--learning-rate", type=float, default=defaults.learning_rate,
                            help="the peak of the one-cycle learning-rate schedule")
        parser.add_argument("--seed", type=int, help="make the run reproducible")
        parser.add_argument("--augment", action=argparse.BooleanOptionalAction, default=defaults.augment,
                            help="random warps, slant, elastic distortion, stroke width and small occlusions "
                            "(default: on)")
        parser.add_argument("--limit", type=int, help="train on the first N training images only (smoke runs)")
        parser.add_argument("--load", metavar="PATH", help="install this Keras model file instead of training")
        parser.add_argument("--include-feedback", action="store_true",
                            help="also train on the corrected predictions stored in Cassandra (20%% held out "
                            "to report on); install only if the MNIST test accuracy does not drop")

    def handle(self, *args, **options) -> None:
        data_dir = find_data_dir(options["data"] or getattr(settings, "MNIST_DIR", None))
        out_dir = Path(options["out"] or settings.NUMBERFIGURE_MODEL_DIR)
        try:
            if options["load"]:
                outcome = training.install_model(Path(options["load"]), out_dir, data_dir)
            else:
                run_options = training.Options(
                    epochs=options["epochs"], batch_size=options["batch_size"],
                    learning_rate=options["learning_rate"], seed=options["seed"],
                    augment=options["augment"], limit=options["limit"],
                )
                feedback = labelled_inputs() if options["include_feedback"] else None
                # The progress bar redraws one line: it needs the raw stream, not Django's line wrapper.
                progress = options.get("stdout") or sys.stdout
                outcome = training.run(data_dir, out_dir, run_options, feedback=feedback, progress=progress)
        except (MnistError, training.TrainingError) as exc:
            raise CommandError(str(exc)) from exc
        self.summarise(outcome, out_dir)

    def summarise(self, outcome: training.Outcome, out_dir: Path) -> None:
        """One summary: where the model went, its version, its accuracy figures and the time taken."""
        card, previous = outcome.card, outcome.previous
        if "feedback" in card:
            report = card["feedback"]
            read = "-" if report["held_out_accuracy"] is None else f"{report['held_out_accuracy']:.0%}"
            self.stdout.write(f"Feedback: trained on {report['trained_on']} corrected predictions, held out "
                              f"{report['held_out']} (read right by the new model: {read})")
        if outcome.installed:
            self.stdout.write(self.style.SUCCESS(f"Installed {card['name']} {card['version']} in {out_dir}"))
        else:
            self.stdout.write(self.style.WARNING(
                f"Not installed: MNIST test accuracy {card['test_accuracy']:.2%} is below the installed model's "
                f"{previous['test_accuracy']:.2%}; the installed model was kept."
            ))
        validation = card["history"]["val_accuracy"][-1] if card.get("history") else None
        self.stdout.write(
            f"  MNIST test accuracy {card['test_accuracy']:.2%} (served LiteRT file {card['test_accuracy_litert']:.2%})"
            + (f", held-out validation {validation:.2%}" if validation is not None else "")
        )
        self.stdout.write(f"  non-MNIST handwriting {card['non_mnist']['accuracy_litert']:.2%} "
                          f"of {card['non_mnist']['images']:,} ({card['non_mnist']['set']})")
        if "training_seconds" in card:
            epochs = card["history"]["seconds"]
            self.stdout.write(
                f"  trained on {card['train_images']:,} images in {duration(card['training_seconds'])} "
                f"({len(epochs)} epoch{'s' if len(epochs) > 1 else ''}, {duration(sum(epochs) / len(epochs))} each); "
                f"whole run {duration(outcome.seconds)}"
            )
        else:
            self.stdout.write(f"  whole run {duration(outcome.seconds)}")
