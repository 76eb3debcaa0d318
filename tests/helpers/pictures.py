"""Pictures of hand-written numbers put together from MNIST test digits, as a person might upload them."""

import io

import numpy as np
from PIL import Image

SCALE = 4  # an MNIST digit becomes 112 px, about a canvas's


def _digit(image: np.ndarray) -> np.ndarray:
    """An MNIST digit cropped to its ink, SCALE× bigger, ink in [0, 1]."""
    rows, cols = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
    crop = Image.fromarray(image[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1])
    return np.asarray(crop.resize((crop.width * SCALE, crop.height * SCALE), Image.Resampling.BILINEAR)) / 255


def _first_contact(canvas: np.ndarray, digit: np.ndarray, top: int, right: int) -> int:
    """The leftmost column ``digit`` can start at, moving left from ``right``, before its ink meets the canvas's."""
    height, width = digit.shape
    for left in range(right, 0, -1):
        if (canvas[top:top + height, left:left + width] > 0.3).__and__(digit > 0.3).any():
            return left
    return 0


def number_png(images: np.ndarray, lines: list[list[int]], *, gap: int = 30, touching: set[int] = frozenset(),
               overlap: int = 0, drop: tuple[int, int] | None = None) -> bytes:
    """Dark ink on white paper: the MNIST test digits ``lines`` (indices, one list a line), ``gap`` px
    apart, but the digits at the places in ``touching`` moved left until their inks meet the one before,
    and ``overlap`` px further. ``drop`` (first, last): rows of the SCALE× digits blanked in every digit,
    breaking its strokes."""
    rows = []
    for line in lines:
        digits = [_digit(images[index]) for index in line]
        if drop:
            for digit in digits:
                digit[drop[0]:drop[1]] = 0
        height = max(digit.shape[0] for digit in digits)
        canvas = np.zeros((height, sum(digit.shape[1] for digit in digits) + gap * len(digits)))
        right = 0
        for place, digit in enumerate(digits):
            top = height - digit.shape[0]
            left = (max(0, _first_contact(canvas, digit, top, right) - overlap) if place in touching
                    else right + (gap if right else 0))
            area = canvas[top:top + digit.shape[0], left:left + digit.shape[1]]
            np.maximum(area, digit, out=area)
            right = max(right, left + digit.shape[1])
        rows.append(canvas[:, :right])
    width = max(row.shape[1] for row in rows)
    page = np.concatenate([np.pad(row, ((gap, 0), (0, width - row.shape[1]))) for row in rows])
    page = np.pad(page, ((0, gap), (gap, gap)))
    out = io.BytesIO()
    Image.fromarray(np.round(255 * (1 - page)).astype(np.uint8)).save(out, "PNG")
    return out.getvalue()
