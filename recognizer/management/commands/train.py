"""`manage.py train`: train mnist_deep on MNIST and install it, or install an existing model with --load."""

import argparse
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from recognizer.ml import training  # needs TensorFlow (requirements-train.txt)
from recognizer.ml.mnist import MnistError, find_data_dir


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
                card = training.run(data_dir, out_dir, run_options)
        except (MnistError, training.TrainingError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(
            f"Installed model {card['version']} in {out_dir}: test accuracy {card['test_accuracy']:.2%} "
            f"(LiteRT {card['test_accuracy_litert']:.2%}), {card['parameters']:,} parameters"
        ))
