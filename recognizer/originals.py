"""The original of an upload as it is stored: the picture and nothing else.

Phones and cameras write the place (GPS), the camera's serial number, the owner's name and more
into their files, and any file can carry bytes after its end marker; anyone holding a prediction's
id can read its original. So every original is rebuilt, whatever Pillow reports of it: a PNG from a
whitelist of the chunks that describe its pixels, a JPEG from the segments that decode it (its
entropy-coded data included, a minimal JFIF header and the Adobe colour marker), each up to its end
marker; a picture that must be turned upright, and every other format, is re-encoded upright from
its first frame. A file holding only whitelisted parts is stored exactly as it came.
"""

import io
import math
import re
import struct
from dataclasses import dataclass

from django.conf import settings
from PIL import ExifTags, Image, ImageOps

from .errors import CorruptImage
from .preprocessing import CORRUPT, WORK_SIZE, open_image

# PNG chunks that describe the pixels (and APNG's frames); the rest (text, eXIf, iCCP, tIME, private) go.
PNG_PIXEL_CHUNKS = frozenset({b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"sBIT",
                              b"bKGD", b"pHYs", b"acTL", b"fcTL", b"fdAT"})
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# JPEG segments a decoder needs: frame headers (SOFn), Huffman (DHT) and arithmetic (DAC) tables, quantisation
# tables (DQT), restart interval (DRI), scans (SOS). APP0 (JFIF) and APP14 (Adobe: how to read the colours)
# are rewritten from their known fields; every other APPn (APP11: C2PA), COM and reserved marker goes.
JPEG_DECODING = frozenset({*range(0xC0, 0xD0), 0xDA, 0xDB, 0xDD}) - {0xC8}
JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM and restarts: no length follows
JPEG_NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7]")  # in coded data: not a stuffed 0xFF, not a restart
SAVE_OPTIONS = {"JPEG": {"quality": 95}, "WEBP": {"lossless": True}, "PNG": {"compress_level": 1},
                "TIFF": {"compression": "tiff_deflate"}}


@dataclass(frozen=True)
class Described:
    """What storing an upload needs to know of it, read from its decoded image (whose pixels can then go)."""

    format: str  # as Pillow names it, from the file's own header: MPO (camera JPEGs) is JPEG
    upright: bool  # no orientation tag asks for a turn

    @classmethod
    def of(cls, image: Image.Image) -> "Described":
        return cls(
            format="JPEG" if image.format == "MPO" else image.format,
            upright=image.getexif().get(ExifTags.Base.Orientation, 1) in (0, 1),
        )

    @property
    def content_type(self) -> str:
        return Image.MIME[self.format]


def stored(data: bytes, described: Described) -> tuple[bytes, str]:
    """The bytes to store for an upload, and their type."""
    rebuild = {"PNG": _png_pixel_chunks, "JPEG": _jpeg_decoding_segments}.get(described.format)
    if described.upright and rebuild is not None:
        try:
            return rebuild(data), described.content_type
        except (ValueError, IndexError, struct.error):  # a layout this walk does not follow: re-encode
            pass
    return _reencoded(data, described.format)


def _png_pixel_chunks(data: bytes) -> bytes:
    """The signature and the whitelisted chunks up to IEND; nothing after it."""
    if not data.startswith(PNG_SIGNATURE):
        raise ValueError("not a PNG signature")
    out, at = [PNG_SIGNATURE], len(PNG_SIGNATURE)
    while at < len(data):
        (length,) = struct.unpack(">I", data[at:at + 4])
        kind, end = data[at + 4:at + 8], at + 12 + length
        if end > len(data):
            raise ValueError("a chunk runs past the end")
        if kind in PNG_PIXEL_CHUNKS:
            out.append(data[at:end])
        if kind == b"IEND":
            return b"".join(out)
        at = end
    raise ValueError("no IEND chunk")


def _jpeg_decoding_segments(data: bytes) -> bytes:
    """SOI, the segments a decoder needs with their scans' coded data, and EOI: the first picture only
    (another picture of an MPO file, or a trailer, is not kept)."""
    if not data.startswith(b"\xff\xd8"):
        raise ValueError("no start of image")
    out, at = [b"\xff\xd8"], 2
    while True:
        if data[at] != 0xFF:
            raise ValueError("not a marker")
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte before a marker
            at += 1
            continue
        if marker == 0xD9:
            out.append(b"\xff\xd9")
            return b"".join(out)
        if marker in JPEG_STANDALONE:
            at += 2
            continue
        (length,) = struct.unpack(">H", data[at + 2:at + 4])
        segment, at = data[at:at + 2 + length], at + 2 + length
        if len(segment) != 2 + length:
            raise ValueError("a segment runs past the end")
        if marker in JPEG_DECODING:
            out.append(segment)
        elif marker == 0xE0 and segment[4:9] == b"JFIF\0" and length >= 16:
            out.append(b"\xff\xe0\x00\x10" + segment[4:16] + b"\0\0")  # without its thumbnail
        elif marker == 0xEE and segment[4:9] == b"Adobe" and length >= 14:
            out.append(b"\xff\xee\x00\x0e" + segment[4:16])  # version, flags, colour transform
        if marker == 0xDA:  # the scan's coded data, up to the next marker
            end = JPEG_NEXT_MARKER.search(data, at)
            if end is None:
                raise ValueError("no end of image")
            out.append(data[at:end.start()])
            at = end.start()


def _reencoded(data: bytes, image_format: str) -> tuple[bytes, str]:
    """The first frame, turned upright, written again in its own format without any metadata (PNG
    when that format cannot hold its mode). A JPEG over 4 × WORK_SIZE is kept at libjpeg's reduced
    scale, which bounds the memory turning it takes."""
    image = open_image(data, max_pixels=settings.NUMBERFIGURE_MAX_PIXELS)
    if image.format in ("JPEG", "MPO"):
        scale = 2 * WORK_SIZE / max(image.size)
        image.draft(image.mode, (math.ceil(image.width * scale), math.ceil(image.height * scale)))
    ImageOps.exif_transpose(image, in_place=True)
    if hasattr(image, "tag_v2"):  # Pillow writes an opened TIFF's own tags (Artist, XMP, ...) again: a plain copy
        image = image.copy()
    image.info = {key: value for key, value in image.info.items() if key == "transparency"}
    for fmt in (image_format, "PNG"):
        out = io.BytesIO()
        try:
            image.save(out, fmt, **SAVE_OPTIONS.get(fmt, {}))
            return out.getvalue(), Image.MIME[fmt]
        except (OSError, ValueError):  # e.g. a mode this format cannot be written in
            continue
    raise CorruptImage(CORRUPT)
