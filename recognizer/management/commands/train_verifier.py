"""`manage.py train_verifier`: make the cut verifier segmentation weighs touching digits' cuts with."""

from recognizer.management.segmentation_model import SegmentationModelCommand
from recognizer.ml import verifier  # needs TensorFlow (requirements-train.txt)
from recognizer.ml.runtime import VERIFIER_PATH


class Command(SegmentationModelCommand):
    help = ("Train the cut verifier (one well-cut digit or not) on pieces of touching MNIST training digits "
            "and write it as LiteRT, with how it was made beside it (.json).")
    module, default_out = verifier, VERIFIER_PATH
    options = ("pictures", "validation_pictures", "epochs", "seed")

    def outcome(self, summary: dict) -> str:
        return (f"{summary['validation_accuracy']:.2%} of {summary['validation_pieces']:,} held-out pieces right, "
                f"trained on {summary['pieces']:,} in {summary['seconds']:.0f} s")
