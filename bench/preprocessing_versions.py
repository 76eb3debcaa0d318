"""Does the current preprocessing read the same digits as an earlier one? Inputs changed, by how much, accuracy.

The earlier version is read from git (``--old``, default 6559ae4: before the speed-up of 2026-12-07) into a
module of its own at run time, so the app keeps no second copy. Both read each upload through the
upload path (``decode_image``, ``to_mnist``); per set this prints how many 28×28 inputs differ at all,
how many differ by more than half a grey level (so their stored 8-bit PNG differs), the largest and
the mean absolute pixel difference (pixels in [0, 1]), refusals that differ, and the served model's
accuracy with either version's inputs. The sets:

    UCI       1,797 digits of 43 writers (recognizer.ml.handwriting), 160 px grey PNGs
    browser   the 50 digits of tests/ml/strokes.json, painted as the draw page's canvas
    random    600 random scribbles on that canvas (bench/canvases.py, seeded): no labels
    photos    every picture in tests/preprocessing/images (its label: the first digit of its name)

``--runs N`` then times both on the draw page's canvas with bench/breakdown.py's in-process timer,
taking turns for ``--rounds`` rounds so the machine's drift falls on both alike.

    .venv/bin/python bench/preprocessing_versions.py [--old 6559ae4] [--model-dir mlmodel] [--runs 1000]
                                                     [--rounds 3]
"""

import argparse
import re
import subprocess
import sys
import types
from collections.abc import Callable
from pathlib import Path

import breakdown
import canvases
import numpy as np
import report  # bench/report.py: --output

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from recognizer import preprocessing  # noqa: E402
from recognizer.errors import InvalidImage  # noqa: E402
from recognizer.ml import handwriting  # noqa: E402
from recognizer.ml.runtime import Classifier  # noqa: E402

MAX_PIXELS = 25_000_000
HALF_LEVEL = 0.5 / 255  # a bigger difference can change the stored 8-bit input


def old_preprocessing(commit: str) -> types.ModuleType:
    """recognizer/preprocessing.py as it was at ``commit``, as a module of the recognizer package."""
    source = subprocess.run(["git", "show", f"{commit}:recognizer/preprocessing.py"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    module = types.ModuleType(f"recognizer.preprocessing_{commit}")
    module.__package__ = "recognizer"
    exec(compile(source, f"{commit}:recognizer/preprocessing.py", "exec"), module.__dict__)  # noqa: S102
    return module


def read(version: types.ModuleType, data: bytes) -> np.ndarray | None:
    """The model input ``version`` makes of ``data``; None when it refuses the upload."""
    try:
        return version.to_mnist(version.decode_image(data, max_pixels=MAX_PIXELS))
    except InvalidImage:
        return None


def photo_tests() -> list[tuple[int | None, bytes]]:
    """(label or None for a picture without a digit, bytes) of every preprocessing test picture."""
    pictures = []
    for path in sorted((ROOT / "tests/preprocessing/images").iterdir()):
        digit = re.search(r"\d", path.stem)
        pictures.append((int(digit.group()) if digit else None, path.read_bytes()))
    return pictures


def uci() -> list[tuple[int, bytes]]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    return [(int(label), handwriting.picture(cells)) for cells, label in zip(digits.images, digits.target,
                                                                             strict=True)]


def compare(name: str, uploads: list[tuple[int | None, bytes]], old: types.ModuleType,
            predict: Callable[[np.ndarray], np.ndarray]) -> None:
    pairs = [(label, read(old, data), read(preprocessing, data)) for label, data in uploads]
    both = [(label, a, b) for label, a, b in pairs if a is not None and b is not None]
    refusals_differ = sum((a is None) != (b is None) for _, a, b in pairs)
    diffs = np.stack([np.abs(a - b) for _, a, b in both]) if both else np.zeros((1, 28, 28))
    changed = int((diffs.reshape(len(diffs), -1).max(axis=1) > 0).sum()) if both else 0
    stored_changed = int((diffs.reshape(len(diffs), -1).max(axis=1) > HALF_LEVEL).sum()) if both else 0
    line = (f"{name:<8} {len(pairs):>6} {changed:>8} {stored_changed:>8} {diffs.max():>9.2e} {diffs.mean():>9.2e}"
            f" {refusals_differ:>8}")
    labelled = [(label, a, b) for label, a, b in both if label is not None]
    if labelled:
        labels = np.array([label for label, _, _ in labelled])
        accuracy = [(predict(np.stack([x[i] for x in labelled])).argmax(axis=1) == labels).mean() for i in (1, 2)]
        answers_differ = int((predict(np.stack([a for _, a, _ in labelled])).argmax(axis=1)
                              != predict(np.stack([b for _, _, b in labelled])).argmax(axis=1)).sum())
        line += f" {accuracy[0]:>9.2%} {accuracy[1]:>9.2%} {answers_differ:>8}"
    print(line, flush=True)


@report.writes_output
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", default="6559ae4", help="the commit to compare with")
    parser.add_argument("--model-dir", type=Path, default=ROOT / "mlmodel")
    parser.add_argument("--runs", type=int, default=0, help="time both versions, this many runs a round")
    parser.add_argument("--rounds", type=int, default=3)
    report.add_argument(parser)
    args = parser.parse_args()
    old = old_preprocessing(args.old)
    classifier = Classifier.from_dir(args.model_dir)
    print(f"old: {args.old}, new: the working tree. Inputs read by both; |Δ| of pixels in [0, 1].")
    print(f"{'set':<8} {'images':>6} {'changed':>8} {'>½ lvl':>8} {'max |Δ|':>9} {'mean |Δ|':>9} {'refusal≠':>8}"
          f" {'acc old':>9} {'acc new':>9} {'digit≠':>8}")
    compare("UCI", uci(), old, classifier.predict)
    compare("browser", canvases.browser_canvases(), old, classifier.predict)
    compare("random", [(None, png) for png in canvases.random_canvases(600)], old, classifier.predict)
    compare("photos", photo_tests(), old, classifier.predict)
    if args.runs:
        print()
        breakdown.report_in_process(args.runs, args.rounds, {args.old: old, "current": preprocessing})


if __name__ == "__main__":
    main()
