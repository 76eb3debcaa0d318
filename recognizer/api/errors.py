"""Every API error is JSON ``{"error": "..."}`` with a fitting 4xx status."""

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from ..preprocessing import CorruptImage, ImageTooLarge, InvalidImage, NoDigitFound, UnsupportedImage
from ..recognition import TooLarge

STATUS_OF = (
    (TooLarge, status.HTTP_413_REQUEST_ENTITY_TOO_LARGE),
    (ImageTooLarge, status.HTTP_413_REQUEST_ENTITY_TOO_LARGE),
    (CorruptImage, status.HTTP_422_UNPROCESSABLE_ENTITY),
    (UnsupportedImage, status.HTTP_415_UNSUPPORTED_MEDIA_TYPE),
    (NoDigitFound, status.HTTP_422_UNPROCESSABLE_ENTITY),
    (InvalidImage, status.HTTP_422_UNPROCESSABLE_ENTITY),
)


def status_for(error: InvalidImage) -> int:
    return next(code for kind, code in STATUS_OF if isinstance(error, kind))


def error_response(message: str, status_code: int) -> Response:
    return Response({"error": message}, status=status_code)


def exception_handler(exc, context):
    if isinstance(exc, InvalidImage):
        return error_response(exc.message, status_for(exc))
    if isinstance(exc, RequestDataTooBig):
        return error_response("The request body is larger than the upload limit.", 413)
    if isinstance(exc, SuspiciousOperation):
        return error_response(str(exc) or "The request was malformed.", 400)
    response = drf_exception_handler(exc, context)
    if response is not None:
        response.data = {"error": _message(response.data)}
    return response


def _message(data) -> str:
    """Flatten DRF's error payloads ({"detail": ...} or {"field": [...]}) into one sentence."""
    if isinstance(data, dict):
        if "detail" in data:
            return str(data["detail"])
        return " ".join(f"{field}: {_message(value)}" for field, value in data.items())
    if isinstance(data, list):
        return " ".join(_message(item) for item in data)
    return str(data)
