"""The product's errors, in one place.

Each says what went wrong in words meant for the person who sent the request (``message``) and
which HTTP status fits it (``status``, given where the class is declared); ``recognizer.web.problems``
is the one place that turns them, and the framework's own request errors, into responses.
"""

from django.core.exceptions import SuspiciousOperation


class RecognizerError(Exception):
    """A refusal the client can act on; never a bug."""

    status = 400

    def __init_subclass__(cls, *, status: int, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        cls.status = status

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(RecognizerError, status=400):
    """The request itself is malformed: bad JSON or base64, a missing or unknown field, bad filters."""


class UploadTooLarge(RecognizerError, SuspiciousOperation, status=413):
    """More bytes than the upload limit (``MAX_UPLOAD_MB``); refused before the bytes are read.

    Also a SuspiciousOperation (as all refusals the upload handler raises): met outside a view, e.g.
    when the CSRF check reads a form, Django answers it through ``handler400``, which maps it too."""


class TooManyFiles(RecognizerError, SuspiciousOperation, status=413):
    """More files in one request than allowed (``MAX_FILES_PER_REQUEST``)."""


class InvalidImage(RecognizerError, ValueError, status=422):
    """The upload cannot become a digit (a ValueError too: for callers of ``preprocessing`` alone)."""


class UnsupportedImage(InvalidImage, status=415):
    """Not a raster image in an allowed format."""


class CorruptImage(InvalidImage, status=422):
    """In an allowed format, but truncated or corrupt."""


class TooManyPixels(InvalidImage, status=413):
    """More pixels than allowed (``MAX_IMAGE_MEGAPIXELS``); raised before any pixel data is decoded."""


class NoDigitFound(InvalidImage, status=422):
    """Decodable, but blank, uniform or only noise."""


class NotOneDigit(InvalidImage, status=422):
    """The caller asked for exactly one digit (``?expect=digit``) and the picture holds another count."""


class TooManyDigits(InvalidImage, status=422):
    """More digits in one picture than are stored for one (``segmentation.MAX_DIGITS``)."""


class IdempotencyKeyInUse(RecognizerError, status=409):
    """Another request with the same ``Idempotency-Key`` is still being processed."""


class IdempotencyKeyReused(RecognizerError, status=422):
    """The ``Idempotency-Key`` was already used for a different request."""


class PredictionNotFound(RecognizerError, status=404):
    """No prediction has this id (any more)."""


class PredictionChanged(RecognizerError, status=409):
    """A correction or delete kept losing races with other changes to the same prediction."""


class OutboxFull(RecognizerError, status=503):
    """Cassandra is unreachable and the local outbox has no room left (or its disk refuses the file)."""


class RateLimited(RecognizerError, status=429):
    """More requests from one client than its rate allows (``RATE_LIMIT_*``); it may retry later."""


class ClientGone(RecognizerError, status=499):
    """The client closed its connection before its request was processed (nginx's 499): nobody
    would read the answer, so nothing is recognised or stored."""
