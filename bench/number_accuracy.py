"""How well are numbers read whole? An evaluation set of hand-written numbers, read as an upload is.

The set (seeded, made at run time; nothing is stored):

    MNIST  numbers of 2-6 MNIST test digits, each scaled to a random height (36-60 px, so sizes vary
           up to 1.7×), its baseline moved by up to ±12 % of the height, pasted dark on white paper
           with either a gap (15-60 % of the height between their inks), touching (moved together
           until the inks meet) or overlapping (then 4-10 % of the height further).
    UCI    numbers of 2-6 digits of the non-MNIST set (recognizer.ml.handwriting: 43 other writers),
           put together in its 8×8 cells with a gap of 1-2 empty columns or none (touching), then
           drawn as that set draws one digit (20 px a cell, bilinear).

Each number is a PNG read by the upload path (``decode_image``, ``segmentation.split_digits``, the
model in one batch). Printed: whole numbers right and digits right, by length and spacing (a digit
counts when the count of digits is right and it is in its place). Then single digits, by today's
single-digit path (``to_mnist``) and by the number path: MNIST test digits (as 84 px pictures), the
non-MNIST set, and the draw page's canvases of tests/ml/strokes.json.

    .venv/bin/python bench/number_accuracy.py [--count 100] [--singles 10000] [--model-dir mlmodel] [--seed 32]
                                                [--output FILE[#NAME]]
    .venv/bin/python bench/number_accuracy.py --runs 300   # only: the cost of each digit after the first
"""

import argparse
import io
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import canvases
import numpy as np
import report  # bench/report.py: --output
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from recognizer import preprocessing, recognition, segmentation  # noqa: E402
from recognizer.errors import InvalidImage  # noqa: E402
from recognizer.ml import handwriting, mnist  # noqa: E402
from recognizer.ml.runtime import Classifier  # noqa: E402

MAX_PIXELS = 25_000_000
SPACINGS = ("gap", "touching", "overlapping")
LENGTHS = range(2, 7)
TOUCHING_STEP = 130  # canvas units from one drawn digit to the next: "2026" is one piece of ink


def png(paper: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(paper).save(out, "PNG")
    return out.getvalue()


def _scaled(digit: np.ndarray, height: int) -> np.ndarray:
    """An MNIST digit (uint8, white on black) cropped to its ink and scaled to ``height``, in [0, 1]."""
    rows, cols = np.flatnonzero(digit.any(axis=1)), np.flatnonzero(digit.any(axis=0))
    crop = digit[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    width = max(1, round(crop.shape[1] * height / crop.shape[0]))
    return np.asarray(Image.fromarray(crop).resize((width, height), Image.Resampling.BILINEAR)) / 255


def _meet(canvas: np.ndarray, digit: np.ndarray, top: int, start: int) -> int:
    """The column where ``digit`` (placed at row ``top``) first touches the ink on ``canvas``, moving
    left from ``start``; where its box would overlap the ink's by 40 % instead when they never meet."""
    inked, new = canvas > 0.3, digit > 0.3
    height, width = digit.shape
    stop = start - int(0.4 * width)
    for left in range(start, stop, -1):
        if (inked[top:top + height, left:left + width] & new).any():
            return left
    return stop


def mnist_number(rng: np.random.Generator, images: np.ndarray, labels: np.ndarray, length: int,
                 spacing: str) -> tuple[str, bytes]:
    picks = rng.integers(0, len(images), size=length)
    heights = rng.integers(36, 61, size=length)
    digits = [_scaled(images[i], int(h)) for i, h in zip(picks, heights, strict=True)]
    base = int(heights.max())
    canvas = np.zeros((base * 2, sum(d.shape[1] for d in digits) + base * (length + 2)))
    right = base // 2
    for digit in digits:
        top = base // 2 + (base - digit.shape[0]) + int(rng.uniform(-0.12, 0.12) * digit.shape[0])
        if spacing == "gap" or right == base // 2:
            left = right + (int(rng.uniform(0.15, 0.6) * base) if right > base // 2 else 0)
        else:
            left = _meet(canvas, digit, top, right + 2)
            if spacing == "overlapping":
                left -= int(rng.uniform(0.04, 0.10) * base)
        area = canvas[top:top + digit.shape[0], left:left + digit.shape[1]]
        np.maximum(area, digit, out=area)
        right = max(right, left + digit.shape[1])
    canvas = canvas[:, :right + base // 2]
    return "".join(str(labels[i]) for i in picks), png(np.round(255 * (1 - canvas)).astype(np.uint8))


def uci_number(rng: np.random.Generator, cells: np.ndarray, labels: np.ndarray, length: int,
               spacing: str) -> tuple[str, bytes]:
    picks = rng.integers(0, len(cells), size=length)
    parts = []
    for i in picks:
        inked = np.flatnonzero(cells[i].any(axis=0))
        parts.append(cells[i][:, inked[0]:inked[-1] + 1])
        if spacing == "gap":
            parts.append(np.zeros((8, int(rng.integers(1, 3)))))
    number = np.concatenate(parts[:-1] if spacing == "gap" else parts, axis=1)
    paper = np.round(255 * (1 - np.pad(number, handwriting.MARGIN_CELLS) / 16)).astype(np.uint8)
    size = (paper.shape[1] * 20, paper.shape[0] * 20)
    return "".join(str(labels[i]) for i in picks), png(np.asarray(Image.fromarray(paper).resize(
        size, Image.Resampling.BILINEAR)))


def read_number(data: bytes, classifier: Classifier) -> str:
    """The number the upload path reads in a picture ('' when it finds no digit)."""
    try:
        digits = segmentation.split_digits(preprocessing.decode_image(data, max_pixels=MAX_PIXELS),
                                           recognition.reader(classifier))
    except InvalidImage:
        return ""
    return answer(digits, classifier)


def answer(digits: list[segmentation.Digit], classifier: Classifier) -> str:
    """The number read: each digit's answer as recognition gives it (``recognition.probabilities``)."""
    model = classifier.predict(np.stack([digit.input for digit in digits]))
    return "".join(str(recognition.probabilities(digit, p).argmax()) for digit, p in zip(digits, model, strict=True))


def share(counts: list[int]) -> float:
    return counts[0] / counts[1]


def report_numbers(name: str, numbers: list[tuple[int, str, str, bytes]], classifier: Classifier) -> None:
    whole, digits = defaultdict(lambda: [0, 0]), defaultdict(lambda: [0, 0])
    for length, spacing, truth, data in numbers:
        read = read_number(data, classifier)
        for key in ((length, spacing), ("all", spacing)):
            whole[key][0] += read == truth
            whole[key][1] += 1
            digits[key][0] += sum(a == b for a, b in zip(read, truth, strict=False)) if len(read) == len(truth) else 0
            digits[key][1] += len(truth)
    spacings = sorted({spacing for _, spacing, _, _ in numbers}, key=SPACINGS.index)
    print(f"\n{name}: whole numbers right / digits right (each cell: {whole[LENGTHS[0], spacings[0]][1]} numbers)")
    print(f"{'length':<8}" + "".join(f"{spacing:>24}" for spacing in spacings))
    for length in [*LENGTHS, "all"]:
        cells = [f"{share(whole[length, s]):>11.1%} / {share(digits[length, s]):>9.1%}" for s in spacings]
        print(f"{length!s:<8}" + "".join(f"{cell:>24}" for cell in cells), flush=True)


def report_singles(name: str, pictures: list[tuple[int, bytes]], classifier: Classifier) -> None:
    """Single digits by today's path and by the number path: accuracy, and answers that differ."""
    today, numbers, identical = [], [], 0
    for _, data in pictures:
        image = preprocessing.decode_image(data, max_pixels=MAX_PIXELS)
        single = preprocessing.to_mnist(image)
        found = segmentation.split_digits(image, recognition.reader(classifier))
        identical += len(found) == 1 and np.array_equal(found[0].input, single)
        today.append(str(classifier.predict(single[None]).argmax()))
        numbers.append(answer(found, classifier))
    labels = [str(label) for label, _ in pictures]
    right = [sum(a == b for a, b in zip(answers, labels, strict=True)) / len(labels) for answers in (today, numbers)]
    print(f"{name:<10} {len(pictures):>7} {right[0]:>9.2%} {right[1]:>9.2%} {identical / len(pictures):>10.2%} "
          f"{sum(len(n) != 1 for n in numbers):>9}", flush=True)


def report_cost(classifier: Classifier, runs: int) -> None:
    """The recognition of a drawn "2026" (bench/canvases.py), its digits apart and touching, beside one drawn
    digit, in process: decode, find the digits, preprocess each, one forward pass, the stored PNGs.
    Medians of ``runs``, taking turns."""
    def read(data: bytes) -> None:
        digits = segmentation.split_digits(preprocessing.decode_image(data, max_pixels=MAX_PIXELS),
                                           recognition.reader(classifier))
        classifier.predict(np.stack([digit.input for digit in digits]))
        [preprocessing.to_png(digit.input) for digit in digits]

    pictures = {"one digit": canvases.browser_canvases()[20][1], "four digits": canvases.number_canvas("2026"),
                "four touching": canvases.number_canvas("2026", TOUCHING_STEP)}
    times: dict[str, list[float]] = {name: [] for name in pictures}
    for _ in range(runs):
        for name, data in pictures.items():
            started = time.perf_counter()
            read(data)
            times[name].append((time.perf_counter() - started) * 1000)
    single, number, touching = (statistics.median(times[name]) for name in pictures)
    print(f"\nin process, medians of {runs}: one digit {single:.2f} ms, four digits {number:.2f} ms "
          f"(each after the first {(number - single) / 3:.2f} ms), four touching {touching:.2f} ms "
          f"(each after the first {(touching - single) / 3:.2f} ms)")
    images = [preprocessing.decode_image(data, max_pixels=MAX_PIXELS) for _, data in canvases.browser_canvases()]
    paths = {"to_mnist": preprocessing.to_mnist, "split_digits": lambda image: segmentation.split_digits(
        image, recognition.reader(classifier))}
    spent: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(max(1, runs // 50)):
        for image in images:
            for name, path in paths.items():  # in turns: the machine's drift falls on both alike
                started = time.perf_counter()
                path(image)
                spent[name].append((time.perf_counter() - started) * 1000)
    print("a single digit's preprocessing (the 50 browser canvases, decoded): "
          + ", ".join(f"{name} {statistics.median(values):.2f} ms" for name, values in spent.items()))


@report.writes_output
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100, help="numbers per length and spacing")
    parser.add_argument("--singles", type=int, default=10_000, help="MNIST test digits read one by one")
    parser.add_argument("--model-dir", type=Path, default=ROOT / "mlmodel")
    parser.add_argument("--seed", type=int, default=32)
    parser.add_argument("--runs", type=int, default=0, help="only time one digit against four, this many runs")
    report.add_argument(parser)
    args = parser.parse_args()
    classifier = Classifier.from_dir(args.model_dir)
    if args.runs:
        report_cost(classifier, args.runs)
        return
    rng = np.random.default_rng(args.seed)
    _, (images, labels) = mnist.load_mnist(mnist.find_data_dir())
    report_numbers("MNIST test digits", [
        (length, spacing, *mnist_number(rng, images, labels, length, spacing))
        for spacing in SPACINGS for length in LENGTHS for _ in range(args.count)], classifier)
    from sklearn.datasets import load_digits

    uci = load_digits()
    report_numbers("non-MNIST (UCI) digits", [
        (length, spacing, *uci_number(rng, uci.images, uci.target, length, spacing))
        for spacing in SPACINGS[:2] for length in LENGTHS for _ in range(args.count)], classifier)
    print(f"\nsingle digits  {'pictures':>7} {'today':>9} {'numbers':>9} {'same input':>10} {'not one':>9}")
    report_singles("MNIST", [(int(labels[i]), png(np.asarray(Image.fromarray(255 - images[i]).resize(
        (84, 84), Image.Resampling.BILINEAR)))) for i in range(min(args.singles, len(images)))], classifier)
    report_singles("non-MNIST", [(int(label), handwriting.picture(cells))
                                 for cells, label in zip(uci.images, uci.target, strict=True)], classifier)
    report_singles("browser", canvases.browser_canvases(), classifier)


if __name__ == "__main__":
    main()
