"""Getting image bytes out of requests: files, data URLs and base64, within the limits.

Shared by the JSON API and the pages (including the old app's routes).
"""

import base64
import binascii
import re

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from .recognition import ImageUpload, TooLarge, check_size

DATA_URL = re.compile(r"^data:(?P<type>[\w.+-]+/[\w.+-]+)?(?P<params>(;[\w.+-]+=[\w.+-]+)*)(?P<b64>;base64)?,")


class BadRequest(ValueError):
    """The request itself is malformed (400); the message is meant for the client."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def decode_image_text(text: object, *, field: str) -> ImageUpload:
    """A data URL (``data:image/png;base64,...``) or bare base64 string -> the image bytes."""
    if not isinstance(text, str) or not text.strip():
        raise BadRequest(f"Field '{field}' must be a data URL or a base64 string holding an image.")
    text = text.strip()
    match = DATA_URL.match(text)
    if match and not match["b64"]:
        raise BadRequest(f"Field '{field}' must be base64-encoded (data:image/png;base64,...).")
    payload = text[match.end():] if match else text
    check_size(size=len(payload) * 3 // 4)
    try:
        data = base64.b64decode(re.sub(r"\s+", "", payload), validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest(f"Field '{field}' is not valid base64.") from None
    return ImageUpload(data=data)


def uploads_from_files(files: list[UploadedFile]) -> list[ImageUpload]:
    """Read uploaded files after checking their count and sizes (nothing over the limit is read)."""
    check_count(len(files))
    uploads = []
    for file in files:
        check_size(size=file.size or 0, filename=file.name)
        uploads.append(ImageUpload(data=file.read(), filename=file.name))
    return uploads


def check_count(count: int) -> None:
    limit = settings.NUMBERFIGURE_MAX_FILES
    if count > limit:
        raise TooManyFiles(f"Too many files at once: {count}; send at most {limit} per request.")


class TooManyFiles(TooLarge):
    """More files in one request than allowed (413)."""
