"""Getting image bytes out of requests (files, data URLs, base64, raw bodies) within the limits.

The one home of the byte and file-count limits: every way in checks its bytes here, once, before
reading or decoding them. Shared by the JSON API and the pages (including the old app's routes).
"""

import base64
import json
import re

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from ..errors import BadRequest, TooManyFiles, UploadTooLarge
from ..recognition import ImageUpload

DATA_URL = re.compile(r"^data:(?P<type>[\w.+-]+/[\w.+-]+)?(?P<params>(;[\w.+-]+=[\w.+-]+)*)(?P<b64>;base64)?,")


def check_size(*, size: int, filename: str | None = None) -> None:
    """Refuse an upload over the configured byte limit, before reading or decoding it."""
    limit = settings.NUMBERFIGURE_MAX_UPLOAD_BYTES
    if size > limit:
        message = f"The file is {size / 2**20:.1f} MB; the limit is {limit / 2**20:g} MB."
        raise UploadTooLarge(f"{filename}: {message}" if filename else message)


def check_count(count: int) -> None:
    limit = settings.NUMBERFIGURE_MAX_FILES
    if count > limit:
        raise TooManyFiles(f"Too many files at once: {count}; send at most {limit} per request.")


def read_body(stream) -> bytes:
    """A raw request body: at most one byte over the limit is read, so a bigger body is refused unheld."""
    data = stream.read(settings.NUMBERFIGURE_MAX_UPLOAD_BYTES + 1) if stream else b""
    check_size(size=len(data))
    return data


def decode_image_text(text: object, *, field: str) -> ImageUpload:
    """A data URL (``data:image/png;base64,...``) or bare base64 string -> the image bytes."""
    if not isinstance(text, str) or not text.strip():
        raise BadRequest(f"Field '{field}' must be a data URL or a base64 string holding an image.")
    text = text.strip()
    match = DATA_URL.match(text)
    if match and not match["b64"]:
        raise BadRequest(f"Field '{field}' must be base64-encoded (data:image/png;base64,...).")
    payload = text[match.end():] if match else text
    check_size(size=len(payload) * 3 // 4)  # what the base64 decodes to, at most
    try:
        data = base64.b64decode(re.sub(r"\s+", "", payload), validate=True)
    except ValueError:  # binascii.Error, or text that is not ASCII
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


def json_fields(body: bytes) -> dict:
    """The fields of a JSON request body (the old app's ``/upload3``); none when it is not an object."""
    try:
        value = json.loads(body or b"null")
    except (ValueError, RecursionError):  # malformed, or nested too deep to parse
        raise BadRequest("The body is not valid JSON.") from None
    return value if isinstance(value, dict) else {}
