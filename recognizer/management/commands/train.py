"""`manage.py train`: train mnist_deep on MNIST and install it, or install an existing model with --load."""

import argparse
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from recognizer.ml import training  # needs TensorFlow (requirements-train.txt)
from recognizer.ml.mnist import MnistError, find_data_dir


def labelled_inputs():
    """The corrected predictions' 28×28 inputs and labels, read from Cassandra."""
    from recognizer.exports import labelled_dataset

    images, labels, _ = labelled_dataset()
    if not len(images):
        raise CommandError("--include-feedback: no corrected predictions are stored yet")
    return images, labels


class Command(BaseCommand):
    help = (
        "Train the mnist_deep network on the MNIST training images, evaluate it on the 10,000 test images "
        "and install model.keras, model.tflite, card.json and pictures into the model folder."
    )
    requires_system_checks = []  # training needs neither the URLs nor the database

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        defaults = training.Options()
        parser.add_argument("--data", help="folder with the four MNIST IDX files, gzipped or not "
                            "(default: $MNIST_DIR, then ../shared/mnist, else download)")
        parser.add_argument("--out", help="model folder to write (default: settings.NUMBERFIGURE_MODEL_DIR)")
        parser.add_argument("--epochs", type=int, default=defaults.epochs)
        parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
        parser.add_argument("--seed", type=int, help="make the run reproducible")
        parser.add_argument("--augment", action=argparse.BooleanOptionalAction, default=defaults.augment,
                            help="random shifts, rotations, zoom and stroke-width changes (default: on)")
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
                card = training.install_model(Path(options["load"]), out_dir, data_dir)
            else:
                run_options = training.Options(
                    epochs=options["epochs"], batch_size=options["batch_size"], seed=options["seed"],
                    augment=options["augment"], limit=options["limit"],
                )
                feedback = labelled_inputs() if options["include_feedback"] else None
                card = training.run(data_dir, out_dir, run_options, feedback)
        except (MnistError, training.TrainingError) as exc:
            raise CommandError(str(exc)) from exc
        if "feedback" in card:
            report = card["feedback"]
            self.stdout.write(
                f"Feedback: trained on {report['trained_on']} corrected predictions, held out {report['held_out']} "
                f"(accuracy on them {report['held_out_accuracy']}); MNIST test accuracy "
                f"{report['mnist_test_accuracy']:.2%}, installed model {report['previous_mnist_test_accuracy']}"
            )
        if not card.get("installed", True):
            self.stdout.write(self.style.WARNING("MNIST test accuracy dropped: the installed model was kept."))
            return
        self.stdout.write(self.style.SUCCESS(
            f"Installed model {card['version']} in {out_dir}: test accuracy {card['test_accuracy']:.2%} "
            f"(LiteRT {card['test_accuracy_litert']:.2%}), {card['parameters']:,} parameters"
        ))
