"""Turn an uploaded picture into the 28×28 input the MNIST-trained model expects.

The model only ever saw MNIST digits: white ink on a black background, the digit
scaled (aspect ratio kept, anti-aliased) so its longer side is 20 px, then pasted
into a 28×28 field with its centre of mass at the centre. Real input — a browser
canvas, a scan, a phone photo — must be brought into exactly that shape or the
model's answer is meaningless. This module does that with pure functions:

* ``decode_image``: untrusted bytes -> upright PIL image, white where transparent.
* ``to_mnist``: PIL image -> float32 (28, 28) array in [0, 1], MNIST style.
* ``to_png``: that array -> 8-bit grayscale PNG bytes (stored and shown to users).

Every refusal raises an ``InvalidImage`` whose message can be shown to end users.
"""

from __future__ import annotations

import io
import math
import struct
import zlib
from dataclasses import dataclass

import numpy as np
from PIL import ExifTags, Image
from scipy import ndimage

from .errors import CorruptImage, NoDigitFound, TooManyPixels, UnsupportedImage
from .errors import InvalidImage as InvalidImage  # the base of every refusal below, for callers of this module

# --- Constants and defaults -------------------------------------------------
MNIST_SIZE = 28  # side of the model input
DIGIT_BOX = 20  # MNIST scales the digit's longer side to this
CENTRE = 14.0  # MNIST's mean centre of mass, in pixel-index coordinates
STRING_INK_ROWS, STRING_MARGIN = 20, 2  # a run of touching digits is read this high, with this margin round it
STRING_ROWS = STRING_INK_ROWS + 2 * STRING_MARGIN
ALLOWED_FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF")
WORK_SIZE = 1024  # bigger images are box-downscaled first; a 15 px digit survives
FLAT_WORK_SIZE = 96  # a flat page's ink with its margin is worked on at most this big (the ink ≥ 48 px)
FLAT_PAPER = 2 / 255  # a border spread within this is a flat page (a canvas): no lighting to fit
NOISE_SIGMAS = 4.0  # ink must exceed the background by this many noise sigmas...
NOISE_MARGIN = 0.06  # ...plus this (fraction of full scale), against JPEG ringing
MIN_CONTRAST = 0.12  # solid ink must stand out this much above the noise floor
MIN_INK_MASS = 10.0  # main stroke must hold this much ink (in full-ink pixels)
SPECK_FRACTION = 0.05  # blobs lighter than this share of the main stroke are dropped
# MNIST stroke widths in px at 20 px scale, measured as _fit_box does (test set):
STROKE_RANGE = (1.5, 3.8)  # 2nd-98th percentile: strokes in this range are left alone
STROKE_TARGET = 2.2  # the median: too thin strokes are widened to it...
STROKE_THICK_TARGET = 3.3  # ...too thick ones thinned only to the 95th, sparing thin parts
OVERSAMPLE = 4  # strokes are measured and adjusted at DIGIT_BOX * OVERSAMPLE px

NOT_AN_IMAGE = "The file is not an image we can read (PNG, JPEG, GIF, BMP, WebP or TIFF)."
CORRUPT = "The image is truncated or corrupt."
NO_DIGIT = "No digit found: the image looks empty."
# What Pillow raises on hostile or broken files: a mix, none of it documented as final.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error)


# --- Decoding ----------------------------------------------------------------
MAX_JPEG_SCANS = 64  # a progressive JPEG has ~10 (libjpeg's default script); djpeg -maxscans caps the same way
# Memory decoding may take. Most formats take at most 4 bytes a pixel (160 MB at the 40 MP limit), but
# libjpeg holds a progressive JPEG's every DCT coefficient until its last scan, at any output scale (40 MP
# of 4:4:4 colour: 240 MB), and libwebp's decoder and Pillow's copies take ~16 bytes a pixel (a 1.5 KB
# 40 MP WebP took a worker to 680 MB).
MAX_DECODE_BYTES = 160 * 2**20
WEBP_BYTES_PER_PIXEL = 16


def decode_image(data: bytes, *, max_pixels: int) -> Image.Image:
    """Decode untrusted bytes into an upright image in mode ``L`` or ``RGB``.

    ``open_image`` checks the header first; ``load_image`` then decodes the first frame/page at
    most about twice WORK_SIZE big (which is all to_mnist uses), so memory and time stay bounded
    by the pixel limit whatever the file claims.
    """
    return load_image(open_image(data, max_pixels=max_pixels))


def open_image(data: bytes, *, max_pixels: int) -> Image.Image:
    """Open untrusted bytes as one of ALLOWED_FORMATS, reading only the header (no pixel yet).

    A small file claiming huge dimensions (a decompression bomb) is refused without allocating
    its pixels; Pillow's own bomb guard counts too: the limit is at most Image.MAX_IMAGE_PIXELS.
    A JPEG with more scans than MAX_JPEG_SCANS is refused: libjpeg walks the whole image once per
    progressive scan, so a small file repeating its last scan could hold a worker for minutes.
    """
    if Image.MAX_IMAGE_PIXELS:  # never decode what Pillow itself warns about
        max_pixels = min(max_pixels, Image.MAX_IMAGE_PIXELS)
    if not data:
        raise UnsupportedImage(NOT_AN_IMAGE)
    try:
        img = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise TooManyPixels(f"The image is too large: the limit is {max_pixels / 1e6:g} megapixels.") from None
    except _DECODE_ERRORS:  # includes UnidentifiedImageError (SVG, PDF, text...)
        raise UnsupportedImage(NOT_AN_IMAGE) from None
    width, height = img.size
    if width * height > max_pixels:
        raise TooManyPixels(
            f"The image is too large: {width}×{height} pixels, the limit is {max_pixels / 1e6:g} megapixels."
        )
    if img.format in ("JPEG", "MPO"):
        scans = data.count(b"\xff\xda")  # start-of-scan markers: 0xFF in coded data is always stuffed
        if scans > MAX_JPEG_SCANS:
            raise CorruptImage(f"The JPEG has {scans} scans; a valid one has at most {MAX_JPEG_SCANS}.")
    needed = _decode_bytes(img)
    if needed > MAX_DECODE_BYTES:
        kind = "progressive JPEG" if img.format in ("JPEG", "MPO") else "WebP"
        raise TooManyPixels(f"The image is too large to decode: {width}×{height} pixels of {kind} need about "
                            f"{needed / 2**20:.0f} MB, the limit is {MAX_DECODE_BYTES / 2**20:.0f} MB. "
                            "Send it smaller.")
    return img


def _decode_bytes(img: Image.Image) -> float:
    """Memory decoding takes beyond the ≤ 4 bytes a pixel of most formats (0 for those)."""
    if img.format == "WEBP":
        return WEBP_BYTES_PER_PIXEL * img.width * img.height
    if img.format in ("JPEG", "MPO") and img.info.get("progressive"):
        # 2 bytes per sample of every component, each subsampled by its sampling factors (Pillow's
        # ``layer``: id, horizontal, vertical, quantisation table).
        factors = [(horizontal, vertical) for _, horizontal, vertical, _ in img.layer] or [(1, 1)]
        most = max(h for h, _ in factors) * max(v for _, v in factors)
        return 2 * img.width * img.height * sum(h * v for h, v in factors) / most
    return 0


def load_image(img: Image.Image) -> Image.Image:
    """Decode an ``open_image`` result: first frame/page, reduced, upright, flattened (``L``/``RGB``).

    A JPEG more than twice WORK_SIZE is decoded at reduced scale by libjpeg (never below WORK_SIZE);
    any other big image is reduced right after decoding, in its own mode, before anything converts
    it (to RGBA, to floats), so those copies are of at most ~4 megapixels.
    """
    width, height = img.size
    if img.format in ("JPEG", "MPO") and max(width, height) > 2 * WORK_SIZE:
        # libjpeg can decode at 1/2, 1/4 or 1/8 scale, far faster and smaller.
        scale = WORK_SIZE / max(width, height)
        img.draft(img.mode, (math.ceil(width * scale), math.ceil(height * scale)))
    try:
        img.load()  # decodes the first frame/page; truncation surfaces here
        orientation = img.getexif().get(ExifTags.Base.Orientation, 1)  # phones store photos sideways
        img = _reduce(img)
        if orientation in _ORIENTATIONS:
            img = img.transpose(_ORIENTATIONS[orientation])
        return _flatten(img)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise TooManyPixels("The image is too large.") from None
    except _DECODE_ERRORS:
        raise CorruptImage(CORRUPT) from None


# EXIF orientation -> the turn that makes the picture upright, as ImageOps.exif_transpose does. Not that
# function: it reads the tag from the image it turns, and here the tag is read from the file before a big
# image is reduced (reducing drops a TIFF's tags) and the turn is made after (never a 40 MP transpose);
# docs/decisions/exif-orientation.md.
_ORIENTATIONS = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# Modes Pillow box-reduces in place; with alpha it would first make a premultiplied copy of the whole image.
_REDUCIBLE = ("L", "RGB", "RGBX", "CMYK", "YCbCr", "I", "F")


def _reduce(img: Image.Image) -> Image.Image:
    """An image over twice WORK_SIZE, shrunk by a whole factor to between WORK_SIZE and twice that:
    box-averaged where Pillow can in this mode without a copy, else (alpha, palette, bilevel, 16-bit)
    every n-th pixel."""
    factor = max(img.size) // WORK_SIZE
    if factor < 2:
        return img
    if img.mode in _REDUCIBLE:
        return img.reduce(factor)
    size = (max(1, img.width // factor), max(1, img.height // factor))
    return img.resize(size, Image.Resampling.NEAREST)


def _flatten(img: Image.Image) -> Image.Image:
    """Return mode ``L`` or ``RGB``: transparency composited onto white paper,
    16-bit and float data scaled to 8 bits (Pillow's convert would clip them)."""
    if img.mode in ("I", "F") or img.mode.startswith("I;16"):
        values = np.asarray(img, dtype=np.float64)
        full_scale = 65535.0 if img.mode != "F" else 1.0 if values.max() <= 1 else 255.0
        img = Image.fromarray(np.round(np.clip(values / full_scale, 0, 1) * 255).astype(np.uint8))
    if img.mode in ("RGBA", "LA") and img.getchannel("A").getextrema()[0] == 255:
        return img.convert("L")  # opaque (a browser canvas): compositing would change nothing, and costs 0.6 ms
    if img.has_transparency_data:  # alpha channel, or a transparent palette entry/colour
        paper = Image.new("RGBA", img.size, "white")
        return Image.alpha_composite(paper, img.convert("RGBA")).convert("RGB")
    if img.mode in ("L", "RGB"):
        return img
    return img.convert("L" if img.mode == "1" else "RGB")


# --- Normalising to MNIST ----------------------------------------------------
def to_mnist(img: Image.Image) -> np.ndarray:
    """Return the digit in ``img`` as MNIST would have it: float32 (28, 28) in
    [0, 1], white ink on black, longer side 20 px, centre of mass at (14, 14).

    Works on any PIL image (canvas drawing, scan, photo; dark or light ink).
    Raises NoDigitFound if there is no ink: blank, uniform or only noise.
    """
    return digit_input(ink_layer(img).ink)


@dataclass(frozen=True)
class InkLayer:
    """The picture's ink (``_ink_layer`` after ``_drop_specks``) and where it lies in the picture: ink
    pixel (row, column) covers picture pixels from (top + row × scale, left + column × scale)."""

    ink: np.ndarray
    left: float
    top: float
    scale: float
    shrunk_flat: bool  # a flat page cropped and shrunk to ``flat_size``: a bigger one shows more detail


def ink_layer(img: Image.Image, flat_size: int = FLAT_WORK_SIZE) -> InkLayer:
    """The ink of ``img`` as ``to_mnist`` sees it; ``segmentation`` splits it into digits.
    Raises NoDigitFound if there is none."""
    gray, left, top, scale, shrunk_flat = _working_gray(img, flat_size)
    return InkLayer(_drop_specks(_ink_layer(gray)), left, top, scale, shrunk_flat)  # ink, or it raises


def digit_input(ink: np.ndarray) -> np.ndarray:
    """One digit's ink (anything around it zero) as MNIST would have it: cropped, 20 px, centred by mass."""
    return _centre(_fit_box(ink[_box_of(ink > 0)]))


def string_input(ink: np.ndarray) -> np.ndarray:
    """A run of touching digits' ink (anything around it zero) as the string reader reads it: cropped,
    STRING_INK_ROWS high at its aspect, a margin of STRING_MARGIN, an even width, the darkest ink 1."""
    crop = ink[_box_of(ink > 0)]
    width = max(1, round(crop.shape[1] * STRING_INK_ROWS / crop.shape[0]))
    scaled = np.asarray(Image.fromarray(crop.astype(np.float32)).resize((width, STRING_INK_ROWS),
                                                                       Image.Resampling.BILINEAR))
    out = np.zeros((STRING_ROWS, width + 2 * STRING_MARGIN + width % 2), np.float32)
    out[STRING_MARGIN:STRING_MARGIN + STRING_INK_ROWS, STRING_MARGIN:STRING_MARGIN + width] = scaled
    return np.clip(out / max(float(scaled.max()), 1e-6), 0, 1)


def to_png(array28: np.ndarray) -> bytes:
    """Encode a ``to_mnist`` result as an 8-bit grayscale PNG."""
    pixels = np.squeeze(np.asarray(array28, dtype=np.float64))
    if pixels.shape != (MNIST_SIZE, MNIST_SIZE):
        raise ValueError(f"expected a {MNIST_SIZE}×{MNIST_SIZE} array, got {pixels.shape}")
    out = io.BytesIO()
    Image.fromarray(np.round(np.clip(pixels, 0, 1) * 255).astype(np.uint8)).save(out, "PNG")
    return out.getvalue()


def _working_gray(img: Image.Image, flat_size: int) -> tuple[np.ndarray, float, float, float, bool]:
    """8-bit grey levels (uint8): box-downscaled to at most WORK_SIZE px, and a flat page
    cropped to its ink and shrunk further to ``flat_size`` (``_flat_page_crop``). Done by Pillow, so
    only the pixels that matter become floats, and a flat page's never (``_flat_ink_layer``).
    With them, where they lie in ``img``: left, top, and picture pixels per working pixel."""
    gray = _flatten(img)
    width = gray.width
    gray = _shrink(gray if gray.mode == "L" else gray.convert("L"), WORK_SIZE)
    scale, left, top, shrunk_flat = width / gray.width, 0.0, 0.0, False
    page = _flat_page_crop(gray)
    if page is not None:
        crop_left, crop_top = page.info["crop"]
        left, top = crop_left * scale, crop_top * scale
        shrunk_flat = max(page.size) > flat_size
        gray = _shrink(page, flat_size)
        scale *= page.width / gray.width
    return np.asarray(gray), left, top, scale, shrunk_flat


def _shrink(gray: Image.Image, longest: int) -> Image.Image:
    scale = longest / max(gray.size)
    if scale >= 1:
        return gray
    return gray.resize((max(1, round(gray.width * scale)), max(1, round(gray.height * scale))), Image.Resampling.BOX)


def _flat_page_crop(gray: Image.Image) -> Image.Image | None:
    """On a flat page (a browser canvas, a clean scan) only the ink and some paper around it
    matter: crop to them, with a margin of half the ink's size so paper stays the majority.
    The steps after this then handle a few thousand pixels instead of a whole canvas. None for
    anything else, and for a page where nothing stands out (the next steps say so)."""
    pixels = np.asarray(gray)
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    if int(border.max()) - int(border.min()) > FLAT_PAPER * 255:
        return None
    paper, reach = int(np.median(border)), math.floor(MIN_CONTRAST * 255) + 1  # |level - paper| ≥ reach
    far = pixels <= paper - reach
    if paper + reach <= 255:  # ink lighter than the paper is possible (a white page has none: one pass saved)
        far |= pixels >= paper + reach
    box = _box_of(far)
    if box is None:
        return None
    (top, bottom), (left, right) = ((side.start, side.stop) for side in box)
    margin = max(bottom - top, right - left) // 2 + 1
    page = gray.crop((max(0, left - margin), max(0, top - margin),
                      min(gray.width, right + margin), min(gray.height, bottom + margin)))
    page.info["crop"] = (max(0, left - margin), max(0, top - margin))
    return page


def _box_of(mask: np.ndarray) -> tuple[slice, slice] | None:
    """The bounding box of a mask's true pixels (rows, columns); None if it has none. Two reductions
    along the axes: a third of the time of np.nonzero, which lists every pixel."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if not rows.size:
        return None
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def _ink_layer(levels: np.ndarray) -> np.ndarray:
    """White-on-black ink in [0, 1] with the background at exactly 0, from 8-bit grey ``levels``.

    Uneven lighting is removed by subtracting a smooth fitted background. The ink
    is on the side (darker or lighter) with the larger excursion from it. Anything
    within the noise is zeroed; the rest is stretched so solid ink reaches 1 while
    the anti-aliased edges keep their intermediate values, as in MNIST.
    """
    paper = _flat_paper(levels)
    if paper is not None:
        return _flat_ink_layer(levels, paper)
    gray = levels.astype(np.float32) / 255
    paper = _background(gray)
    residual = gray - paper
    middle = float(np.median(_subsample(residual)))  # medians of 10⁶ pixels are slow
    smooth = _box3(residual)  # so single noisy pixels cannot decide the polarity
    if middle - smooth.min() > smooth.max() - middle:  # dark ink on light paper:
        # ink absorbs a share of the light falling on it, so measure it relative to
        # the local paper brightness; a shadow then dims paper and ink alike.
        residual = -residual / np.maximum(paper, 0.05)
    sample = _subsample(residual)
    floor = float(np.median(sample)) + NOISE_SIGMAS * _robust_sigma(sample) + NOISE_MARGIN
    above = residual[residual > floor]
    solid = _quantile(above, 0.9) if above.size else floor
    if solid - floor < MIN_CONTRAST:
        raise NoDigitFound(NO_DIGIT)
    return np.clip((residual - floor) / (solid - floor), 0, 1)


def _flat_ink_layer(levels: np.ndarray, paper: np.float32) -> np.ndarray:
    """``_ink_layer`` of a page of one paper level (a canvas, a clean scan): there each pixel's
    residual, and so its ink, depends on its grey level alone. So the same steps run on the 256
    levels, each weighted by how many pixels have it (medians and quantiles by rank, the same
    float32 numbers), and one lookup paints the result: a few passes over the image instead of ~15."""
    residual = np.arange(256, dtype=np.float32) / 255 - paper  # each level's, as gray - paper makes it
    counts, sampled = (np.bincount(a.ravel(), minlength=256) for a in (levels, _subsample(levels)))
    middle = float(_weighted_median(residual, sampled))
    if middle >= residual[counts > 0].max() and counts[residual < middle].any():
        dark = True  # paper is the lightest level: no 3×3 mean lies above it, the darkest below; no filter needed
    else:
        smooth = _box3(residual[levels])
        dark = middle - smooth.min() > smooth.max() - middle
    if dark:  # dark ink on light paper: as _ink_layer
        residual = -residual / np.maximum(paper, 0.05)
    centre = _weighted_median(residual, sampled)
    mad = _weighted_median(np.abs(residual - centre), sampled)
    floor = float(centre) + NOISE_SIGMAS * (1.4826 * float(mad)) + NOISE_MARGIN
    above = np.where(residual > floor, counts, 0)
    solid = _weighted_quantile(residual, above, 0.9) if above.any() else floor
    if solid - floor < MIN_CONTRAST:
        raise NoDigitFound(NO_DIGIT)
    return np.clip((residual - floor) / (solid - floor), 0, 1)[levels]


def _ranked(values: np.ndarray, counts: np.ndarray, ranks: list[int]) -> np.ndarray:
    """The elements at ``ranks`` (0 = smallest) of the multiset holding counts[i] copies of values[i]."""
    order = np.argsort(values, kind="stable")
    return values[order[np.searchsorted(np.cumsum(counts[order]), ranks, side="right")]]


def _weighted_median(values: np.ndarray, counts: np.ndarray) -> np.float32:
    """``np.median`` of that multiset: the middle element, or the mean of the middle two as numpy takes it."""
    n = int(counts.sum())
    low, high = _ranked(values, counts, [(n - 1) // 2, n // 2])
    return (low + high) / np.float32(2)  # float32, as numpy's mean of the two


def _weighted_quantile(values: np.ndarray, counts: np.ndarray, q: float) -> float:
    """``_quantile`` of that multiset, with the same arithmetic."""
    position = (int(counts.sum()) - 1) * q
    low = int(position)
    part_low, part_high = _ranked(values, counts, [low, min(low + 1, int(counts.sum()) - 1)])
    return float(part_low + (part_high - part_low) * (position - low))


def _subsample(a: np.ndarray, target: int = 256) -> np.ndarray:
    """Every n-th pixel in both directions, about target² of them, for statistics."""
    step = max(1, max(a.shape) // target)
    return a[::step, ::step].ravel()


def _quantile(a: np.ndarray, q: float) -> float:
    """``np.percentile(a, 100 * q)`` (linear interpolation), without its overhead: one partition."""
    flat = a.ravel()
    position = (flat.size - 1) * q
    low = int(position)
    high = min(low + 1, flat.size - 1)
    part = np.partition(flat, (low, high))
    return float(part[low] + (part[high] - part[low]) * (position - low))


def _robust_sigma(a: np.ndarray) -> float:
    """Standard deviation estimated from the median absolute deviation: the ink
    (a minority of outliers) does not inflate it."""
    return 1.4826 * float(np.median(np.abs(a - np.median(a))))


def _flat_paper(levels: np.ndarray) -> np.float32 | None:
    """The paper's level (in [0, 1]) of a page whose border is one level (a browser canvas, a clean
    scan): it is that level everywhere, no fit needed. None for any other page."""
    border = np.concatenate([levels[0], levels[-1], levels[:, 0], levels[:, -1]]).astype(np.float32) / 255
    return np.float32(np.median(border)) if np.ptp(border) <= FLAT_PAPER else None


def _background(gray: np.ndarray) -> np.ndarray:
    """Fit a smooth cubic surface to the paper: it follows lighting gradients and
    shadows but never the strokes. It is fitted to the medians of ~24×24 cells (a
    cell less than half inked shows the paper's level), rejecting cells that lie
    far off the surface (mostly inked ones) over a few rounds."""
    h, w = gray.shape
    step = max(1, max(h, w) // 192)  # look at a grid of at most 192² pixels
    small = gray[::step, ::step]
    c = max(1, min(small.shape) // 24)  # cell side, in grid pixels
    ch, cw = small.shape[0] // c, small.shape[1] // c
    cells = small[: ch * c, : cw * c].reshape(ch, c, cw, c).swapaxes(1, 2).reshape(ch, cw, c * c)
    sample = np.median(cells, axis=2).ravel().astype(np.float64)
    centres = [(np.arange(n) * c + (c - 1) / 2) * step for n in (ch, cw)]
    vs, us = (g.ravel() for g in np.meshgrid(_unit(centres[0], h), _unit(centres[1], w), indexing="ij"))
    powers = [(i, j) for j in range(4) for i in range(4 - j)]  # u^i v^j, degree ≤ 3
    design = np.stack([us**i * vs**j for i, j in powers], axis=1)
    error = sample - np.median(sample)  # start from a flat page: ink is the minority
    keep = np.ones(sample.size, dtype=bool)
    for _ in range(5):
        kept = error[keep]
        keep = np.abs(error - np.median(kept)) < max(2.5 * _robust_sigma(kept), 0.02)
        a = design[keep]  # least squares via the 10×10 normal equations: fast
        coef = np.linalg.lstsq(a.T @ a, a.T @ sample[keep], rcond=None)[0]
        error = sample - design @ coef
    v, u = _unit(np.arange(h), h), _unit(np.arange(w), w)
    rows = [sum(k * u**i for (i, jj), k in zip(powers, coef, strict=True) if jj == j) for j in range(4)]
    return sum(np.outer(v**j, row) for j, row in enumerate(rows)).astype(np.float32)  # Σ_j v^j·row_j(u)


def _unit(index: np.ndarray, n: int) -> np.ndarray:
    """Pixel index -> coordinate in [-1, 1] across a side of n pixels."""
    return (2 * index / max(n - 1, 1) - 1).astype(np.float32)


def _box3(a: np.ndarray) -> np.ndarray:
    """3×3 mean filter, edges replicated."""
    return ndimage.uniform_filter(a, size=3, mode="nearest")


def _drop_specks(ink: np.ndarray) -> np.ndarray:
    """Zero isolated specks: connected blobs far lighter than the main stroke.

    Pixels with fewer than two inked neighbours (noise, dust) do not count as ink
    here, so scattered noise cannot chain into one big blob. Labelling runs on a
    grid of blocks (at most ~160 per side) to stay cheap. Raises NoDigitFound
    when even the main blob is too small to be a digit.
    """
    solid = np.where(_inked_around(ink > 0) >= 3, ink, 0)  # self + 2 neighbours
    b = -(-max(ink.shape) // 160)  # ceil division: block size in pixels
    mass = solid if b == 1 else _block_sums(solid, b)
    labels = _label(mass > 0)
    blob_mass = np.bincount(labels.ravel(), weights=mass.ravel())
    blob_mass[0] = 0
    if blob_mass.max() < MIN_INK_MASS:
        raise NoDigitFound(NO_DIGIT)
    keep = (blob_mass >= SPECK_FRACTION * blob_mass.max())[labels]
    if b > 1:
        keep = keep.repeat(b, axis=0).repeat(b, axis=1)[: ink.shape[0], : ink.shape[1]]
    return np.where(keep, ink, 0)


def _inked_around(inked: np.ndarray) -> np.ndarray:
    """How many pixels of each 3×3 neighbourhood are inked (edges replicated): in small integers, twice
    as fast as a float 3×3 mean, and the same test (the mean × 9 ≥ 3 holds exactly when the count does)."""
    padded = np.pad(inked.view(np.uint8), 1, mode="edge")
    columns = padded[:-2] + padded[1:-1] + padded[2:]
    return columns[:, :-2] + columns[:, 1:-1] + columns[:, 2:]


def _block_sums(a: np.ndarray, b: int) -> np.ndarray:
    """Sums over b×b blocks (the edges padded with zeros)."""
    h, w = -(-a.shape[0] // b) * b, -(-a.shape[1] // b) * b
    blocks = np.pad(a, ((0, h - a.shape[0]), (0, w - a.shape[1])))
    return blocks.reshape(h // b, b, w // b, b).sum(axis=(1, 3))


def _label(mask: np.ndarray) -> np.ndarray:
    """8-connected component labels (0 = background)."""
    return ndimage.label(mask, structure=np.ones((3, 3), dtype=bool))[0]


def _fit_box(crop: np.ndarray) -> np.ndarray:
    """Scale the cropped digit so its longer side is DIGIT_BOX px, with MNIST-like
    strokes: a hairline or a marker would look unlike anything the model saw, so
    strokes outside MNIST's width range are widened/thinned at OVERSAMPLE× size."""
    size = DIGIT_BOX * OVERSAMPLE
    big = _resize(crop, size)
    inked = big[big > 0.05]
    faded = _quantile(inked, 0.9) if inked.size else 1.0
    big = np.clip(big / min(1.0, faded), 0, 1)  # thin strokes fade when downscaled
    width = _stroke_width(big)
    low, high = (w * OVERSAMPLE for w in STROKE_RANGE)
    target = OVERSAMPLE * (STROKE_TARGET if width < low else STROKE_THICK_TARGET if width > high else 0)
    if target:
        # A disc of radius r changes strokes by ~2r, but also the digit's size, which
        # is then scaled back; so try once, then correct r by a secant step.
        radius = (target - width) / 2  # > 0 widens, < 0 thins
        change = _stroke_width(_morph(big, radius, size)) - width
        if change * radius > 0:
            radius *= min((target - width) / change, 3.0)
        big = _morph(big, radius, size)
    return _resize(big, DIGIT_BOX)


def _resize(a: np.ndarray, longer: int) -> np.ndarray:
    """Resize a float image (aspect kept) so its longer side is ``longer`` px."""
    scale = longer / max(a.shape)
    size = (max(1, round(a.shape[1] * scale)), max(1, round(a.shape[0] * scale)))
    resample = Image.Resampling.BOX if scale < 1 else Image.Resampling.LANCZOS
    img = Image.fromarray(a.astype(np.float32)).resize(size, resample)
    return np.clip(np.asarray(img), 0, 1)


def _stroke_width(a: np.ndarray) -> float:
    """Mean stroke width in px: twice the ink area over the outline length."""
    p = np.pad(a, 1)
    perimeter = np.hypot(np.diff(p, axis=0)[:, :-1], np.diff(p, axis=1)[:-1, :]).sum()
    return 2 * float(a.sum()) / max(float(perimeter), 1e-9)


def _morph(a: np.ndarray, radius: float, size: int) -> np.ndarray:
    """Grey dilation (radius > 0) or erosion (< 0) with a disc, re-cropped to the
    ink and scaled back so the longer side is ``size`` px again."""
    reach = int(np.ceil(abs(radius)))
    dy, dx = np.ogrid[-reach : reach + 1, -reach : reach + 1]
    disc = dy * dy + dx * dx <= radius * radius
    morph = ndimage.grey_dilation if radius > 0 else ndimage.grey_erosion
    out = morph(a, footprint=disc, mode="constant", cval=0.0)  # beyond the edge is paper
    box = _box_of(out > 0.01)
    if box is None:  # eroded away entirely: keep the strokes as they were
        return a
    return _resize(out[box], size)


def _centre(digit: np.ndarray) -> np.ndarray:
    """Paste into MNIST_SIZE² so the centre of mass lands on (CENTRE, CENTRE)."""
    cy, cx = ndimage.center_of_mass(digit)
    top, left = round(CENTRE - cy), round(CENTRE - cx)
    out = np.zeros((MNIST_SIZE, MNIST_SIZE), dtype=np.float32)
    ys, xs = (
        slice(max(top, 0), min(top + digit.shape[0], MNIST_SIZE)),
        slice(max(left, 0), min(left + digit.shape[1], MNIST_SIZE)),
    )
    out[ys, xs] = digit[ys.start - top : ys.stop - top, xs.start - left : xs.stop - left]
    return out
