"""`manage.py evaluate_model`: recompute the installed model's test accuracy, served and Keras side by side."""

from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from recognizer.ml.mnist import MnistError, find_data_dir, load_mnist
from recognizer.ml.runtime import Classifier


class Command(BaseCommand):
    help = (
        "Load the model folder through the serving runtime (LiteRT) and as a Keras model, classify the "
        "10,000 MNIST test images with both and print their accuracy."
    )
    requires_system_checks = []

    def add_arguments(self, parser) -> None:
        parser.add_argument("--model-dir", help="model folder (default: settings.NUMBERFIGURE_MODEL_DIR)")
        parser.add_argument("--data", help="MNIST folder (default: $MNIST_DIR, then ../shared/mnist)")
        parser.add_argument("--min-accuracy", type=float, help="fail unless both runtimes reach this, e.g. 0.995")

    def handle(self, *args, **options) -> None:
        model_dir = Path(options["model_dir"] or settings.NUMBERFIGURE_MODEL_DIR)
        try:
            _, (x_test, y_test) = load_mnist(find_data_dir(options["data"] or getattr(settings, "MNIST_DIR", None)))
            served = Classifier.from_dir(model_dir)
        except (MnistError, OSError, ValueError, KeyError) as exc:
            raise CommandError(f"cannot evaluate {model_dir}: {exc}") from exc
        images = x_test.astype(np.float32) / 255.0
        predictions = {"LiteRT (served)": served.predict(images).argmax(axis=1)}
        import keras  # the training environment only; the web process never needs it

        model = keras.saving.load_model(model_dir / "model.keras", compile=False)
        predictions["Keras"] = model.predict(images[..., np.newaxis], batch_size=1000, verbose=0).argmax(axis=1)

        self.stdout.write(f"Model {served.version} in {model_dir}, {len(y_test):,} test images")
        for name, predicted in predictions.items():
            right = int((predicted == y_test).sum())
            per_digit = [float((predicted[y_test == d] == d).mean()) for d in range(10)]
            worst = int(np.argmin(per_digit))
            self.stdout.write(
                f"  {name:16} accuracy {right / len(y_test):.2%} ({len(y_test) - right} errors), "
                f"weakest digit {worst}: {per_digit[worst]:.2%}"
            )
        agreement = float((predictions["Keras"] == predictions["LiteRT (served)"]).mean())
        self.stdout.write(f"  runtimes agree on {agreement:.2%} of the test images")
        lowest = min(float((p == y_test).mean()) for p in predictions.values())
        if options["min_accuracy"] is not None and lowest < options["min_accuracy"]:
            raise CommandError(f"test accuracy {lowest:.2%} is below {options['min_accuracy']:.2%}")
