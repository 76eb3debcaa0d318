"""Trace MNIST test digits into pen strokes for the draw page: writes ``strokes.json`` next to this file.

For the first ``PER_DIGIT`` test images of each label: upscale, threshold, skeletonize, walk the
skeleton graph into polylines (from end points and junctions along 8-neighbours), drop skeleton
spurs, join the pieces that continue each other through a junction, simplify, and scale to the
draw page's 280-unit canvas. The brush width is the digit's own mean stroke width (ink area over
skeleton length), within the page's brush range. Deterministic: the same MNIST files and library
versions give the same JSON.

Run:  python tests/ml/make_strokes.py [--mnist-dir ../shared/mnist]
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
from pathlib import Path

import numpy as np
from PIL import Image
from skimage.morphology import remove_small_holes, remove_small_objects, skeletonize

HERE = Path(__file__).resolve().parent
OUT = HERE / "strokes.json"
DEFAULT_MNIST = HERE.parents[2] / "shared" / "mnist"  # the repo's sibling ../shared/mnist
PER_DIGIT = 5
UPSCALE = 8  # trace at 224×224
CANVAS = 280  # the draw page's logical canvas side (static/recognizer/draw.js)
BRUSH = (6, 40)  # the draw page's brush range (templates/recognizer/draw.html)
THRESHOLD = 0.4  # of full ink, on the upscaled digit
MAX_TURN = math.radians(70)  # pieces meeting at a junction are joined when the pen turns less
TANGENT = 6  # px along a piece used to measure its direction at an end
EPSILON = 1.5  # px: Ramer-Douglas-Peucker tolerance

Pixel = tuple[int, int]


def first_test_images(mnist_dir: Path) -> list[tuple[int, np.ndarray]]:
    """(label, image) for the first PER_DIGIT test images of each label, label by label."""
    with gzip.open(mnist_dir / "t10k-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(mnist_dir / "t10k-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    return [(label, images[i]) for label in range(10) for i in np.flatnonzero(labels == label)[:PER_DIGIT]]


def trace(image: np.ndarray) -> dict:
    """One MNIST image (28×28 uint8, white on black) -> {"width", "strokes": [[[x, y], ...], ...]}."""
    big = Image.fromarray(image).resize((28 * UPSCALE,) * 2, Image.Resampling.BICUBIC)
    mask = np.asarray(big, dtype=np.float32) / 255 > THRESHOLD
    mask = remove_small_holes(remove_small_objects(mask, max_size=4 * UPSCALE**2), max_size=4 * UPSCALE**2)
    skeleton = skeletonize(mask)
    width = mask.sum() / max(skeleton.sum(), 1)  # mean stroke width in upscaled px
    paths = join(prune(walk(skeleton), width))
    scale = CANVAS / (28 * UPSCALE)
    return {
        "width": min(max(round(width * scale), BRUSH[0]), BRUSH[1]),
        "strokes": [[[round((x + 0.5) * scale, 1), round((y + 0.5) * scale, 1)] for y, x in simplify(path)]
                    for path in paths],
    }


def walk(skeleton: np.ndarray) -> list[list[Pixel]]:
    """Split the skeleton into polylines that end at end points or junctions (closed loops whole)."""
    pixels = set(zip(*map(np.ndarray.tolist, np.nonzero(skeleton)), strict=True))

    def neighbours(p: Pixel) -> list[Pixel]:
        # A diagonal step is skipped when an orthogonal pixel already links the two (staircases).
        y, x = p
        found = [(y + dy, x + dx) for dy, dx in ((0, 1), (1, 0), (0, -1), (-1, 0)) if (y + dy, x + dx) in pixels]
        found += [(y + dy, x + dx) for dy, dx in ((1, 1), (1, -1), (-1, 1), (-1, -1))
                  if (y + dy, x + dx) in pixels and (y + dy, x) not in pixels and (y, x + dx) not in pixels]
        return found

    links = {p: neighbours(p) for p in sorted(pixels)}
    used: set[frozenset] = set()

    def follow(start: Pixel, step: Pixel) -> list[Pixel]:
        path, prev = [start, step], start
        used.add(frozenset((start, step)))
        while len(links[path[-1]]) == 2:
            nxt = next(q for q in links[path[-1]] if q != prev)
            if frozenset((path[-1], nxt)) in used:
                break
            used.add(frozenset((path[-1], nxt)))
            prev = path[-1]
            path.append(nxt)
        return path

    paths = [[p] for p, around in links.items() if not around]  # lone dots
    nodes = [p for p, around in links.items() if len(around) != 2]
    for start in nodes + list(links):  # nodes first; what is left are closed loops
        paths += [follow(start, q) for q in links[start] if frozenset((start, q)) not in used]
    return paths


def prune(paths: list[list[Pixel]], width: float) -> list[list[Pixel]]:
    """Drop spurs: short pieces from a loose end into a junction (skeleton noise at blunt ends)."""
    ends = [p for path in paths for p in (path[0], path[-1])]

    def is_spur(path: list[Pixel]) -> bool:
        loose = [ends.count(end) == 1 for end in (path[0], path[-1])]
        return len(paths) > 1 and len(path) < width and loose.count(True) == 1
    return [path for path in paths if not is_spur(path)]


def join(paths: list[list[Pixel]]) -> list[list[Pixel]]:
    """Greedily join pieces sharing an end where the pen would go straight on through a junction."""
    paths = [list(path) for path in paths]
    while True:
        best = None
        for i, a in enumerate(paths):
            for j in range(i + 1, len(paths)):
                b = paths[j]
                for a_end, b_end in ((-1, 0), (-1, -1), (0, 0), (0, -1)):
                    if a[0] == a[-1] or b[0] == b[-1] or _distance(a[a_end], b[b_end]) > 2:
                        continue
                    turn = _angle(_heading(a, a_end), _heading(b, b_end))
                    if turn < MAX_TURN and (best is None or turn < best[0]):
                        best = (turn, i, j, a_end, b_end)
        if best is None:
            return paths
        _, i, j, a_end, b_end = best
        a = paths[i] if a_end == -1 else paths[i][::-1]
        b = paths[j] if b_end == 0 else paths[j][::-1]
        paths[i] = a + b
        del paths[j]


def _heading(path: list[Pixel], end: int) -> tuple[float, float]:
    """Direction of travel when the pen leaves `path` at `end` (0 = start, -1 = finish)."""
    piece = path[-TANGENT:] if end == -1 else path[:TANGENT][::-1]
    (y0, x0), (y1, x1) = piece[0], piece[-1]
    return y1 - y0, x1 - x0


def _angle(leaving: tuple[float, float], entering_reversed: tuple[float, float]) -> float:
    """Turn between leaving one piece and continuing into the other (which heads away from the joint)."""
    (ay, ax), (by, bx) = leaving, entering_reversed
    norm = math.hypot(ay, ax) * math.hypot(by, bx)
    if norm == 0:
        return math.pi
    # entering_reversed points from the joint into the other piece: straight on means it equals -leaving.
    return math.acos(max(-1.0, min(1.0, -(ay * by + ax * bx) / norm)))


def _distance(p: Pixel, q: Pixel) -> float:
    return math.hypot(p[0] - q[0], p[1] - q[1])


def simplify(path: list[Pixel]) -> list[Pixel]:
    """Ramer-Douglas-Peucker."""
    if len(path) < 3:
        return path
    (y0, x0), (y1, x1) = path[0], path[-1]
    length = math.hypot(y1 - y0, x1 - x0)
    if length == 0:  # a closed loop: split at its farthest point
        far = max(range(len(path)), key=lambda k: _distance(path[0], path[k]))
        return simplify(path[:far + 1])[:-1] + simplify(path[far:])
    offsets = [abs((x1 - x0) * (y0 - y) - (x0 - x) * (y1 - y0)) / length for y, x in path]
    far = max(range(len(path)), key=offsets.__getitem__)
    if offsets[far] <= EPSILON:
        return [path[0], path[-1]]
    return simplify(path[:far + 1])[:-1] + simplify(path[far:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mnist-dir", type=Path, default=DEFAULT_MNIST, help="folder with the MNIST .gz files")
    args = parser.parse_args()
    digits = [{"label": int(label), **trace(image)} for label, image in first_test_images(args.mnist_dir)]
    OUT.write_text(json.dumps({"canvas": CANVAS, "digits": digits}, separators=(",", ":")) + "\n")
    print(f"{OUT}: {len(digits)} digits, {sum(len(d['strokes']) for d in digits)} strokes, "
          f"{OUT.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
