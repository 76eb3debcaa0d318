"""Write the preprocessing test fixtures into ``tests/preprocessing/images/``.

Deterministic: the same MNIST files and library versions give the same images.
The fixtures imitate what users really upload: MNIST test digits re-rendered as
scans, phone photos (sideways, with an EXIF orientation tag), chalk on a board,
transparent PNGs and GIFs, plus browser-canvas style drawings made with PIL, and
images that hold no digit at all. The original 28×28 MNIST digits are written too
(``mnist_<label>.png``) so tests can check that preprocessing gives them back.

Run:  python tests/preprocessing/make_images.py [--mnist-dir ../shared/mnist]
"""

from __future__ import annotations

import argparse
import gzip
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

HERE = Path(__file__).resolve().parent
OUT = HERE / "images"
DEFAULT_MNIST = HERE.parents[2] / "shared" / "mnist"  # the repo's sibling ../shared/mnist
LABELS_USED = (0, 2, 3, 4, 5, 7, 9)  # the first MNIST test digit of each of these labels
ORIENTATION = 0x0112  # EXIF tag


def load_mnist_test(mnist_dir: Path) -> dict[int, np.ndarray]:
    """First test image (uint8 28×28, white on black) for each label in LABELS_USED."""
    with gzip.open(mnist_dir / "t10k-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(mnist_dir / "t10k-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    return {label: images[int(np.argmax(labels == label))] for label in LABELS_USED}


def ink_from_mnist(digit: np.ndarray, scale: int) -> np.ndarray:
    """Ink coverage in [0, 1] of an MNIST digit enlarged with smooth (bicubic) edges."""
    big = Image.fromarray(digit).resize((28 * scale, 28 * scale), Image.Resampling.BICUBIC)
    return np.asarray(big, np.float32) / 255


def smooth_noise(rng: np.random.Generator, shape: tuple[int, int], cells: int) -> np.ndarray:
    """Low-frequency noise in about [-1, 1]: paper fibres, uneven coating."""
    coarse = rng.uniform(-1, 1, (cells, cells)).astype(np.float32)
    return np.asarray(Image.fromarray(coarse).resize(shape[::-1], Image.Resampling.BICUBIC))


def to_rgb(gray: np.ndarray, tint: tuple[float, float, float] = (1, 1, 1)) -> Image.Image:
    """Float gray image in [0, 1] -> RGB image, each channel multiplied by tint."""
    rgb = np.clip(gray[..., None] * np.array(tint, np.float32), 0, 1)
    return Image.fromarray(np.round(rgb * 255).astype(np.uint8))


def scanned(ink: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """Dark ink on light grey paper, a mild left-to-right gradient and grain."""
    h, w = ink.shape
    paper = 0.84 + 0.06 * np.linspace(-1, 1, w)[None, :] + rng.normal(0, 0.012, (h, w))
    return to_rgb(paper * (1 - 0.85 * ink))


def photographed(ink: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """Pen on paper under a lamp: vignette, a shadow across one side, paper
    texture, slightly blurred ink, warm paper tint (JPEG adds the rest)."""
    h, w = ink.shape
    y, x = np.mgrid[-1 : 1 : h * 1j, -1 : 1 : w * 1j]
    light = 1 - 0.18 * ((x - 0.3) ** 2 + (y + 0.2) ** 2)
    shadow = 1 - 0.35 * np.clip(0.5 - x - 0.3 * y, 0, 1)  # darker towards the left
    texture = 1 + 0.025 * smooth_noise(rng, (h, w), 24) + rng.normal(0, 0.015, (h, w))
    ink8 = Image.fromarray(np.round(ink * 255).astype(np.uint8))
    soft_ink = np.asarray(ink8.filter(ImageFilter.GaussianBlur(1.5)), np.float32) / 255
    gray = 0.88 * light * shadow * texture * (1 - 0.8 * soft_ink)
    return to_rgb(gray, tint=(1.0, 0.96, 0.88))


def chalk(ink: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """Light, grainy strokes on a dark green board."""
    h, w = ink.shape
    board = 0.2 + 0.03 * smooth_noise(rng, (h, w), 12) + rng.normal(0, 0.02, (h, w))
    grain = np.clip(rng.normal(0.85, 0.2, (h, w)), 0, 1)
    return to_rgb(board + 0.7 * ink * grain, tint=(0.85, 1.0, 0.9))


def on_canvas(ink: np.ndarray, size: tuple[int, int], at: tuple[int, int]) -> Image.Image:
    """Black ink pasted at (x, y) on a white canvas of (width, height)."""
    canvas = np.zeros(size[::-1], np.float32)
    x, y = at
    canvas[y : y + ink.shape[0], x : x + ink.shape[1]] = ink
    return Image.fromarray(np.round((1 - canvas) * 255).astype(np.uint8))


def drawn(
    strokes: list[list[tuple[int, int]]], ellipses: list[tuple[int, int, int, int]], width: int, size: int = 280
) -> Image.Image:
    """Black polylines/ellipses on white, like a browser canvas: drawn 4× larger
    with round joints and caps, then downscaled for anti-aliased edges."""
    k = 4
    img = Image.new("L", (size * k, size * k), 255)
    draw = ImageDraw.Draw(img)
    for line in strokes:
        points = [(x * k, y * k) for x, y in line]
        draw.line(points, fill=0, width=width * k, joint="curve")
        for x, y in points:
            r = width * k / 2
            draw.ellipse((x - r, y - r, x + r, y + r), fill=0)
    for x0, y0, x1, y1 in ellipses:
        draw.ellipse((x0 * k, y0 * k, x1 * k, y1 * k), outline=0, width=width * k)
    return img.resize((size, size), Image.Resampling.LANCZOS)


SEVEN = [[(80, 60), (200, 60), (125, 230)]]
ONE = [[(115, 80), (145, 50), (145, 230)]]
FOUR = [[(170, 230), (170, 50), (70, 170), (210, 170)]]
ZERO = (85, 45, 195, 235)


def make(mnist_dir: Path) -> None:
    OUT.mkdir(exist_ok=True)
    rng = np.random.default_rng(20240601)
    digits = load_mnist_test(mnist_dir)
    for label, digit in digits.items():
        Image.fromarray(digit).save(OUT / f"mnist_{label}.png")

    # (a) browser-canvas drawings, (e) thin and thick strokes
    drawn(ONE, [], 18).save(OUT / "drawn_1.png")
    drawn(SEVEN, [], 18).save(OUT / "drawn_7.png")
    drawn([], [ZERO], 18).save(OUT / "drawn_0.png")
    drawn(FOUR, [], 18).save(OUT / "drawn_4.png")
    drawn(SEVEN, [], 3).save(OUT / "thin_7.png")
    drawn(SEVEN, [], 60).save(OUT / "thick_7.png")

    # (b) scan, (c) phone photos stored sideways with an EXIF orientation tag
    scanned(ink_from_mnist(digits[2], 11), rng).save(OUT / "scanned_2.jpg", quality=85)
    for label, orientation, storage_turn in ((4, 6, Image.Transpose.ROTATE_90), (9, 8, Image.Transpose.ROTATE_270)):
        ink = np.pad(ink_from_mnist(digits[label], 12), ((70, 30), (20, 40)))  # 396×436
        photo = photographed(ink, rng).transpose(storage_turn)
        exif = Image.Exif()
        exif[ORIENTATION] = orientation  # exif_transpose() turns it upright again
        photo.save(OUT / f"photo_{label}_exif{orientation}.jpg", quality=75, exif=exif)

    # (d) off-centre in a big image, (f) tiny digit (~15 px tall) in 1000×1000
    on_canvas(ink_from_mnist(digits[0], 5), (900, 600), (40, 420)).save(OUT / "offcentre_0.png")
    tiny = Image.fromarray(digits[7]).resize((21, 21), Image.Resampling.BICUBIC)  # 20 px box -> 15
    on_canvas(np.asarray(tiny, np.float32) / 255, (1000, 1000), (610, 230)).save(OUT / "tiny_7.png")

    # (g) chalk on a blackboard: light on dark
    chalk(ink_from_mnist(digits[3], 10), rng).save(OUT / "chalk_3.jpg", quality=80)

    # (h) transparent PNG: black ink whose alpha is the ink coverage
    alpha = np.round(ink_from_mnist(digits[5], 8) * 255).astype(np.uint8)
    rgba = np.dstack([np.zeros_like(alpha)] * 3 + [alpha])
    Image.fromarray(rgba, "RGBA").save(OUT / "transparent_5.png")

    # (i) animated GIF: the first frame is a 7, the second a 2
    frames = [Image.fromarray(255 - np.kron(digits[d], np.ones((6, 6), np.uint8))).convert("P") for d in (7, 2)]
    frames[0].save(OUT / "animated_7_then_2.gif", save_all=True, append_images=frames[1:], duration=500, loop=0)

    # (j) no digit: white, uniform grey JPEG, blank photographed paper, pure noise
    Image.new("L", (280, 280), 255).save(OUT / "blank_white.png")
    Image.new("RGB", (320, 240), (128, 128, 128)).save(OUT / "blank_grey.jpg", quality=75)
    photographed(np.zeros((360, 300), np.float32), rng).save(OUT / "blank_paper.jpg", quality=75)
    noise = np.clip(rng.normal(0.5, 0.1, (128, 128)), 0, 1)
    Image.fromarray(np.round(noise * 255).astype(np.uint8)).save(OUT / "noise.png")

    # a drawing with scattered specks (dust on a scan)
    specks = drawn(ONE, [], 18)
    draw = ImageDraw.Draw(specks)
    for x, y in rng.integers(5, 275, (25, 2)):
        if not 100 < x < 165:  # keep clear of the stroke itself
            draw.ellipse((x - 1, y - 1, x + 1, y + 1), fill=40)
    specks.save(OUT / "specks_1.png")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mnist-dir", type=Path, default=DEFAULT_MNIST)
    make(parser.parse_args().mnist_dir)
