"""The product's errors, in one place.

Each says what went wrong in words meant for the person who sent the request (``message``) and
which HTTP status fits it (``status``); ``recognizer.web.problems`` is the one place that turns
them, and the framework's own request errors, into responses.
"""


class RecognizerError(Exception):
    """A refusal the client can act on; never a bug."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(RecognizerError):
    """The request itself is malformed: bad JSON or base64, a missing or unknown field, bad filters."""

    status = 400


class UploadTooLarge(RecognizerError):
    """More bytes than the upload limit (``MAX_UPLOAD_MB``); refused before the bytes are read."""

    status = 413


class TooManyFiles(RecognizerError):
    """More files in one request than allowed (``MAX_FILES_PER_REQUEST``)."""

    status = 413


class InvalidImage(RecognizerError, ValueError):
    """The upload cannot become a digit (a ValueError too: for callers of ``preprocessing`` alone)."""

    status = 422


class UnsupportedImage(InvalidImage):
    """Not a raster image in an allowed format."""

    status = 415


class CorruptImage(InvalidImage):
    """In an allowed format, but truncated or corrupt."""

    status = 422


class TooManyPixels(InvalidImage):
    """More pixels than allowed (``MAX_IMAGE_MEGAPIXELS``); raised before any pixel data is decoded."""

    status = 413


class NoDigitFound(InvalidImage):
    """Decodable, but blank, uniform or only noise."""

    status = 422
