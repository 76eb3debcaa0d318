"""The draw page's canvas as the browser uploads it: a 280×280 RGBA PNG, opaque white, black strokes.

Painted as static/recognizer/draw.js paints (round caps and joins, one path per stroke, a single
point a dot), anti-aliased by drawing at SUPERSAMPLE× and box-reducing, as a browser's edges are.
Shared by the benches that time preprocessing and compare its versions.
"""

import io
import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
STROKES = ROOT / "tests/ml/strokes.json"
SIZE = 280  # draw.js's SIZE
BRUSH = (6, 40)  # the draw page's brush range (templates/recognizer/draw.html)
SUPERSAMPLE = 4

Stroke = list[tuple[float, float]]


def canvas_png(strokes: list[Stroke], width: float, size: tuple[int, int] = (SIZE, SIZE)) -> bytes:
    """The PNG of ``strokes`` (points in the canvas's 280 units) painted with a brush ``width`` wide
    on a canvas ``size`` units big."""
    big = Image.new("L", (size[0] * SUPERSAMPLE, size[1] * SUPERSAMPLE), 255)
    draw, scale, radius = ImageDraw.Draw(big), SUPERSAMPLE, width * SUPERSAMPLE / 2
    for stroke in strokes:
        points = [(x * scale, y * scale) for x, y in stroke]
        if len(points) > 1:
            draw.line(points, fill=0, width=round(width * scale), joint="curve")
        for x, y in points:  # round caps (and joins where the line's own are not round)
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=0)
    out = io.BytesIO()
    big.reduce(SUPERSAMPLE).convert("RGBA").save(out, "PNG")
    return out.getvalue()


def browser_canvases() -> list[tuple[int, bytes]]:
    """(label, PNG) of every digit in tests/ml/strokes.json (traced from MNIST test digits)."""
    digits = json.loads(STROKES.read_text())["digits"]
    return [(digit["label"], canvas_png(digit["strokes"], digit["width"])) for digit in digits]


DIGIT_STEP = 210  # a digit's strokes span about 60-220 of the canvas's 280 units: digits this far apart


def number_canvas(number: str, step: int = DIGIT_STEP) -> bytes:
    """A wide canvas with ``number`` written on it, each digit the first of its label in strokes.json,
    ``step`` units after the one before (closer than DIGIT_STEP, they touch)."""
    digits = json.loads(STROKES.read_text())["digits"]
    strokes, widths = [], []
    for position, label in enumerate(number):
        digit = next(digit for digit in digits if digit["label"] == int(label))
        offset = position * step - 50
        strokes += [[(x + offset, y) for x, y in stroke] for stroke in digit["strokes"]]
        widths.append(digit["width"])
    return canvas_png(strokes, float(np.median(widths)), (step * len(number) + 100, SIZE))


def random_canvases(count: int, seed: int = 30) -> list[bytes]:
    """``count`` scribbles: 1-3 strokes of 1-8 points anywhere on the canvas, any brush width."""
    rng = np.random.default_rng(seed)
    canvases = []
    for _ in range(count):
        strokes = [[tuple(point) for point in rng.uniform(20, SIZE - 20, size=(rng.integers(1, 9), 2)).round(1)]
                   for _ in range(rng.integers(1, 4))]
        canvases.append(canvas_png(strokes, float(rng.integers(BRUSH[0], BRUSH[1] + 1))))
    return canvases
