"""Installing a model folder atomically: a serving process never sees half of a model.

A candidate is built in a staging folder beside the model folder (same file system), then each file
is moved in with os.replace, card.json last: the runtime reloads when the card changes, and by then
the model files are in place.
"""

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

ARTIFACTS = ("model.keras", "model.tflite", "card.json", "training_curves.png", "confusion_matrix.png")


@contextlib.contextmanager
def staging(model_dir: Path) -> Iterator[Path]:
    """A temporary folder inside model_dir, removed afterwards with whatever was not installed."""
    model_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=model_dir, prefix=".incoming-") as name:
        yield Path(name)


def install(staged: Path, model_dir: Path) -> None:
    """Move the staged artifacts into model_dir, card last; drop artifacts the new model lacks
    (a model installed with --load has no training curves)."""
    for name in ARTIFACTS:
        if (staged / name).exists():
            os.replace(staged / name, model_dir / name)
        else:
            (model_dir / name).unlink(missing_ok=True)
