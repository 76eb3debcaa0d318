"""From uploaded bytes to the model's answer: decode, make MNIST-like, classify in one batch.

Nothing here stores anything; ``services`` records what this returns.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from PIL import Image

from . import metrics, originals
from .errors import InvalidImage, TooManyPixels
from .ml.runtime import get_classifier
from .preprocessing import load_image, open_image, to_mnist, to_png


@dataclass(frozen=True)
class ImageUpload:
    """One image as received: its bytes and, for files, the name the client gave it (data only).

    ``recognizer.web.uploads`` makes these, and has checked the byte limit by then."""

    data: bytes
    filename: str | None = None


@dataclass(frozen=True)
class Recognition:
    probabilities: list[float]
    input_png: bytes
    content_type: str
    model_version: str
    original: bytes  # the upload as it is stored: without metadata (EXIF, GPS, XMP, ICC, text), see originals

    @property
    def digit(self) -> int:
        return digit_of(self.probabilities)

    @property
    def confidence(self) -> float:
        return self.probabilities[self.digit]


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


def _model_input(upload: ImageUpload, image: Image.Image) -> tuple[np.ndarray, str, bytes]:
    """The model's input, the type the file's own header declares (never the client's claim), and
    the original to store (``originals``)."""
    try:
        array = to_mnist(load_image(image))
        described = originals.Described.of(image)
    finally:
        image.close()  # frees the decoded pixels before the next upload's
    original, content_type = originals.stored(upload.data, described)
    return array, content_type, original


def recognize(uploads: Sequence[ImageUpload]) -> list[Recognition]:
    """Read every upload, then classify them in one batch; any bad upload refuses the whole request.

    Every header is read before any pixel is decoded, so a request over its pixel budget costs nothing."""
    images = []
    for upload in uploads:
        with _about(upload):
            images.append(open_image(upload.data, max_pixels=settings.NUMBERFIGURE_MAX_PIXELS))
    _check_request_pixels(images)
    inputs = []
    for upload, image in zip(uploads, images, strict=True):
        with _about(upload):
            inputs.append(_model_input(upload, image))
    classifier = get_classifier()
    with metrics.timed_forward():
        probabilities = classifier.predict(np.stack([array for array, _, _ in inputs]))
    return [
        Recognition(
            probabilities=[float(p) for p in row],
            input_png=to_png(array),
            content_type=content_type,
            model_version=classifier.version,
            original=original,
        )
        for (array, content_type, original), row in zip(inputs, probabilities, strict=True)
    ]
