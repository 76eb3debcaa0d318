"""From uploaded bytes to the model's answer: decode, find the digits, make each MNIST-like, classify
all in one batch.

Nothing here stores anything; ``services`` records what this returns.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace

import numpy as np
from django.conf import settings
from PIL import Image

from . import metrics, originals
from .errors import InvalidImage, NotOneDigit, TooManyPixels
from .ml.runtime import Classifier, decode, get_classifier, get_string_reader, get_verifier
from .preprocessing import load_image, open_image, to_png
from .segmentation import Digit, Reader, split_digits


@dataclass(frozen=True)
class ImageUpload:
    """One image as received: its bytes and, for files, the name the client gave it (data only).

    ``recognizer.web.uploads`` makes these, and has checked the byte limit by then."""

    data: bytes
    filename: str | None = None


@dataclass(frozen=True)
class DigitReading:
    """One digit of a picture: the model's answer, its input, and its box in the picture (left, top,
    width, height in pixels of the upright picture)."""

    probabilities: list[float]
    input_png: bytes
    box: tuple[int, int, int, int]

    @property
    def digit(self) -> int:
        return digit_of(self.probabilities)

    @property
    def confidence(self) -> float:
        return self.probabilities[self.digit]


@dataclass(frozen=True)
class Recognition:
    """One picture read: its digits in reading order (``segmentation``). The single-digit fields are
    its first digit's, so a picture of one digit reads as it always has."""

    digits: list[DigitReading]
    content_type: str
    model_version: str
    original: bytes  # the upload as it is stored: without metadata (EXIF, GPS, XMP, ICC, text), see originals

    @property
    def number(self) -> str:
        return "".join(str(reading.digit) for reading in self.digits)

    @property
    def probabilities(self) -> list[float]:
        return self.digits[0].probabilities

    @property
    def input_png(self) -> bytes:
        return self.digits[0].input_png

    @property
    def digit(self) -> int:
        return self.digits[0].digit

    @property
    def confidence(self) -> float:
        return self.digits[0].confidence


def digit_of(probabilities: Sequence[float]) -> int:
    """The model's answer: the most probable digit (the first, on a tie)."""
    return int(np.argmax(probabilities))


@contextmanager
def _about(upload: ImageUpload) -> Iterator[None]:
    """Refusals name the file they are about, when it has a name."""
    try:
        yield
    except InvalidImage as error:
        if upload.filename:
            raise type(error)(f"{upload.filename}: {error.message}") from None
        raise


def _check_request_pixels(images: Sequence[Image.Image]) -> None:
    """The pixel budget of one request (``MAX_REQUEST_MEGAPIXELS``), from the headers alone."""
    total, limit = sum(image.width * image.height for image in images), settings.NUMBERFIGURE_MAX_REQUEST_PIXELS
    if total > limit:
        raise TooManyPixels(f"The images hold {total / 1e6:.1f} megapixels together; "
                            f"the limit per request is {limit / 1e6:g} megapixels.")


def reader(classifier: Classifier) -> Reader:
    """What segmentation asks: ``classifier`` for digits, the shipped verifier for well-cut pieces and the
    string reader for runs of touching digits."""
    verifier, strings = get_verifier(), get_string_reader()
    return Reader(classifier.predict, lambda batch: verifier.predict(batch)[:, 0],
                  lambda run: decode(strings.run(run[None, :, :, None])[0, 0]))


def probabilities(digit: Digit, model: np.ndarray) -> np.ndarray:
    """A digit's ten probabilities: the digit model's (``model``); for a touching digit, the digit model's
    and the string reader's multiplied and renormalised (two experts that fail differently: the digit
    model on a part with a slice of its neighbour, the string reader on a run unlike its training)."""
    if digit.string_reading is None:
        return model
    both = model.astype(np.float64) * digit.string_reading
    return both / both.sum() if both.sum() > 0 else model


def _model_inputs(upload: ImageUpload, image: Image.Image, read: Reader) -> tuple[list[Digit], str, bytes]:
    """The picture's digits (their model inputs, and boxes in the picture as uploaded, upright), the type
    the file's own header declares (never the client's claim), and the original to store (``originals``)."""
    try:
        size = max(image.size)
        loaded = load_image(image)
        scale = size / max(loaded.size)  # big pictures are decoded reduced
        digits = [replace(digit, box=tuple(round(side * scale) for side in digit.box))
                  for digit in split_digits(loaded, read)]
        described = originals.Described.of(image)
    finally:
        image.close()  # frees the decoded pixels before the next upload's
    original, content_type = originals.stored(upload.data, described)
    return digits, content_type, original


def recognize(uploads: Sequence[ImageUpload], *, expect_digit: bool = False) -> list[Recognition]:
    """Read every upload, then classify all their digits in one batch; any bad upload refuses the whole
    request. ``expect_digit``: a picture holding more than one digit is refused (``NotOneDigit``).

    Every header is read before any pixel is decoded, so a request over its pixel budget costs nothing."""
    images = []
    for upload in uploads:
        with _about(upload):
            images.append(open_image(upload.data, max_pixels=settings.NUMBERFIGURE_MAX_PIXELS))
    _check_request_pixels(images)
    classifier = get_classifier()
    pictures = []
    for upload, image in zip(uploads, images, strict=True):
        with _about(upload):
            pictures.append(_model_inputs(upload, image, reader(classifier)))
            if expect_digit and len(pictures[-1][0]) != 1:
                raise NotOneDigit(f"Expected one digit, found {len(pictures[-1][0])} in the picture.")
    with metrics.timed_forward():
        model = iter(classifier.predict(np.stack([digit.input for digits, _, _ in pictures for digit in digits])))
    return [
        Recognition(
            digits=[DigitReading(probabilities=[float(p) for p in probabilities(digit, next(model))],
                                 input_png=to_png(digit.input),
                                 box=digit.box) for digit in digits],
            content_type=content_type,
            model_version=classifier.version,
            original=original,
        )
        for digits, content_type, original in pictures
    ]
