"""Stored predictions as files: CSV and JSON Lines rows, and MNIST-format datasets."""

import base64
import csv
import io
import json
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
from PIL import Image

from .ml.mnist import write_idx
from .selectors import Filters, StoredPrediction, prediction_iter
from .storage.records import utc_timestamp

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what spreadsheets would run as a formula
COLUMNS = ("id", "picture_id", "position", "created_at", "source", "filename", "digit", "confidence", "probabilities",
           "model_version", "latency_ms", "corrected_label", "corrected_by", "corrected_at", "input_png")


def row(prediction: StoredPrediction, *, with_corrector: bool = True) -> dict:
    """One prediction as plain data; the 28×28 input as base64 PNG so the export can be trained on.
    Who corrected it (a staff user name) only ``with_corrector``: the history may be public."""
    return {
        "id": str(prediction.id),
        "picture_id": str(prediction.picture),  # a picture's digits share it; ``position`` orders its number
        "position": prediction.position or 0,
        "created_at": utc_timestamp(prediction.created_at),
        "source": prediction.source,
        "filename": prediction.filename,
        "digit": prediction.digit,
        "confidence": round(prediction.confidence, 6),
        "probabilities": [round(p, 6) for p in prediction.probabilities],
        "model_version": prediction.model_version,
        "latency_ms": round(prediction.latency_ms, 3),
        "corrected_label": prediction.corrected_label,
        "corrected_by": prediction.corrected_by if with_corrector else None,
        "corrected_at": utc_timestamp(prediction.corrected_at),
        "input_png": base64.b64encode(prediction.input_png).decode(),
    }


def csv_lines(predictions: Iterable[StoredPrediction], *, with_corrector: bool = True) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    for prediction in predictions:
        values = row(prediction, with_corrector=with_corrector)
        values["probabilities"] = " ".join(map(str, values["probabilities"]))
        writer.writerow({name: _not_a_formula(value) for name, value in values.items()})
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def _not_a_formula(value):
    """A text cell a spreadsheet would run as a formula gets a leading apostrophe (OWASP's advice);
    every text cell, since any may hold a client's words (a file name, a model version, a user name).
    Not defusedcsv: it also rewrites every ``|`` in such a cell (the cell no longer says what was
    stored) and lets a leading tab or carriage return through (docs/decisions/csv-formula-escaping.md)."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def jsonl_lines(predictions: Iterable[StoredPrediction], *, with_corrector: bool = True) -> Iterator[str]:
    for prediction in predictions:
        yield json.dumps(row(prediction, with_corrector=with_corrector)) + "\n"


def input_array(prediction: StoredPrediction) -> np.ndarray:
    """The stored 28×28 input as uint8, white ink on black, as in MNIST."""
    return np.asarray(Image.open(io.BytesIO(prediction.input_png)).convert("L"), dtype=np.uint8)


def labelled_dataset(*, confident_above: float | None = None) -> tuple[np.ndarray, np.ndarray, list[StoredPrediction]]:
    """Corrected predictions (their label is the person's), plus, with ``confident_above``,
    uncorrected ones the model was at least that sure of (their label is the model's)."""
    chosen = list(prediction_iter(filters=Filters(labelled=True)))
    if confident_above is not None:
        chosen += [p for p in prediction_iter() if p.corrected_label is None and p.confidence >= confident_above]
    images = np.stack([input_array(p) for p in chosen]) if chosen else np.zeros((0, 28, 28), np.uint8)
    labels = np.array([p.label for p in chosen], dtype=np.uint8)
    return images, labels, chosen


def export_dataset(out_dir: Path, *, confident_above: float | None = None) -> int:
    """Write ``images-idx3-ubyte``/``labels-idx1-ubyte`` and ``png/<label>/<id>.png``; return the count."""
    images, labels, chosen = labelled_dataset(confident_above=confident_above)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_idx(out_dir / "images-idx3-ubyte", images)
    write_idx(out_dir / "labels-idx1-ubyte", labels)
    for prediction in chosen:
        folder = out_dir / "png" / str(prediction.label)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{prediction.id}.png").write_bytes(prediction.input_png)
    return len(chosen)
