"""Split a picture's ink into digits, in reading order: left to right, line by line.

The ink is the one ``preprocessing`` finds (paper, shadows and specks removed). Its connected
pieces are grouped into digits:

* lines: rows of ink apart by empty rows (a quarter of a digit's height at least) are lines, read
  top to bottom;
* broken strokes: pieces of one line whose columns overlap (a 4's open top, a 5's cap, a 7's bar)
  are one digit, and a small piece beside nothing tall joins its nearest digit;
* touching digits: a piece too wide for one digit is cut at the minima of its ink's column profile
  that the model reads best: every run of parts between two cuts is read in one batch, and the
  cuts kept maximise the parts' summed log-confidence with a prior on their widths, unless the
  model reads the whole group far better (a wide 0 or 2 stays one digit);
* fragments: a few digits of which one is a small short fragment are one digit when the model reads
  the whole ink no worse than the parts (a 1's detached foot).

Each digit is then made into the model's input exactly as a single digit is (``digit_input``); a
picture of one digit gives exactly ``to_mnist``'s input. ``docs/numbers.md`` has the measurements
behind the thresholds (``bench/number_accuracy.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

from .errors import TooManyDigits
from .preprocessing import FLAT_WORK_SIZE, WORK_SIZE, InkLayer, digit_input, ink_layer

Classify = Callable[[np.ndarray], np.ndarray]  # (N, 28, 28) inputs -> (N, 10) probabilities

TALL = 0.5  # a piece at least this share of the tallest piece's height stands for a digit (or most of one)
LINE_GAP = 0.25  # a second line begins below empty rows this share of the tallest piece's height
SAME_DIGIT = 0.5  # pieces whose columns overlap by this share of the narrower are one digit
OWN_DIGIT = 0.6  # a short piece overlapping no digit's columns, at least this share of the line's height, is one
SPECK = 0.02  # pieces with less ink than this share of the median digit's are dropped (with several digits)
MAY_HOLD_TWO = 1.15  # a group wider than this times its line's height may be touching digits...
LONE_MAY_HOLD_TWO = 1.75  # ...or this, when it is all the picture holds (MNIST's single digits: 99.9 % narrower)
TWICE_THE_OTHERS = 1.8  # ...and this times as wide as the others of its line (the median of their widths...
TYPICAL_WIDTH_BESIDE = 0.6  # ...or this times the line's height, if more: a narrow 1 makes no 0 look double)
MIN_WIDTH, MAX_WIDTH = 0.12, 1.8  # a digit's width, times the line's height, lies in this range
TYPICAL_WIDTH = (0.25, 1.2)  # widths outside this cost WIDE_PENALTY / NARROW_PENALTY per unit of aspect
WIDE_PENALTY, NARROW_PENALTY = 2.0, 20.0
MAX_CUTS = 48  # a piece is cut at most at this many places (about 3 a digit of MAX_DIGITS / 2)
WHOLE_ODDS = 10.0  # a group is cut only when the model misreads the parts this many times likelier than the whole...
PARTS_DOUBT = 0.02  # ...and the parts' product of confidences is under 1 - this (two sure digits stay two)
MAY_BE_ONE = 3  # a picture of at most this many digits on one line, at most WHOLE_WIDTH times as wide as high,...
WHOLE_WIDTH = 2.0  # ...one of them a fragment (under FRAGMENT of the largest part's box and TALL_FRAGMENT of the
FRAGMENT, TALL_FRAGMENT = 0.25, 0.8  # whole's height), is one digit if the model reads it whole no worse
MAX_DIGITS = 32  # a picture's digits are stored a row each: more is refused
MAX_PIECES = 64  # ink in more pieces than this is a texture, not a number: read whole, as one digit


@dataclass(frozen=True)
class Digit:
    """One digit found: the model's input, its box in the picture (left, top, width, height in
    picture pixels) and its line (0 = the first)."""

    input: np.ndarray
    box: tuple[int, int, int, int]
    line: int


@dataclass
class _Group:
    mask: np.ndarray  # its ink pixels, in the ink layer
    rows: tuple[int, int]  # [start, stop)
    cols: tuple[int, int]
    mass: float

    @classmethod
    def of(cls, mask: np.ndarray, ink: np.ndarray) -> _Group:
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        return cls(mask, (int(rows[0]), int(rows[-1]) + 1), (int(cols[0]), int(cols[-1]) + 1),
                   float(ink[mask].sum()))

    @property
    def height(self) -> int:
        return self.rows[1] - self.rows[0]

    @property
    def width(self) -> int:
        return self.cols[1] - self.cols[0]

    def joined(self, other: _Group, ink: np.ndarray) -> _Group:
        return _Group.of(self.mask | other.mask, ink)


def split_digits(img: Image.Image, classify: Classify) -> list[Digit]:
    """Every digit in ``img``, in reading order. NoDigitFound (from ``preprocessing``) if it has none."""
    layer = ink_layer(img)
    whole = Digit(digit_input(layer.ink), _box(layer, _Group.of(layer.ink > 0, layer.ink)), 0)
    lines = _lines(layer.ink, classify)
    count = sum(len(line) for line in lines)
    if count == 1:  # exactly what a single digit has always been given
        return [whole]
    if layer.shrunk_flat:  # several digits on a canvas: look again with more pixels per digit
        layer = ink_layer(img, flat_size=min(WORK_SIZE, FLAT_WORK_SIZE * count))
        lines = _lines(layer.ink, classify)
    if sum(len(line) for line in lines) > MAX_DIGITS:
        raise TooManyDigits(f"More than {MAX_DIGITS} digits found: send a picture of one number (or of a few).")
    digits = [Digit(digit_input(np.where(group.mask, layer.ink, 0)), _box(layer, group), number)
              for number, line in enumerate(lines) for group in line]
    return [whole] if _reads_better_whole(whole, digits, classify) else digits


def _reads_better_whole(whole: Digit, digits: list[Digit], classify: Classify) -> bool:
    """A few digits on one line, one of them a small short fragment (a 1's detached foot, a 4's
    stray tick), that the model reads no worse as one digit are one digit: the whole and the parts
    are read in one batch."""
    if len(digits) > MAY_BE_ONE or any(digit.line for digit in digits) or whole.box[2] > WHOLE_WIDTH * whole.box[3]:
        return False
    largest = max(digit.box[2] * digit.box[3] for digit in digits)
    if not any(digit.box[2] * digit.box[3] < FRAGMENT * largest and digit.box[3] < TALL_FRAGMENT * whole.box[3]
               for digit in digits):
        return False
    confidence = classify(np.stack([whole.input, *(digit.input for digit in digits)])).max(axis=1)
    return _whole_wins(float(confidence[0]), confidence[1:], odds=1.0)


def _whole_wins(whole: float, parts: np.ndarray, *, odds: float) -> bool:
    """Whether ink read whole with confidence ``whole`` is one digit rather than the ``parts`` read apart:
    the parts' chance of a misreading (1 - the product of their confidences) is over PARTS_DOUBT and
    ``odds`` times the whole's (at least as high, for odds 1)."""
    whole_error, parts_error = 1.0 - whole, 1.0 - float(np.prod(parts.astype(np.float64)))
    if odds == 1.0:
        return whole_error <= parts_error
    return parts_error > PARTS_DOUBT and odds * whole_error < parts_error


def _box(layer: InkLayer, group: _Group) -> tuple[int, int, int, int]:
    left, top = layer.left + group.cols[0] * layer.scale, layer.top + group.rows[0] * layer.scale
    return (round(left), round(top), max(1, round(group.width * layer.scale)),
            max(1, round(group.height * layer.scale)))


def _lines(ink: np.ndarray, classify: Classify) -> list[list[_Group]]:
    """The digits of each line, each line left to right, lines top to bottom."""
    labels, count = ndimage.label(ink > 0, structure=np.ones((3, 3), dtype=bool))
    if count > MAX_PIECES:  # a texture, not a number: one digit, as before
        return [[_Group.of(ink > 0, ink)]]
    pieces = [_piece(labels, number + 1, box, ink) for number, box in enumerate(ndimage.find_objects(labels))]
    digits = []
    for top, bottom in _bands(ink > 0, max(piece.height for piece in pieces)):
        line = [piece for piece in pieces if top <= piece.rows[0] < bottom]
        tallest = max(piece.height for piece in line)
        merged = _merged_by_columns([piece for piece in line if piece.height >= TALL * tallest], ink)
        for piece in line:
            if piece.height < TALL * tallest:
                _place_short(piece, merged, ink)
        digits.append(sorted(_without_specks(merged), key=lambda d: d.cols[0]))
    alone = sum(len(line) for line in digits) == 1
    return [[cut for digit in line for cut in _cut(digit, ink, _height(line), classify,
                                                  least=_least_width(digit, line, alone))]
            for line in digits if line]


def _least_width(digit: _Group, line: list[_Group], alone: bool) -> float:
    """How wide ``digit`` must be to be cut: the whole picture's only ink rarely holds several digits
    (LONE_MAY_HOLD_TWO), and a digit beside others is wider than they are (TWICE_THE_OTHERS)."""
    height = max(_height(line), digit.height)
    if alone:
        return LONE_MAY_HOLD_TWO * height
    others = [other.width for other in line if other is not digit]
    typical = max(float(np.median(others)), TYPICAL_WIDTH_BESIDE * height) if others else 0.0
    return max(MAY_HOLD_TWO * height, TWICE_THE_OTHERS * typical)


def _piece(labels: np.ndarray, number: int, box: tuple[slice, slice], ink: np.ndarray) -> _Group:
    """The connected piece labelled ``number`` (inside ``box``), as a group."""
    mask = np.zeros(ink.shape, dtype=bool)
    mask[box] = labels[box] == number
    return _Group(mask, (box[0].start, box[0].stop), (box[1].start, box[1].stop), float(ink[mask].sum()))


def _bands(inked: np.ndarray, tallest: int) -> list[tuple[int, int]]:
    """The lines' rows [top, bottom): runs of inked rows, apart by at least LINE_GAP × the tallest piece
    (a closer gap is a broken stroke, a 5's cap)."""
    rows = np.flatnonzero(inked.any(axis=1))
    breaks = np.flatnonzero(np.diff(rows) > LINE_GAP * tallest)
    starts, stops = [rows[0], *rows[breaks + 1]], [*rows[breaks] + 1, rows[-1] + 1]
    return [(int(top), int(bottom)) for top, bottom in zip(starts, stops, strict=True)]


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def _height(line: list[_Group]) -> int:
    return int(np.median([g.height for g in line])) if line else 0


def _merged_by_columns(line: list[_Group], ink: np.ndarray) -> list[_Group]:
    """Tall pieces of a line whose columns overlap much are parts of one digit (a 4 drawn in two strokes)."""
    merged: list[_Group] = []
    for piece in sorted(line, key=lambda p: p.cols[0]):
        if merged and _overlap(merged[-1].cols, piece.cols) >= SAME_DIGIT * min(merged[-1].width, piece.width):
            merged[-1] = merged[-1].joined(piece, ink)
        else:
            merged.append(piece)
    return merged


def _place_short(piece: _Group, line: list[_Group], ink: np.ndarray) -> None:
    """A short piece joins the digit of its line whose columns it overlaps most, or stands as a digit of
    its own when tall enough, or else joins the nearest digit."""
    overlaps = [_overlap(digit.cols, piece.cols) for digit in line]
    best = int(np.argmax(overlaps))
    if overlaps[best] >= SAME_DIGIT * piece.width and overlaps[best] > 0:
        line[best] = line[best].joined(piece, ink)
    elif piece.height >= OWN_DIGIT * _height(line):
        line.append(piece)
    else:
        nearest = min(range(len(line)), key=lambda i: max(line[i].cols[0] - piece.cols[1],
                                                          piece.cols[0] - line[i].cols[1]))
        line[nearest] = line[nearest].joined(piece, ink)


def _without_specks(line: list[_Group]) -> list[_Group]:
    if len(line) < 2:
        return line
    median = float(np.median([digit.mass for digit in line]))
    return [digit for digit in line if digit.mass >= SPECK * median]


def _cut(digit: _Group, ink: np.ndarray, line_height: int, classify: Classify, *, least: float) -> list[_Group]:
    """A group wide enough to hold touching digits, cut where the model reads the parts best.

    Cuts are tried at the columns where the ink is thinnest (local minima of its column profile);
    every run of parts between two of them is read by the model in one batch, and the cuts kept are
    those that maximise the sum over parts of log(confidence) + a width prior, unless the whole group
    reads far better (``_whole_wins``)."""
    if digit.width <= least:
        return [digit]
    height = max(line_height, digit.height)
    cuts = [digit.cols[0], *_thin_columns(np.where(digit.mask, ink, 0), digit, height), digit.cols[1]]
    spans = [(i, j) for i in range(len(cuts)) for j in range(i + 1, len(cuts))
             if MIN_WIDTH * height <= cuts[j] - cuts[i] <= MAX_WIDTH * height or (i, j) == (0, len(cuts) - 1)]
    parts = {}
    for i, j in spans:
        mask = digit.mask.copy()
        mask[:, :cuts[i]], mask[:, cuts[j]:] = False, False
        if mask.any():
            parts[i, j] = _Group.of(mask, ink)
    order = list(parts)
    confidence = classify(np.stack([digit_input(np.where(parts[span].mask, ink, 0)) for span in order])).max(axis=1)
    scores = {span: float(np.log(max(c, 1e-9))) + _width_prior((cuts[span[1]] - cuts[span[0]]) / height)
              for span, c in zip(order, confidence, strict=True)}
    best: dict[int, tuple[float, list[tuple[int, int]]]] = {0: (0.0, [])}
    for j in range(1, len(cuts)):
        options = [(best[i][0] + scores[i, j], [*best[i][1], (i, j)]) for i in range(j)
                   if i in best and (i, j) in scores]
        if options:
            best[j] = max(options, key=lambda option: option[0])
    chosen = best[len(cuts) - 1][1]
    read = dict(zip(order, confidence, strict=True))
    if len(chosen) > 1 and _whole_wins(float(read[0, len(cuts) - 1]), np.array([read[span] for span in chosen]),
                                       odds=WHOLE_ODDS):
        return [digit]  # a wide digit (a 0, a 2 with a long tail) that the model reads better whole
    return [parts[span] for span in chosen]


def _thin_columns(ink: np.ndarray, digit: _Group, height: int) -> list[int]:
    """Columns inside ``digit`` where its ink is thinnest: local minima of the smoothed column profile,
    at least MIN_WIDTH × height from either end."""
    profile = ndimage.uniform_filter1d(ink[:, digit.cols[0]:digit.cols[1]].sum(axis=0), size=3, mode="nearest")
    margin = max(1, int(MIN_WIDTH * height))
    minima = [c for c in range(margin, len(profile) - margin)
              if profile[c] <= profile[c - 1] and profile[c] < profile[c + 1]]
    thinnest = sorted(sorted(minima, key=lambda c: profile[c])[:MAX_CUTS])  # bounds the model's work on scribbles
    return [digit.cols[0] + c for c in thinnest]


def _width_prior(aspect: float) -> float:
    """How likely a digit of this width (over the line's height) is, as a log-likelihood penalty."""
    return -WIDE_PENALTY * max(0.0, aspect - TYPICAL_WIDTH[1]) - NARROW_PENALTY * max(0.0, TYPICAL_WIDTH[0] - aspect)
