"""Split a picture's ink into digits, in reading order: left to right, line by line.

The ink is the one ``preprocessing`` finds (paper, shadows and specks removed). Its connected
pieces are grouped into digits:

* lines: rows of ink apart by empty rows (a quarter of a digit's height at least) are lines, read
  top to bottom;
* broken strokes: pieces of one line whose columns overlap (a 4's open top, a 5's cap, a 7's bar)
  are one digit, and a small piece beside nothing tall joins its nearest digit;
* touching digits: a piece wider than most digits that the cut verifier (``ml.verifier``) doubts is
  one digit is read whole by the string reader (``ml.strings``); when it reads several digits there,
  the piece is cut into as many parts, in the order it read them, along the paths of least ink near
  the minima of its column profile or halfway between two places where it read a digit. Every run
  of parts between two cuts is read in one batch by the digit model and by the verifier, and the
  cuts kept maximise Σ log(P(one digit) × P(the digit read there)) with a prior on the parts'
  widths. Each such part carries the string reader's ten probabilities (``recognition.probabilities``
  weighs both models);
* fragments: a few digits of which one is a small short fragment are one digit when the model reads
  the whole ink no worse than the parts (a 1's detached foot).

Each digit is then made into the model's input exactly as a single digit is (``digit_input``); a
picture of one digit gives exactly ``to_mnist``'s input. ``docs/numbers.md`` has the measurements
behind the thresholds (``bench/number_accuracy.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from PIL import Image
from scipy import ndimage

from .errors import TooManyDigits
from .preprocessing import (
    FLAT_WORK_SIZE,
    STRING_INK_ROWS,
    STRING_MARGIN,
    WORK_SIZE,
    InkLayer,
    digit_input,
    ink_layer,
    string_input,
)
from .storage.ids import MAX_DIGITS

Classify = Callable[[np.ndarray], np.ndarray]  # (N, 28, 28) inputs -> (N, 10) probabilities
Verify = Callable[[np.ndarray], np.ndarray]  # (N, 28, 28) inputs -> (N,) P(one well-cut digit)
ReadString = Callable[[np.ndarray], list[tuple[int, int, np.ndarray]]]  # string_input -> (digit, column, ten)
Read = tuple[int, float, np.ndarray]  # a digit the string reader read: it, the ink column where, its ten probabilities

TALL = 0.5  # a piece at least this share of the tallest piece's height stands for a digit (or most of one)
LINE_GAP = 0.25  # a second line begins below empty rows this share of the tallest piece's height
SAME_DIGIT = 0.5  # pieces whose columns overlap by this share of the narrower are one digit
OWN_DIGIT = 0.6  # a short piece overlapping no digit's columns, at least this share of the line's height, is one
SPECK = 0.02  # pieces with less ink than this share of the median digit's are dropped (with several digits)
MAY_HOLD_TWO = 0.6  # a group wider than this times its line's height may hold touching digits, and the string
DOUBTED = 0.1  # reader reads it when the verifier's P(one digit) for it is under this; a picture's only
LONE_MAY_HOLD_TWO = 0.8  # piece must be this wide (a non-MNIST 1 with its flag and foot is 0.6-0.8 × as wide)
MIN_WIDTH, MAX_WIDTH = 0.12, 1.8  # a digit's width, times the line's height, lies in this range
TYPICAL_WIDTH = (0.25, 1.2)  # widths outside this cost WIDE_PENALTY / NARROW_PENALTY per unit of aspect
WIDE_PENALTY, NARROW_PENALTY = 2.0, 20.0
MAX_CUTS = 48  # a piece is cut at most at this many places (about 3 a digit of MAX_DIGITS / 2)
PATH_DRIFT = 0.25  # a cut's path keeps within this share of the line's height of its column...
STRAIGHT = 0.05  # ...and pays this (in ink) for going the whole way aside
ONE_WEIGHT = 1.0  # a part's score: log(P(its digit)) + this × log(P(one digit)) + the width prior
MAY_BE_ONE = 3  # a picture of at most this many digits on one line, at most WHOLE_WIDTH times as wide as high,...
WHOLE_WIDTH = 2.0  # ...one of them a fragment (under FRAGMENT of the largest part's box and TALL_FRAGMENT of the
FRAGMENT, TALL_FRAGMENT = 0.25, 0.8  # whole's height), is one digit if the model reads it whole no worse
MAX_PIECES = 64  # ink in more pieces than this is a texture, not a number: read whole, as one digit


@dataclass(frozen=True)
class Digit:
    """One digit found: the model's input, its box in the picture (left, top, width, height in
    picture pixels) and its line (0 = the first)."""

    input: np.ndarray
    box: tuple[int, int, int, int]
    line: int
    string_reading: np.ndarray | None = None  # a touching digit: the string reader's ten probabilities for it


@dataclass
class _Group:
    mask: np.ndarray  # its ink pixels, in the ink layer
    rows: tuple[int, int]  # [start, stop)
    cols: tuple[int, int]
    mass: float
    string_reading: np.ndarray | None = None  # a touching digit's ten probabilities, as the string reader read it

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


@dataclass(frozen=True)
class Reader:
    """The models segmentation asks: the digit model, the cut verifier (``ml.verifier``) and the string
    reader (``ml.strings``)."""

    classify: Classify
    verify: Verify
    read_string: ReadString


def split_digits(img: Image.Image, reader: Reader) -> list[Digit]:
    """Every digit in ``img``, in reading order. NoDigitFound (from ``preprocessing``) if it has none."""
    layer = ink_layer(img)
    whole = Digit(digit_input(layer.ink), _box(layer, _Group.of(layer.ink > 0, layer.ink)), 0)
    lines = _lines(layer.ink)
    touching = _touching(lines, layer.ink, reader)
    count = sum(len(line) for line in lines) + sum(len(placed) - 1 for _, _, placed in touching)
    if count == 1:  # exactly what a single digit has always been given
        return [whole]
    if layer.shrunk_flat:  # several digits on a canvas: look again with more pixels per digit (touching
        wide = math.ceil(whole.box[2] / whole.box[3])  # digits are often more than the first look found)
        layer = ink_layer(img, flat_size=min(WORK_SIZE, FLAT_WORK_SIZE * max(count, wide)))
        lines = _lines(layer.ink)
        touching = _touching(lines, layer.ink, reader)
    cut = _cut_all(lines, layer.ink, reader, touching)
    if sum(len(line) for line in cut) > MAX_DIGITS:
        raise TooManyDigits(f"More than {MAX_DIGITS} digits found: send a picture of one number (or of a few).")
    digits = [Digit(digit_input(np.where(group.mask, layer.ink, 0)), _box(layer, group), number, group.string_reading)
              for number, line in enumerate(cut) for group in line]
    return [whole] if _reads_better_whole(whole, digits, reader.classify) else digits


def _reads_better_whole(whole: Digit, digits: list[Digit], classify: Classify) -> bool:
    """A few digits on one line, one of them a small short fragment (a 1's detached foot, a 4's
    stray tick), that the model reads no worse as one digit are one digit: the whole and the parts
    are read in one batch. Not when the string reader read them as several (a narrow 1 is no fragment)."""
    if (len(digits) > MAY_BE_ONE or any(digit.line for digit in digits) or whole.box[2] > WHOLE_WIDTH * whole.box[3]
            or any(digit.string_reading is not None for digit in digits)):
        return False
    largest = max(digit.box[2] * digit.box[3] for digit in digits)
    if not any(digit.box[2] * digit.box[3] < FRAGMENT * largest and digit.box[3] < TALL_FRAGMENT * whole.box[3]
               for digit in digits):
        return False
    confidence = classify(np.stack([whole.input, *(digit.input for digit in digits)])).max(axis=1)
    return 1.0 - float(confidence[0]) <= 1.0 - float(np.prod(confidence[1:].astype(np.float64)))


def _box(layer: InkLayer, group: _Group) -> tuple[int, int, int, int]:
    left, top = layer.left + group.cols[0] * layer.scale, layer.top + group.rows[0] * layer.scale
    return (round(left), round(top), max(1, round(group.width * layer.scale)),
            max(1, round(group.height * layer.scale)))


def _lines(ink: np.ndarray) -> list[list[tuple[_Group, int]]]:
    """The digits of each line (touching ones not yet cut), each line left to right, lines top to
    bottom; with each digit, the height its line gives it."""
    labels, count = ndimage.label(ink > 0, structure=np.ones((3, 3), dtype=bool))
    if count > MAX_PIECES:  # a texture, not a number: one digit, as before
        whole = _Group.of(ink > 0, ink)
        return [[(whole, whole.height)]]
    pieces = [_piece(labels, number + 1, box, ink) for number, box in enumerate(ndimage.find_objects(labels))]
    lines = []
    for top, bottom in _bands(ink > 0, max(piece.height for piece in pieces)):
        line = [piece for piece in pieces if top <= piece.rows[0] < bottom]
        tallest = max(piece.height for piece in line)
        merged = _merged_by_columns([piece for piece in line if piece.height >= TALL * tallest], ink)
        for piece in line:
            if piece.height < TALL * tallest:
                _place_short(piece, merged, ink)
        digits = sorted(_without_specks(merged), key=lambda d: d.cols[0])
        lines.append([(digit, max(_height(digits), digit.height)) for digit in digits])
    return [line for line in lines if line]


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


def _touching(lines: list[list[tuple[_Group, int]]], ink: np.ndarray, reader: Reader
              ) -> list[tuple[_Group, int, list[Read]]]:
    """The groups that hold touching digits, with the digits the string reader read in them and where
    (``_placed``). A group wider than MAY_HOLD_TWO × its line's height (LONE_MAY_HOLD_TWO when it is
    the picture's only one) that the verifier doubts is one digit is read by the string reader; it
    holds touching digits when it reads several there. The verifier reads all such groups in one batch."""
    widest_one = LONE_MAY_HOLD_TWO if sum(len(line) for line in lines) == 1 else MAY_HOLD_TWO
    wide = [(group, height) for line in lines for group, height in line if group.width > widest_one * height]
    if not wide:
        return []
    one = reader.verify(np.stack([digit_input(np.where(group.mask, ink, 0)) for group, _ in wide]))
    doubted = [(group, height) for (group, height), whole in zip(wide, one, strict=True) if whole < DOUBTED]
    said = [_placed(reader.read_string(string_input(np.where(group.mask, ink, 0))), group) for group, _ in doubted]
    return [(group, height, placed) for (group, height), placed in zip(doubted, said, strict=True) if len(placed) > 1]


def _cut_all(lines: list[list[tuple[_Group, int]]], ink: np.ndarray, reader: Reader,
             touching: list[tuple[_Group, int, list[Read]]]) -> list[list[_Group]]:
    """Every line's digits, with the ``touching`` groups cut into as many parts as the string reader read
    digits in them, where they read best as those digits (``_Options.best``). All the parts of all such
    groups are read in one batch by each model."""
    options = [_options(group, ink, height, placed) for group, height, placed in touching]
    inputs = [part_input for option in options for part_input in option.inputs]
    if inputs:
        batch = np.stack(inputs)
        probabilities, one = reader.classify(batch), reader.verify(batch)
    cut, start = {}, 0
    for (group, _, placed), option in zip(touching, options, strict=True):
        stop = start + len(option.inputs)
        cut[id(group)] = option.best(probabilities[start:stop], one[start:stop], placed)
        start = stop
    return [[part for group, _ in line for part in cut.get(id(group), [group])] for line in lines]


def _between(placed: list[Read]) -> list[int]:
    """Columns halfway between the places of two digits read one after the other: cuts to try too."""
    return [round((a + b) / 2) for (_, a, _), (_, b, _) in zip(placed, placed[1:], strict=False)]


def _placed(said: list[tuple[int, int, np.ndarray]], group: _Group) -> list[Read]:
    """The string reader's digits with their columns in the ink (it reads two input columns a step)."""
    scale, first, last = group.height / STRING_INK_ROWS, group.cols[0], group.cols[1] - 1
    return [(digit, min(max(first + (2 * step + 1 - STRING_MARGIN) * scale, first), last), ten)
            for digit, step, ten in said]


@dataclass
class _Options:
    """The ways to cut one group: its candidate cuts, the parts between them and their model inputs."""

    cuts: list[int]
    spans: list[tuple[int, int]]
    parts: list[_Group]
    inputs: list[np.ndarray]
    height: int

    def best(self, probabilities: np.ndarray, one: np.ndarray, said: list[Read]
             ) -> list[_Group]:
        """As many parts as the string reader read digits, each where its digit may be (``_may_be``),
        that maximise Σ log(P(one digit) × P(the digit read there)) + the width prior (dynamic
        programming over the cuts). Each part carries the string reader's reading. When no cuts fit,
        the parts that maximise Σ log(P(one digit) × confidence), whatever their count."""
        part = dict(zip(self.spans, self.parts, strict=True))
        chosen = self._fitting(probabilities, one, said) or self._likeliest(probabilities.max(axis=1), one)
        if len(chosen) != len(said):
            return [part[span] for span in chosen]
        return [replace(part[span], string_reading=ten) for span, (_, _, ten) in zip(chosen, said, strict=True)]

    def _prior(self, span: tuple[int, int]) -> float:
        return _width_prior((self.cuts[span[1]] - self.cuts[span[0]]) / self.height)

    def _fitting(self, probabilities: np.ndarray, one: np.ndarray, said: list[Read]
                 ) -> list[tuple[int, int]]:
        """The spans of the best cut into exactly as many parts as digits ``said``, or none."""
        row = dict(zip(self.spans, range(len(self.spans)), strict=True))  # a span's row in the models' answers
        best: dict[tuple[int, int], tuple[float, list[tuple[int, int]]]] = {(0, 0): (0.0, [])}
        columns = [column for _, column, _ in said]
        for j in range(1, len(self.cuts)):
            for m, (digit, _, _) in enumerate(said):
                found = [(best[i, m][0] + _log(probabilities[row[i, j], digit]) + ONE_WEIGHT * _log(one[row[i, j]])
                          + self._prior((i, j)), [*best[i, m][1], (i, j)]) for i in range(j)
                         if (i, m) in best and (i, j) in row and _may_be(m, i, j, self.cuts, columns, self.height)]
                if found:
                    best[j, m + 1] = max(found, key=lambda option: option[0])
        return best.get((len(self.cuts) - 1, len(said)), (0.0, []))[1]

    def _likeliest(self, confidence: np.ndarray, one: np.ndarray) -> list[tuple[int, int]]:
        """The spans of the best cut into any number of parts, by the digit model's confidence."""
        scores = {span: _log(c) + ONE_WEIGHT * _log(o) + self._prior(span)
                  for span, c, o in zip(self.spans, confidence, one, strict=True)}
        best: dict[int, tuple[float, list[tuple[int, int]]]] = {0: (0.0, [])}
        for j in range(1, len(self.cuts)):
            found = [(best[i][0] + scores[i, j], [*best[i][1], (i, j)]) for i in range(j)
                     if i in best and (i, j) in scores]
            if found:
                best[j] = max(found, key=lambda option: option[0])
        return best[len(self.cuts) - 1][1]


def _log(p: float) -> float:
    return float(np.log(max(float(p), 1e-9)))


def _options(digit: _Group, ink: np.ndarray, height: int, placed: list[Read]) -> _Options:
    """Cuts along the cheapest paths through the ink near the columns where it is thinnest
    (``cut_columns``, ``cut_paths``) or halfway between two places where a digit was read, and every
    run of parts between two of them that is as wide as a digit may be and may be one of the digits
    read (``_may_be``; the whole piece too)."""
    own = np.where(digit.mask, ink, 0)
    cuts = sorted({*cut_columns(own, digit.cols, height), *_between(placed)})
    paths = cut_paths(own, cuts, height)
    columns = [column for _, column, _ in placed]
    kept, parts = [], []
    for i, j in spans(cuts, height):
        if (i, j) != (0, len(cuts) - 1) and not any(_may_be(m, i, j, cuts, columns, height)
                                                    for m in range(len(columns))):
            continue
        mask = digit.mask & between(paths[i], paths[j], ink.shape[1])
        if mask.any():
            kept.append((i, j))
            parts.append(_Group.of(mask, ink))
    return _Options(cuts, kept, parts, [digit_input(np.where(part.mask, ink, 0)) for part in parts], height)


def _may_be(m: int, i: int, j: int, cuts: list[int], columns: list[float], height: int) -> bool:
    """Whether the part from cut ``i`` to cut ``j`` may be the ``m``-th digit read: it starts after the
    place where the one before was read and by its own place (or a little after: the string reader reads
    a digit at its start, or before it), and ends after its own place and by the next one's."""
    slack = PATH_DRIFT * height
    starts = i == 0 if m == 0 else columns[m - 1] < cuts[i] <= columns[m] + slack
    ends = j == len(cuts) - 1 if m == len(columns) - 1 else columns[m] < cuts[j] <= columns[m + 1] + slack
    return starts and ends


def cut_paths(ink: np.ndarray, cuts: list[int], height: int) -> list[np.ndarray]:
    """For each cut, the column it passes each row at: the path from top to bottom through the least
    ink, at most PATH_DRIFT × height beside the cut's column and one column from row to row (touching
    digits lean on each other: a straight cut takes a slice of the neighbour). The ends stay straight.
    All the cuts' paths are found together (dynamic programming over the rows)."""
    rows, width = ink.shape
    ends = np.full(rows, cuts[0]), np.full(rows, cuts[-1])
    if len(cuts) < 3:
        return list(ends)
    reach = max(1, int(PATH_DRIFT * height))
    offsets = np.arange(-reach, reach + 1)
    columns = np.asarray(cuts[1:-1])[:, None] + offsets  # (cuts, window)
    outside = (columns <= cuts[0]) | (columns >= min(cuts[-1], width))  # a path stays inside the piece
    cost = np.where(outside[:, None, :], np.inf, ink[:, np.clip(columns, 0, width - 1)].transpose(1, 0, 2))
    cost = cost + STRAIGHT * np.abs(offsets) / reach  # (cuts, rows, window)
    total, step = cost[:, 0], np.zeros(cost.shape, dtype=np.int8)
    for row in range(1, rows):
        padded = np.pad(total, ((0, 0), (1, 1)), constant_values=np.inf)
        options = np.stack([padded[:, :-2], padded[:, 1:-1], padded[:, 2:]])  # from the left, above, the right
        choice = np.argmin(options, axis=0)
        step[:, row] = choice - 1
        total = cost[:, row] + np.take_along_axis(options, choice[None], axis=0)[0]
    at = np.empty((len(columns), rows), dtype=int)
    at[:, -1] = np.argmin(total, axis=1)
    for row in range(rows - 1, 0, -1):
        at[:, row - 1] = at[:, row] + step[np.arange(len(columns)), row, at[:, row]]
    return [ends[0], *np.take_along_axis(columns, at, axis=1), ends[1]]


def between(left: np.ndarray, right: np.ndarray, width: int) -> np.ndarray:
    """The pixels (of rows × ``width``) on or right of the path ``left`` and left of the path ``right``."""
    columns = np.arange(width)
    return (columns >= left[:, None]) & (columns < right[:, None])


def cut_columns(ink: np.ndarray, cols: tuple[int, int], height: int) -> list[int]:
    """The columns a piece of ``ink`` spanning ``cols`` may be cut at, its ends included: where its ink is
    thinnest (local minima of the smoothed column profile), at least MIN_WIDTH × height from either end."""
    profile = ndimage.uniform_filter1d(ink[:, cols[0]:cols[1]].sum(axis=0), size=3, mode="nearest")
    margin = max(1, int(MIN_WIDTH * height))
    minima = [c for c in range(margin, len(profile) - margin)
              if profile[c] <= profile[c - 1] and profile[c] < profile[c + 1]]
    thinnest = sorted(sorted(minima, key=lambda c: profile[c])[:MAX_CUTS])  # bounds the model's work on scribbles
    return [cols[0], *(cols[0] + c for c in thinnest), cols[1]]


def spans(cuts: list[int], height: int) -> list[tuple[int, int]]:
    """The runs of parts between two cuts (indices into ``cuts``) wide enough and narrow enough for a
    digit, and the whole piece."""
    return [(i, j) for i in range(len(cuts)) for j in range(i + 1, len(cuts))
            if MIN_WIDTH * height <= cuts[j] - cuts[i] <= MAX_WIDTH * height or (i, j) == (0, len(cuts) - 1)]


def _width_prior(aspect: float) -> float:
    """How likely a digit of this width (over the line's height) is, as a log-likelihood penalty."""
    return -WIDE_PENALTY * max(0.0, aspect - TYPICAL_WIDTH[1]) - NARROW_PENALTY * max(0.0, TYPICAL_WIDTH[0] - aspect)
