"""`manage.py retrain`: a challenger from the labelled predictions, promoted only if it wins."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from recognizer.exports import labelled_dataset
from recognizer.ml import retraining  # needs TensorFlow (requirements-train.txt)
from recognizer.ml.mnist import MnistError, find_data_dir
from recognizer.storage import ids


class Command(BaseCommand):
    help = ("Fine-tune a challenger from the serving model on MNIST and the labelled predictions (the newest "
            "fifth kept out), compare both on MNIST test, those newest labels and non-MNIST handwriting, keep "
            "it as a version, and serve it only if it is better on the labels and not worse beyond noise.")

    def add_arguments(self, parser):
        defaults = retraining.Options()
        parser.add_argument("--data", help="folder of the MNIST IDX files (default: $MNIST_DIR)")
        parser.add_argument("--epochs", type=int, default=defaults.epochs)
        parser.add_argument("--mnist-sample", type=int, default=defaults.mnist_sample)
        parser.add_argument("--learning-rate", type=float, default=defaults.learning_rate)
        parser.add_argument("--seed", type=int, default=defaults.seed)

    def handle(self, *args, data, epochs, mnist_sample, learning_rate, seed, **options):
        images, labels, chosen = labelled_dataset()
        if len(images) < 2:
            raise CommandError("Too few labelled predictions to retrain on (label some on /review first).")
        run_options = retraining.Options(epochs=epochs, mnist_sample=mnist_sample, learning_rate=learning_rate,
                                         seed=seed)
        try:
            outcome = retraining.run(Path(settings.NUMBERFIGURE_MODEL_DIR), find_data_dir(data), (images, labels),
                                     [ids.unix_time(p.id) for p in chosen], run_options)
        except MnistError as error:
            raise CommandError(str(error)) from error
        for comparison in outcome.comparisons:
            self.stdout.write(f"  {comparison}")
        style = self.style.SUCCESS if outcome.promoted else self.style.WARNING
        self.stdout.write(style(f"Challenger {outcome.version} against {outcome.serving}: {outcome.reason} "
                                f"({outcome.seconds:.0f} s)"))
