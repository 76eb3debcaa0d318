"""`manage.py drift_reference`: add the drift reference to the installed model's card."""

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from recognizer.ml import mnist, reference


class Command(BaseCommand):
    help = ("Classify MNIST's held-out validation images with the installed model and write how it answered "
            "(confidence histogram, digits, unsure share) into its card: the reference of DRIFT_REFERENCE=card.")
    requires_system_checks = []

    def add_arguments(self, parser) -> None:
        parser.add_argument("--model-dir", help="model folder (default: settings.NUMBERFIGURE_MODEL_DIR)")
        parser.add_argument("--data", help="MNIST folder (default: $MNIST_DIR, then ../shared/mnist)")

    def handle(self, *args, **options) -> None:
        model_dir = Path(options["model_dir"] or settings.NUMBERFIGURE_MODEL_DIR)
        try:
            data_dir = mnist.find_data_dir(options["data"] or getattr(settings, "MNIST_DIR", None))
            written = reference.add_to_card(model_dir, data_dir, unsure_below=settings.NUMBERFIGURE_UNSURE_BELOW)
        except (mnist.MnistError, OSError) as exc:
            raise CommandError(f"cannot write the drift reference of {model_dir}: {exc}") from exc
        self.stdout.write(json.dumps(written))
