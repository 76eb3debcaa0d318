"""`manage.py evaluate_model`: recompute the installed model's figures and check them against its card."""

import json
import os
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from recognizer.ml import mnist
from recognizer.ml.accuracy import score
from recognizer.ml.runtime import CARD_FILE, Classifier


class Command(BaseCommand):
    help = (
        "Load the model folder through the serving runtime (LiteRT) and as a Keras model, classify the "
        "10,000 MNIST test images with both and the non-MNIST handwriting set with the served file, print "
        "their accuracy and fail if it is not what the model card says."
    )
    requires_system_checks = []

    def add_arguments(self, parser) -> None:
        parser.add_argument("--model-dir", help="model folder (default: settings.NUMBERFIGURE_MODEL_DIR)")
        parser.add_argument("--data", help="MNIST folder (default: $MNIST_DIR, then ../shared/mnist)")
        parser.add_argument("--min-accuracy", type=float, help="fail unless both runtimes reach this, e.g. 0.995")

    def handle(self, *args, **options) -> None:
        model_dir = Path(options["model_dir"] or settings.NUMBERFIGURE_MODEL_DIR)
        try:
            data_dir = mnist.find_data_dir(options["data"] or getattr(settings, "MNIST_DIR", None))
            _, (x_test, y_test) = mnist.load_mnist(data_dir)
            served = Classifier.from_dir(model_dir)
            card = json.loads((model_dir / CARD_FILE).read_text())
        except (mnist.MnistError, OSError, ValueError, KeyError) as exc:
            raise CommandError(f"cannot evaluate {model_dir}: {exc}") from exc
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up notices
        import keras  # the training environment only; the web process never needs it

        from recognizer.ml.evaluation import handwriting_score

        images = mnist.to_unit(x_test)
        model = keras.saving.load_model(model_dir / "model.keras", compile=False)
        scores = {
            "LiteRT (served)": score(served.predict(images), y_test),
            "Keras": score(model.predict(images[..., np.newaxis], batch_size=1000, verbose=0), y_test),
        }
        handwriting = handwriting_score(served)
        self.stdout.write(f"Model {served.version} in {model_dir}")
        for name, result in (*scores.items(), ("non-MNIST, served", handwriting)):
            digit = min(result.per_digit, key=result.per_digit.get)
            self.stdout.write(f"  {name:18} accuracy {result.accuracy:.2%} ({result.errors} errors of "
                              f"{np.sum(result.confusion):,}), weakest digit {digit}: {result.per_digit[digit]:.2%}")

        measured = {"test_accuracy": scores["Keras"], "test_accuracy_litert": scores["LiteRT (served)"]}
        claimed = {key: card[key] for key in measured}
        if "non_mnist" in card:  # cards written before the non-MNIST set lack it
            measured["non_mnist accuracy_litert"] = handwriting
            claimed["non_mnist accuracy_litert"] = card["non_mnist"]["accuracy_litert"]
        differ = [f"{key} {claimed[key]:.2%} on the card, {result.accuracy:.2%} measured"
                  for key, result in measured.items() if abs(claimed[key] - result.accuracy) > 1e-6]
        if differ:
            raise CommandError("the model card does not hold: " + "; ".join(differ))
        self.stdout.write(self.style.SUCCESS("  the figures match the model card"))
        lowest = min(result.accuracy for result in scores.values())
        if options["min_accuracy"] is not None and lowest < options["min_accuracy"]:
            raise CommandError(f"test accuracy {lowest:.2%} is below {options['min_accuracy']:.2%}")

