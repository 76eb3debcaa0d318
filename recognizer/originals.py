"""The original of an upload as it is stored: the picture without its metadata.

Phones and cameras write the place (GPS), the camera's serial number, the owner's name and more
into their files; anyone holding a prediction's id can read its original, so none of that is kept.
PNG and JPEG files lose their metadata chunks and segments byte for byte (the picture itself is not
touched); a picture that must be turned upright, and every other format, is re-encoded upright from
its first frame. Files without metadata are stored exactly as they came.
"""

import io
import math
import struct
from dataclasses import dataclass

from django.conf import settings
from PIL import ExifTags, Image, ImageOps

from .errors import CorruptImage
from .preprocessing import CORRUPT, WORK_SIZE, open_image

# Format details, not about the picture's author, camera or place: a file holding only these is kept as it is.
TECHNICAL_INFO = frozenset({
    "jfif", "jfif_version", "jfif_unit", "jfif_density", "dpi", "aspect", "adobe", "adobe_transform",
    "progressive", "progression", "background", "duration", "loop", "version", "transparency", "gamma",
    "interlace", "compression", "srgb",
})
# PNG chunks that describe the pixels (and APNG's frames); the rest (text, eXIf, iCCP, tIME, private) go.
PNG_PIXEL_CHUNKS = frozenset({b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"sBIT",
                              b"bKGD", b"pHYs", b"acTL", b"fcTL", b"fdAT"})
# JPEG APPn segments kept: APP0 (JFIF) and APP14 (Adobe: how to read the colours); COM and other APPn go.
JPEG_KEPT_APPS = frozenset({0xE0, 0xEE})
SAVE_OPTIONS = {"JPEG": {"quality": 95}, "WEBP": {"lossless": True}, "PNG": {"compress_level": 1},
                "TIFF": {"compression": "tiff_deflate"}}


@dataclass(frozen=True)
class Described:
    """What storing an upload needs to know of it, read from its decoded image (whose pixels can then go)."""

    format: str  # as Pillow names it, from the file's own header: MPO (camera JPEGs) is JPEG
    metadata: bool
    upright: bool  # no orientation tag asks for a turn

    @classmethod
    def of(cls, image: Image.Image) -> "Described":
        exif = image.getexif()
        return cls(
            format="JPEG" if image.format == "MPO" else image.format,
            metadata=image.format == "TIFF" or bool(exif) or not TECHNICAL_INFO.issuperset(image.info),
            upright=exif.get(ExifTags.Base.Orientation, 1) in (0, 1),
        )

    @property
    def content_type(self) -> str:
        return Image.MIME[self.format]


def stored(data: bytes, described: Described) -> tuple[bytes, str]:
    """The bytes to store for an upload, and their type."""
    if not described.metadata:
        return data, described.content_type
    try:
        if described.upright and described.format == "PNG":
            return _png_pixel_chunks(data), "image/png"
        if described.upright and described.format == "JPEG":
            return _jpeg_without_apps(data), "image/jpeg"
    except (ValueError, IndexError, struct.error):  # a layout this walk does not follow: re-encode
        pass
    return _reencoded(data, described.format)


def _png_pixel_chunks(data: bytes) -> bytes:
    out, at = [data[:8]], 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at:at + 4])
        kind, end = data[at + 4:at + 8], at + 12 + length
        if kind in PNG_PIXEL_CHUNKS:
            out.append(data[at:end])
        if kind == b"IEND":
            return b"".join(out)
        at = end
    raise ValueError("no IEND chunk")


def _jpeg_without_apps(data: bytes) -> bytes:
    """The segments up to the first scan without APPn/COM, then the coded data up to the first EOI
    (what follows it, another picture of an MPO file or a trailer, is not kept)."""
    out, at = [data[:2]], 2
    while data[at] == 0xFF:
        marker = data[at + 1]
        if marker == 0xDA:  # start of scan: coded data from here on
            end = data.index(b"\xff\xd9", at) + 2
            return b"".join([*out, data[at:end]])
        (length,) = struct.unpack(">H", data[at + 2:at + 4])
        if not (0xE0 <= marker <= 0xEF or marker == 0xFE) or marker in JPEG_KEPT_APPS:
            out.append(data[at:at + 2 + length])
        at += 2 + length
    raise ValueError("no start of scan")


def _reencoded(data: bytes, image_format: str) -> tuple[bytes, str]:
    """The first frame, turned upright, written again in its own format without any metadata (PNG
    when that format cannot hold its mode). A JPEG over 4 × WORK_SIZE is kept at libjpeg's reduced
    scale, which bounds the memory turning it takes."""
    image = open_image(data, max_pixels=settings.NUMBERFIGURE_MAX_PIXELS)
    if image.format in ("JPEG", "MPO"):
        scale = 2 * WORK_SIZE / max(image.size)
        image.draft(image.mode, (math.ceil(image.width * scale), math.ceil(image.height * scale)))
    ImageOps.exif_transpose(image, in_place=True)
    image.info = {key: value for key, value in image.info.items() if key == "transparency"}
    for fmt in (image_format, "PNG"):
        out = io.BytesIO()
        try:
            image.save(out, fmt, **SAVE_OPTIONS.get(fmt, {}))
            return out.getvalue(), Image.MIME[fmt]
        except (OSError, ValueError):  # e.g. a mode this format cannot be written in
            continue
    raise CorruptImage(CORRUPT)
