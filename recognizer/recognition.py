"""From uploaded bytes to the model's answer: decode, make MNIST-like, classify in one batch.

Nothing here stores anything; ``services`` records what this returns.
"""

import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from PIL import Image

from . import metrics
from .ml.runtime import get_classifier
from .preprocessing import InvalidImage, decode_image, to_mnist, to_png


@dataclass(frozen=True)
class ImageUpload:
    """One image as received: its bytes and, for files, the name the client gave it (data only)."""

    data: bytes
    filename: str | None = None


@dataclass(frozen=True)
class Recognition:
    probabilities: list[float]
    input_png: bytes
    content_type: str
    model_version: str

    @property
    def digit(self) -> int:
        return int(np.argmax(self.probabilities))

    @property
    def confidence(self) -> float:
        return self.probabilities[self.digit]

    @property
    def unsure(self) -> bool:
        return self.confidence < settings.NUMBERFIGURE_UNSURE_BELOW


def check_size(*, size: int, filename: str | None = None) -> None:
    """Refuse an upload over the configured byte limit, before reading or decoding it."""
    limit = settings.NUMBERFIGURE_MAX_UPLOAD_BYTES
    if size > limit:
        message = f"The file is {size / 2**20:.1f} MB; the limit is {limit / 2**20:g} MB."
        raise TooLarge(f"{filename}: {message}" if filename else message)


class TooLarge(InvalidImage):
    """More bytes than the upload limit."""


def _model_input(upload: ImageUpload) -> tuple[np.ndarray, str]:
    check_size(size=len(upload.data), filename=upload.filename)
    try:
        image = decode_image(upload.data, max_pixels=settings.NUMBERFIGURE_MAX_PIXELS)
        return to_mnist(image), _mime_of(upload.data)
    except InvalidImage as error:
        if upload.filename:
            raise type(error)(f"{upload.filename}: {error.message}") from None
        raise


def _mime_of(data: bytes) -> str:
    """The MIME type the file's own header declares, never the client's claim (header-only read)."""
    with Image.open(io.BytesIO(data)) as image:
        return "image/jpeg" if image.format == "MPO" else Image.MIME[image.format]  # MPO: camera JPEGs


def recognize(uploads: Sequence[ImageUpload]) -> list[Recognition]:
    """Read every upload, then classify them in one batch; any bad upload refuses the whole request."""
    inputs = [_model_input(upload) for upload in uploads]
    classifier = get_classifier()
    with metrics.timed_forward():
        probabilities = classifier.predict(np.stack([array for array, _ in inputs]))
    return [
        Recognition(
            probabilities=[float(p) for p in row],
            input_png=to_png(array),
            content_type=content_type,
            model_version=classifier.version,
        )
        for (array, content_type), row in zip(inputs, probabilities, strict=True)
    ]
