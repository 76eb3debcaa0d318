"""`manage.py train_strings`: make the string reader segmentation reads runs of touching digits with."""

from recognizer.management.segmentation_model import SegmentationModelCommand
from recognizer.ml import strings  # needs TensorFlow (requirements-train.txt)
from recognizer.ml.runtime import STRINGS_PATH


class Command(SegmentationModelCommand):
    help = ("Train the string reader (a run of touching digits read whole) on runs of touching MNIST training "
            "digits and write it as LiteRT, with how it was made beside it (.json).")
    module, default_out = strings, STRINGS_PATH
    options = ("runs", "validation_runs", "epochs", "seed")

    def outcome(self, summary: dict) -> str:
        return (f"{summary['validation_read_whole']:.2%} of {summary['validation_runs']:,} held-out runs read whole, "
                f"trained on {summary['runs']:,} in {summary['seconds']:.0f} s")
