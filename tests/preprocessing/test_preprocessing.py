"""Preprocessing: real uploads become the 28×28 MNIST-style input the model expects,
and anything that is not a safe, readable raster image is refused with a clear message.

Fixtures live in ``images/`` and are written by ``make_images.py`` (see its docstring).
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from helpers import png_claiming
from PIL import Image, ImageFilter

from recognizer.errors import TooManyPixels
from recognizer.preprocessing import (
    CORRUPT,
    DIGIT_BOX,
    MNIST_SIZE,
    NO_DIGIT,
    NOT_AN_IMAGE,
    WORK_SIZE,
    CorruptImage,
    InvalidImage,
    NoDigitFound,
    UnsupportedImage,
    decode_image,
    to_mnist,
    to_png,
)

IMAGES = Path(__file__).parent / "images"
MAX_PIXELS = 25_000_000

# Fixture -> the MNIST test digit it was made from.
FROM_MNIST = {
    "scanned_2.jpg": 2,
    "photo_4_exif6.jpg": 4,
    "photo_9_exif8.jpg": 9,
    "offcentre_0.png": 0,
    "tiny_7.png": 7,
    "chalk_3.jpg": 3,
    "transparent_5.png": 5,
    "animated_7_then_2.gif": 7,
}
DRAWN = ["drawn_0.png", "drawn_1.png", "drawn_4.png", "drawn_7.png", "thin_7.png", "thick_7.png", "specks_1.png"]
MNIST_LABELS = [0, 2, 3, 4, 5, 7, 9]
EMPTY = ["blank_white.png", "blank_grey.jpg", "blank_paper.jpg", "noise.png"]


# --- helpers -----------------------------------------------------------------
def read(name: str) -> bytes:
    return (IMAGES / name).read_bytes()


@cache
def processed(name: str) -> np.ndarray:
    """Fixture through the whole pipeline (cached: several tests look at each)."""
    result = to_mnist(decode_image(read(name), max_pixels=MAX_PIXELS))
    result.setflags(write=False)
    return result


def mnist(label: int) -> np.ndarray:
    return np.asarray(Image.open(IMAGES / f"mnist_{label}.png"), dtype=np.float32) / 255


def encode(img: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **options)
    return out.getvalue()


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation, best over ±1 px shifts: MNIST itself centres only to the
    nearest pixel, so a digit half a pixel off is just as MNIST-like."""
    return max(
        float(np.corrcoef(a.ravel(), np.roll(b, (dy, dx), axis=(0, 1)).ravel())[0, 1])
        for dy in (-1, 0, 1)
        for dx in (-1, 0, 1)
    )


def centre_of_mass(a: np.ndarray) -> tuple[float, float]:
    rows, cols = np.indices(a.shape)
    return float((a * rows).sum() / a.sum()), float((a * cols).sum() / a.sum())


def ink_extent(a: np.ndarray) -> tuple[int, int]:
    """Height and width of the bounding box of visible ink."""
    rows, cols = np.nonzero(a > 0.05)
    return int(np.ptp(rows)) + 1, int(np.ptp(cols)) + 1


def stroke_width(a: np.ndarray) -> float:
    """Mean stroke width in px: twice the ink area over the outline length."""
    p = np.pad(a.astype(np.float64), 1)
    outline = np.hypot(np.diff(p, axis=0)[:, :-1], np.diff(p, axis=1)[:-1, :]).sum()
    return 2 * float(a.sum()) / float(outline)


def blurred(a: np.ndarray) -> np.ndarray:
    img = Image.fromarray(np.round(a * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(1.5))
    return np.asarray(img, dtype=np.float32) / 255




# --- what users rely on: an MNIST-like 28×28 input ------------------------------
@pytest.mark.parametrize("name", [*FROM_MNIST, *DRAWN, *(f"mnist_{label}.png" for label in MNIST_LABELS)])
def test_output_has_the_mnist_layout(name):
    a = processed(name)
    assert a.shape == (MNIST_SIZE, MNIST_SIZE) and a.dtype == np.float32
    assert a.min() >= 0 and a.max() <= 1
    assert a.max() > 0.9, "solid ink should be (nearly) white"
    corners = np.concatenate([a[:3, :3], a[:3, -3:], a[-3:, :3], a[-3:, -3:]])
    assert not corners.any(), "the background is black"
    assert 0.04 < a.mean() < 0.3, "white ink on black: ink is the minority"
    assert max(ink_extent(a)) in (DIGIT_BOX - 1, DIGIT_BOX)
    cy, cx = centre_of_mass(a)
    assert abs(cy - 14) <= 1 and abs(cx - 14) <= 1


@pytest.mark.parametrize("label", MNIST_LABELS)
def test_an_mnist_digit_comes_back_unchanged(label):
    assert similarity(processed(f"mnist_{label}.png"), mnist(label)) > 0.98


@pytest.mark.parametrize(("name", "label"), FROM_MNIST.items())
def test_realistic_uploads_come_back_close_to_the_mnist_original(name, label):
    a, original = processed(name), mnist(label)
    assert similarity(a, original) > 0.9
    assert np.abs(a - original).mean() < 0.06


def test_the_digit_is_not_confused_with_another():
    """The similarity measure is discriminative: a 4 from a photo is not a 9."""
    photo_4 = processed("photo_4_exif6.jpg")
    assert similarity(photo_4, mnist(4)) > similarity(photo_4, mnist(9)) + 0.2


@pytest.mark.parametrize(
    ("name", "orientation", "turn"),
    [
        ("photo_4_exif6.jpg", 6, Image.Transpose.ROTATE_270),
        ("photo_9_exif8.jpg", 8, Image.Transpose.ROTATE_90),
    ],
)
def test_exif_orientation_is_honoured(name, orientation, turn):
    stored = Image.open(IMAGES / name)
    assert stored.getexif()[0x0112] == orientation
    decoded = decode_image(read(name), max_pixels=MAX_PIXELS)
    assert decoded.size == stored.size[::-1], "decoding turns the sideways photo upright"
    label = FROM_MNIST[name]
    sideways = to_mnist(stored)  # pixels as stored, orientation tag ignored
    assert similarity(sideways, mnist(label)) < 0.6
    assert similarity(to_mnist(stored.transpose(turn)), processed(name)) > 0.99


def test_light_ink_on_dark_background_becomes_white_on_black():
    """Chalk on a blackboard: polarity is detected, not assumed."""
    a = processed("chalk_3.jpg")
    assert a[0, 0] == 0 and similarity(a, mnist(3)) > 0.9


def test_off_centre_and_tiny_digits_are_cropped_and_scaled_up():
    assert similarity(processed("offcentre_0.png"), mnist(0)) > 0.9
    assert similarity(processed("tiny_7.png"), mnist(7)) > 0.9  # 15 px tall in 1000×1000


def test_transparent_pixels_count_as_white_paper():
    """The fixture's pixels are all black; only alpha draws the digit."""
    assert not np.asarray(Image.open(IMAGES / "transparent_5.png"))[..., :3].any()
    assert similarity(processed("transparent_5.png"), mnist(5)) > 0.9


def test_animated_gif_uses_the_first_frame():
    a = processed("animated_7_then_2.gif")
    assert similarity(a, mnist(7)) > 0.9 > similarity(a, mnist(2))


def test_canvas_drawings_keep_their_shape():
    one, zero = processed("drawn_1.png"), processed("drawn_0.png")
    height, width = ink_extent(one)
    assert height == DIGIT_BOX and width < 12, "a 1 stays tall and narrow, not stretched"
    assert zero[14, 14] < 0.1, "the 0 keeps its hole"


@pytest.mark.parametrize("name", ["thin_7.png", "drawn_7.png", "thick_7.png"])
def test_stroke_width_ends_up_in_mnist_range(name):
    """MNIST strokes are ~1.7-3.7 px wide; a hairline or a marker is brought into
    that range, and the digit keeps its shape (compared blurred, so that stroke
    width itself does not count)."""
    assert 1.7 <= stroke_width(processed(name)) <= 3.7
    assert similarity(blurred(processed(name)), blurred(processed("drawn_7.png"))) > 0.9


def test_isolated_specks_are_ignored():
    assert similarity(processed("specks_1.png"), processed("drawn_1.png")) > 0.99


@pytest.mark.parametrize("name", EMPTY)
def test_images_without_a_digit_are_refused(name):
    img = decode_image(read(name), max_pixels=MAX_PIXELS)
    with pytest.raises(NoDigitFound) as caught:
        to_mnist(img)
    assert caught.value.message == NO_DIGIT


@pytest.mark.parametrize(
    "img",
    [
        Image.new("L", (1, 1), 0),
        Image.new("RGB", (50, 30), (20, 90, 200)),
        Image.new("RGBA", (40, 40), (0, 0, 0, 0)),  # fully transparent
        Image.fromarray(np.pad(np.full((2, 2), 0, np.uint8), 100, constant_values=255)),  # one speck
    ],
    ids=["1x1", "uniform-colour", "transparent", "one-speck"],
)
def test_degenerate_images_have_no_digit(img):
    with pytest.raises(NoDigitFound):
        to_mnist(img)


# --- decoding: formats, modes, transparency --------------------------------------
def big_mnist(label: int, mode: str = "L") -> Image.Image:
    """An MNIST digit as black ink on white, 4× enlarged, in the given mode."""
    digit = Image.fromarray(255 - np.asarray(Image.open(IMAGES / f"mnist_{label}.png")))
    return digit.resize((112, 112), Image.Resampling.BICUBIC).convert(mode)


def transparent(label: int) -> Image.Image:
    """Black ink drawn only through alpha (RGBA), garbage colour under transparency."""
    alpha = 255 - np.asarray(big_mnist(label))
    rgba = np.dstack([np.full_like(alpha, 7), np.zeros_like(alpha), np.zeros_like(alpha), alpha])
    return Image.fromarray(rgba, "RGBA")


def sixteen_bit_png(label: int) -> bytes:
    values = np.asarray(big_mnist(label), np.uint16) * 257
    return encode(Image.fromarray(values), "PNG")


def multipage_tiff(label: int) -> bytes:
    return encode(big_mnist(label), "TIFF", save_all=True, append_images=[Image.new("L", (112, 112), 255)])


def gif_with_transparency(label: int) -> bytes:
    img = big_mnist(label).convert("P")
    img.info["transparency"] = 255  # white is the transparent palette entry
    return encode(img, "GIF")


@pytest.mark.parametrize(
    "data",
    [
        encode(big_mnist(3), "PNG"),
        encode(big_mnist(3, "RGB"), "JPEG", quality=90),
        encode(big_mnist(3, "CMYK"), "JPEG", quality=90),
        encode(big_mnist(3, "RGB"), "BMP"),
        encode(big_mnist(3).convert("1", dither=Image.Dither.NONE), "BMP"),
        encode(big_mnist(3, "RGB"), "WEBP", quality=90),
        encode(transparent(3), "WEBP", lossless=True),
        encode(big_mnist(3, "P"), "GIF"),
        gif_with_transparency(3),
        multipage_tiff(3),
        sixteen_bit_png(3),
        encode(transparent(3), "PNG"),
        encode(transparent(3).convert("LA"), "PNG"),
        encode(transparent(3).quantize(8), "PNG"),
    ],
    ids=[
        "png",
        "jpeg",
        "cmyk-jpeg",
        "bmp",
        "1-bit-bmp",
        "webp",
        "rgba-webp",
        "gif",
        "gif-transparency",
        "multipage-tiff",
        "16-bit-png",
        "rgba-png",
        "la-png",
        "p-png",
    ],
)
def test_every_allowed_format_and_mode_decodes_to_the_digit(data):
    img = decode_image(data, max_pixels=MAX_PIXELS)
    assert img.mode in ("L", "RGB")
    assert similarity(to_mnist(img), mnist(3)) > 0.9


@pytest.mark.parametrize("name", DRAWN)
def test_the_draw_pages_opaque_rgba_canvas_is_read_as_the_same_drawing_in_grey(name):
    """The draw page uploads its canvas as an opaque RGBA PNG: it gives exactly the input its grey pixels give."""
    grey = Image.open(IMAGES / name).convert("L")
    canvas = decode_image(encode(grey.convert("RGBA"), "PNG"), max_pixels=MAX_PIXELS)
    assert np.array_equal(to_mnist(canvas), to_mnist(grey))


def test_a_big_jpeg_is_decoded_at_reduced_scale_but_still_recognisable():
    """A 12-megapixel phone photo needs no full decode: to_mnist works at WORK_SIZE."""
    digit = big_mnist(4).resize((1500, 1500), Image.Resampling.BICUBIC)
    page = Image.new("L", (4000, 3000), 255)
    page.paste(digit, (1800, 900))
    img = decode_image(encode(page, "JPEG", quality=80), max_pixels=MAX_PIXELS)
    assert WORK_SIZE <= max(img.size) < 4000
    assert similarity(to_mnist(img), mnist(4)) > 0.9


def test_to_mnist_accepts_any_pil_image_mode():
    assert similarity(to_mnist(transparent(3)), mnist(3)) > 0.9


# --- decoding: refusals -----------------------------------------------------------
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="28" height="28"><path d="M1 1L9 9"/></svg>'


@pytest.mark.parametrize(
    "data",
    [
        b"",
        SVG,
        b"just some text, not an image\n",
        b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n",
        b"<!doctype html><html><body><img src=x></body></html>",
        b"\x89PNG\r\n\x1a\n",  # a signature and nothing else
        b"GIF89a",
        bytes(range(256)) * 4,
        encode(big_mnist(3), "PPM"),  # real images, but outside the allow-list
        encode(big_mnist(3), "TGA"),
        encode(big_mnist(3), "PCX"),
        encode(big_mnist(3).resize((32, 32)), "ICO"),
    ],
    ids=["empty", "svg", "text", "pdf", "html", "png-signature", "gif-signature", "binary", "ppm", "tga", "pcx", "ico"],
)
def test_anything_but_an_allowed_raster_image_is_refused(data):
    with pytest.raises(UnsupportedImage) as caught:
        decode_image(data, max_pixels=MAX_PIXELS)
    assert caught.value.message == NOT_AN_IMAGE


@pytest.mark.parametrize("name", ["drawn_7.png", "scanned_2.jpg", "photo_4_exif6.jpg", "chalk_3.jpg"])
def test_truncated_images_are_refused_as_corrupt(name):
    data = read(name)
    with pytest.raises(CorruptImage) as caught:
        decode_image(data[: len(data) // 2], max_pixels=MAX_PIXELS)
    assert caught.value.message == CORRUPT


def test_a_too_large_image_is_refused_from_its_header_alone():
    """6000×5000 8-bit RGBA would need 120 MB; the tiny file is refused unread."""
    with pytest.raises(TooManyPixels) as caught:
        decode_image(png_claiming(6000, 5000), max_pixels=MAX_PIXELS)
    assert caught.value.message == "The image is too large: 6000×5000 pixels, the limit is 25 megapixels."


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("side", [10_000, 40_000])
@pytest.mark.parametrize("max_pixels", [MAX_PIXELS, 10**10])
def test_decompression_bombs_are_refused_without_allocating(side, max_pixels):
    """40000² (1.6 gigapixels) trips Pillow's own guard inside Image.open, 10000²
    only its warning; either way, and whatever our limit, nothing is decoded."""
    with pytest.raises(TooManyPixels) as caught:
        decode_image(png_claiming(side, side), max_pixels=max_pixels)
    assert caught.value.message.startswith("The image is too large")


def test_the_pixel_limit_is_inclusive():
    data = encode(Image.new("L", (10, 10), 255), "PNG")
    assert decode_image(data, max_pixels=100).size == (10, 10)
    with pytest.raises(TooManyPixels):
        decode_image(data, max_pixels=99)


def corruptions(data: bytes, count: int = 24):
    """Deterministic damage: truncations and single-byte flips across the file."""
    rng = np.random.default_rng(len(data))
    for cut in np.linspace(1, len(data) - 1, count // 2).astype(int):
        yield data[:cut]
    for at in rng.integers(0, len(data), count // 2):
        yield data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]


@pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow warns about damaged EXIF data
@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF"])
def test_damaged_files_fail_only_with_invalid_image(fmt):
    """Whatever Pillow raises inside, callers only ever see InvalidImage."""
    refused = 0
    for damaged in corruptions(encode(big_mnist(7, "RGB").resize((28, 28)), fmt)):
        try:
            to_mnist(decode_image(damaged, max_pixels=MAX_PIXELS))
        except InvalidImage:
            refused += 1
    assert refused >= 12  # at least every truncation


# --- exceptions and PNG output --------------------------------------------------------
def test_exceptions_share_a_base_and_carry_a_message_for_users():
    for kind in (UnsupportedImage, TooManyPixels, NoDigitFound):
        assert issubclass(kind, InvalidImage)
    assert issubclass(InvalidImage, ValueError)
    error = NoDigitFound(NO_DIGIT)
    assert error.message == str(error) == NO_DIGIT


def test_to_png_stores_the_model_input_as_8_bit_grayscale():
    a = processed("scanned_2.jpg")
    img = Image.open(io.BytesIO(to_png(a)))
    assert (img.format, img.mode, img.size) == ("PNG", "L", (MNIST_SIZE, MNIST_SIZE))
    assert np.array_equal(np.asarray(img), np.round(a * 255).astype(np.uint8))
    assert to_png(a[..., None]) == to_png(a)  # the model's (28, 28, 1) shape is fine too


def test_to_png_refuses_other_shapes():
    with pytest.raises(ValueError, match="28×28"):
        to_png(np.zeros((20, 20)))
