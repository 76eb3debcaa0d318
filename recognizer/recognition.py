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
from .errors import InvalidImage
from .ml.runtime import get_classifier
from .preprocessing import decode_image, to_mnist, to_png


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

    @property
    def digit(self) -> int:
        return digit_of(self.probabilities)

    @property
    def confidence(self) -> float:
        return self.probabilities[self.digit]


def digit_of(probabilities: Sequence[float]) -> int:
    """The model's answer: the most probable digit (the first, on a tie)."""
    return int(np.argmax(probabilities))


def is_unsure(confidence: float) -> bool:
    """Whether an answer is too doubtful to show without a warning (``UNSURE_BELOW``)."""
    return confidence < settings.NUMBERFIGURE_UNSURE_BELOW


def _model_input(upload: ImageUpload) -> tuple[np.ndarray, str]:
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
