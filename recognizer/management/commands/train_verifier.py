"""`manage.py train_verifier`: make the cut verifier segmentation weighs touching digits' cuts with."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from recognizer.ml import verifier  # needs TensorFlow (requirements-train.txt)
from recognizer.ml.mnist import MnistError, find_data_dir
from recognizer.ml.runtime import VERIFIER_PATH

OPTIONS = ("pictures", "validation_pictures", "epochs", "seed")  # verifier.Options a caller may set


class Command(BaseCommand):
    help = ("Train the cut verifier (one well-cut digit or not) on pieces of touching MNIST training digits "
            "and write it as LiteRT, with how it was made beside it (.json).")
    requires_system_checks = []

    def add_arguments(self, parser) -> None:
        defaults = verifier.Options()
        parser.add_argument("--data", help="MNIST folder (default: $MNIST_DIR, then ../shared/mnist)")
        parser.add_argument("--out", type=Path, default=VERIFIER_PATH, help=f"default: {VERIFIER_PATH}")
        for name in OPTIONS:
            parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=getattr(defaults, name))

    def handle(self, *args, **options) -> None:
        try:
            trained = verifier.train(find_data_dir(options["data"]), verifier.Options(**{
                name: options[name] for name in OPTIONS}))
        except MnistError as exc:
            raise CommandError(str(exc)) from exc
        verifier.save(trained, options["out"])
        summary = trained.summary
        self.stdout.write(self.style.SUCCESS(
            f"Wrote {options['out']} ({len(trained.tflite) / 1e3:.0f} kB): {summary['validation_accuracy']:.2%} of "
            f"{summary['validation_pieces']:,} held-out pieces right, trained on {summary['pieces']:,} "
            f"in {summary['seconds']:.0f} s"))
