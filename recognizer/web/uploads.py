"""Getting image bytes out of requests (files, data URLs, base64, raw bodies) within the limits.

The one home of the byte and file-count limits: every way in checks its bytes here, once, before
reading or decoding them. Shared by the JSON API (its parsers, ``JSONParser`` and ``RawImageParser``, are
here) and the pages (including the old app's routes).
"""

import base64
import io
import json
import re

from django.conf import settings
from django.core.files.uploadedfile import InMemoryUploadedFile, UploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from rest_framework import parsers

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


def request_limit() -> int:
    """The largest body a request may send: every file at its limit, plus room for the form's fields."""
    return settings.NUMBERFIGURE_MAX_FILES * settings.NUMBERFIGURE_MAX_UPLOAD_BYTES + 64 * 1024


def check_request_size(length: int) -> None:
    limit = request_limit()
    if length > limit:
        raise UploadTooLarge(f"The request is {length / 2**20:.1f} MB; the limit is {limit / 2**20:.0f} MB "
                             f"({settings.NUMBERFIGURE_MAX_FILES} files of "
                             f"{settings.NUMBERFIGURE_MAX_UPLOAD_BYTES / 2**20:g} MB).")


class LimitedUploadHandler(FileUploadHandler):
    """Multipart files kept in memory within the limits (Django's only upload handler here, so
    nothing is ever spooled to disk). The request is refused (413) the moment it passes a limit:
    a declared length over files × size, one file more than allowed, or a part's byte past
    ``MAX_UPLOAD_MB``; what the client still sends is not read."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        check_request_size(content_length)
        self.files = 0

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.files += 1
        check_count(self.files)
        self.buffer = io.BytesIO()

    def receive_data_chunk(self, raw_data, start):
        limit = settings.NUMBERFIGURE_MAX_UPLOAD_BYTES
        if start + len(raw_data) > limit:
            raise UploadTooLarge(f"{self.file_name}: the file is larger than the limit of {limit / 2**20:g} MB.")
        self.buffer.write(raw_data)

    def file_complete(self, file_size):
        self.buffer.seek(0)
        return InMemoryUploadedFile(self.buffer, self.field_name, self.file_name, self.content_type, file_size,
                                    self.charset, self.content_type_extra)


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


def json_value(body: bytes) -> object:
    """A JSON body parsed; malformed, or nested deeper than Python's parser goes, is a 400."""
    try:
        return json.loads(body or b"null")
    except (ValueError, RecursionError):  # malformed, or nested too deep to parse
        raise BadRequest("The body is not valid JSON.") from None


def read_json(stream) -> object:
    """A JSON request body read from its stream, at most one byte over Django's body limit."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    body = stream.read(limit + 1) if stream else b""
    if len(body) > limit:
        raise UploadTooLarge(f"The request body is larger than the limit of {limit / 2**20:.1f} MB.")
    return json_value(body)


def json_fields(body: bytes) -> dict:
    """The fields of a JSON request body (the old app's ``/upload3``); none when it is not an object."""
    value = json_value(body)
    return value if isinstance(value, dict) else {}


class JSONParser(parsers.JSONParser):
    """DRF's, within the body limit; JSON nested deeper than Python's parser goes is a 400, not a 500."""

    def parse(self, stream, media_type=None, parser_context=None) -> object:
        return read_json(stream)


class RawImageParser(parsers.BaseParser):
    """A raw ``image/*`` request body is the image itself."""

    media_type = "image/*"

    def parse(self, stream, media_type=None, parser_context=None) -> bytes:
        return read_body(stream)
