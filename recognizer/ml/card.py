"""The model card (card.json): what a model is, what it was trained on, and how well it reads.

It names files by their checksums, never by where they lay on the machine that trained them.
"""

import hashlib
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import keras
import tensorflow as tf

from recognizer.ml import mnist
from recognizer.ml.runtime import CARD_FILE, MODEL_FILE


def data_details(data_dir: Path | None) -> dict:
    """Which MNIST: named by the checksums of its files, not by the folder it was read from."""
    return {
        "data": "MNIST IDX files" if data_dir else "keras.datasets.mnist (downloaded)",
        "data_checksums": mnist.data_checksums(data_dir),
    }


def build(model: keras.Model, folder: Path, *, details: dict, figures: dict) -> dict:
    """The card of ``model``, whose model.keras and model.tflite lie in ``folder``."""
    now = datetime.now(UTC)
    files = {name: sha256(folder / name) for name in ("model.keras", MODEL_FILE)}
    return {
        "name": model.name,
        "version": f"{now:%Y-%m-%d}-{files[MODEL_FILE][:8]}",
        "created_at": now.isoformat(timespec="seconds"),
        **details,
        **figures,
        "parameters": model.count_params(),
        "layers": [f"{layer.__class__.__name__} -> {tuple(layer.output.shape)}" for layer in model.layers],
        "files": files,
        "software": {"tensorflow": tf.__version__, "keras": keras.__version__},
    }


def write(card: dict, folder: Path) -> None:
    """card.json, indented, with lists of numbers kept on one line so the confusion matrix reads as a table."""
    text = json.dumps(card, indent=2)
    text = re.sub(r"\[[-+.\deE,\s]+\]", lambda m: json.dumps(json.loads(m.group())), text)
    (folder / CARD_FILE).write_text(text + "\n")


def read(folder: Path) -> dict | None:
    """The card installed in folder, or None."""
    path = folder / CARD_FILE
    return json.loads(path.read_text()) if path.exists() else None


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
