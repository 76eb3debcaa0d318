"""Hostile image files, made in the test (nothing binary committed): bombs, odd modes, lying headers.

Each function returns the file's bytes. The big ones are small on disk and huge once decoded.
"""

import io
import struct
import zlib
from functools import cache

from PIL import Image


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(width: int, height: int, *, bit_depth: int, colour_type: int, bytes_per_pixel: float,
         level: int = 255) -> bytes:
    """A PNG written by hand: every row the same (so it compresses to almost nothing), any depth and type."""
    row = b"\x00" + bytes([level]) * int(width * bytes_per_pixel)
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    extra = _chunk(b"PLTE", bytes(range(256)) * 3) if colour_type == 3 else b""
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + extra + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


@cache
def png_16bit_40mp() -> bytes:
    """8000×5000 16-bit grayscale, ~90 KB: 80 MB as decoded, 320 MB as float64."""
    return _png(8000, 5000, bit_depth=16, colour_type=0, bytes_per_pixel=2)


@cache
def png_rgba_40mp() -> bytes:
    """8000×5000 8-bit RGBA, 160 MB decoded."""
    return _png(8000, 5000, bit_depth=8, colour_type=6, bytes_per_pixel=4)


@cache
def png_16bit_rgba_40mp() -> bytes:
    """8000×5000 16-bit RGBA (Pillow decodes it to 8-bit RGBA)."""
    return _png(8000, 5000, bit_depth=16, colour_type=6, bytes_per_pixel=8)


@cache
def png_palette_40mp() -> bytes:
    return _png(8000, 5000, bit_depth=8, colour_type=3, bytes_per_pixel=1, level=7)


@cache
def png_bilevel_40mp() -> bytes:
    return _png(8000, 5000, bit_depth=1, colour_type=0, bytes_per_pixel=1 / 8)


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small JPEG whose SOF0 header claims width×height."""
    data = bytearray(encode(Image.new("L", (8, 8), 255), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def gif_claiming(width: int, height: int) -> bytes:
    data = bytearray(encode(Image.new("L", (1, 1), 255), "GIF"))
    data[6:10] = struct.pack("<HH", width, height)
    return bytes(data)


def bmp_claiming(width: int, height: int) -> bytes:
    data = bytearray(encode(Image.new("L", (1, 1), 255), "BMP"))
    data[18:26] = struct.pack("<ii", width, height)
    return bytes(data)


def tiff_claiming(width: int, height: int) -> bytes:
    data = encode(Image.new("L", (7, 5), 255), "TIFF")
    # Width (256) and length (257) are SHORT values in the first IFD: patch them as LONGs.
    image = bytearray(data)
    offset = struct.unpack("<I", image[4:8])[0]
    count = struct.unpack("<H", image[offset:offset + 2])[0]
    for entry in range(count):
        at = offset + 2 + 12 * entry
        tag = struct.unpack("<H", image[at:at + 2])[0]
        if tag in (256, 257):
            image[at + 2:at + 12] = struct.pack("<HII", 4, 1, width if tag == 256 else height)
    return bytes(image)


@cache
def scan_bomb_jpeg(repeats: int = 5000) -> bytes:
    """A progressive JPEG whose last scan is repeated ``repeats`` times: ~a few hundred KB, and
    libjpeg walks the whole image once per scan (minutes of CPU without a scan cap)."""
    data = encode(Image.new("L", (2048, 2048), 255), "JPEG", progressive=True, quality=90)
    last_scan = data.rindex(b"\xff\xda")
    end = data.rindex(b"\xff\xd9")
    return data[:end] + data[last_scan:end] * repeats + data[end:]


def progressive_jpeg_digit(digit_png: bytes) -> bytes:
    """An ordinary progressive JPEG (libjpeg's ~10 scans): must still be read."""
    return encode(Image.open(io.BytesIO(digit_png)).convert("L"), "JPEG", progressive=True, quality=90)


@cache
def big_jpeg() -> bytes:
    """36 megapixels of baseline JPEG (within the 40 MP limit)."""
    return encode(Image.new("L", (6000, 6000), 255), "JPEG", quality=50)


@cache
def many_frame_gif(frames: int = 1000) -> bytes:
    first, *rest = (Image.new("L", (200, 200), n % 256) for n in range(frames))
    return encode(first, "GIF", save_all=True, append_images=rest, duration=10, loop=0)


def photocd_webp(digit_png: bytes) -> bytes:
    """A valid WebP whose ICC profile puts ``PCD_`` at offset 2048, where Pillow's PhotoCD plugin
    looks: opened without the format allow-list, it is taken for a PhotoCD file."""
    picture = Image.open(io.BytesIO(digit_png)).convert("RGB")
    for icc_length in range(2100, 2200):
        icc = bytearray(icc_length)
        data = encode(picture, "WEBP", icc_profile=bytes(icc), lossless=True)
        start = data.index(b"ICCP") + 8  # chunk data follows its 4-byte name and 4-byte size
        if start <= 2048 < start + icc_length - 4:
            icc[2048 - start:2048 - start + 4] = b"PCD_"
            data = encode(picture, "WEBP", icc_profile=bytes(icc), lossless=True)
            assert data[2048:2052] == b"PCD_"
            return data
    raise AssertionError("no ICC length puts PCD_ at 2048")


def tiff_40mp() -> bytes:
    """6000×6000 deflate-compressed TIFF: small file, 36 MB decoded."""
    return encode(Image.new("L", (6000, 6000), 255), "TIFF", compression="tiff_deflate")


def with_gps_exif(digit_png: bytes, *, orientation: int = 6) -> bytes:
    """A JPEG as a phone writes it: stored sideways with an orientation tag, camera serial and GPS."""
    picture = Image.open(io.BytesIO(digit_png)).convert("RGB").transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0xA431] = "SERIAL-12345"  # BodySerialNumber
    exif[0x010F] = "PhoneMaker"
    exif.get_ifd(0x8825).update({1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)})  # GPS
    return encode(picture, "JPEG", exif=exif, quality=95)


def png_with_text(digit_png: bytes) -> bytes:
    """A PNG with text chunks (author, location) before and after its image data."""
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Jane Doe")
    info.add_text("Location", "52.5200 N, 13.4050 E", zip=True)
    return encode(Image.open(io.BytesIO(digit_png)), "PNG", pnginfo=info)


def nested_json(depth: int = 100_000) -> bytes:
    return b"[" * depth + b"]" * depth


def nested_object_json(depth: int = 100_000) -> bytes:
    return b'{"image":' * depth + b"1" + b"}" * depth


def _big_page(digit_png: bytes, mode: str) -> Image.Image:
    """A 40-megapixel page with the digit 1,500 px tall on it."""
    page = Image.new(mode, (7600, 5200), "white")
    page.paste(Image.open(io.BytesIO(digit_png)).convert(mode).resize((1500, 1500)), (3000, 1800))
    return page


def big_photo_with_exif(digit_png: bytes) -> bytes:
    """A 40 MP phone photo with an orientation tag and camera data: its stored original is re-encoded."""
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "PhoneMaker"
    return encode(_big_page(digit_png, "RGB"), "JPEG", exif=exif, quality=70)


def big_png_with_text(digit_png: bytes) -> bytes:
    """A 40 MP RGBA PNG with a text chunk: decoded twice (to read it, and to store it without the text)."""
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Jane Doe")
    return encode(_big_page(digit_png, "RGBA"), "PNG", pnginfo=info, compress_level=1)


@cache
def progressive_jpeg_40mp(subsampling: int) -> bytes:
    """7900×5000 progressive colour JPEG: libjpeg holds all its coefficients (120 MB at 4:2:0 = 2,
    240 MB at 4:4:4 = 0) whatever the output scale."""
    return encode(Image.new("RGB", (7900, 5000), "white"), "JPEG", progressive=True, quality=90,
                  subsampling=subsampling)


@cache
def webp(width: int, height: int) -> bytes:
    """A lossless white WebP: ~1.5 KB at any size; libwebp and Pillow take ~15 bytes a pixel decoding it."""
    return encode(Image.new("RGB", (width, height), "white"), "WEBP", lossless=True)


# What the files below hide: a person's name in a private part, and a trailer after the end marker.
HIDDEN = b"Jane Doe, 12 Hidden Lane"
TRAILER = b"TRAILING-SECRET-" * 8


def _png_chunks(png: bytes) -> list[bytes]:
    chunks, at = [], 8
    while at < len(png):
        (length,) = struct.unpack(">I", png[at:at + 4])
        chunks.append(png[at:at + 12 + length])
        at += 12 + length
    return chunks


def png_with_hidden_chunks(digit_png: bytes) -> bytes:
    """A private chunk (prVt) naming a person, a tIME chunk, then bytes after IEND: none of which Pillow reports."""
    ihdr, *rest = _png_chunks(digit_png)
    hidden = _chunk(b"prVt", HIDDEN) + _chunk(b"tIME", struct.pack(">HBBBBB", 2026, 12, 7, 5, 0, 0))
    return digit_png[:8] + ihdr + hidden + b"".join(rest) + TRAILER


def jpeg_with_app11_and_trailer(digit_png: bytes) -> bytes:
    """A baseline JPEG with an APP11 segment (where C2PA provenance lives) and a COM between its tables,
    then bytes after EOI."""
    plain = encode(Image.open(io.BytesIO(digit_png)).convert("L"), "JPEG", quality=90)
    app11 = b"\xff\xeb" + struct.pack(">H", 2 + 4 + len(HIDDEN)) + b"JP\x00\x01" + HIDDEN
    comment = b"\xff\xfe" + struct.pack(">H", 2 + len(HIDDEN)) + HIDDEN
    at = plain.index(b"\xff\xdb")  # before the first quantisation table
    return plain[:at] + app11 + comment + plain[at:] + TRAILER


def webp_with_hidden_chunks(digit_png: bytes) -> bytes:
    """A lossless WebP carrying XMP and EXIF chunks with a name, then bytes after its RIFF container."""
    exif = Image.Exif()
    exif[0x013B] = HIDDEN.decode()  # Artist
    picture = Image.open(io.BytesIO(digit_png)).convert("RGB")
    return encode(picture, "WEBP", lossless=True, exif=exif, xmp=b"<x:xmpmeta>" + HIDDEN + b"</x:xmpmeta>") + TRAILER


def gif_with_comment_and_trailer(digit_png: bytes) -> bytes:
    """A GIF with a comment extension naming a person, then bytes after its trailer (0x3B)."""
    picture = Image.open(io.BytesIO(digit_png)).convert("L")
    return encode(picture, "GIF", comment=HIDDEN) + TRAILER


def tiff_with_tags_and_trailer(digit_png: bytes) -> bytes:
    """A TIFF whose Artist and ImageDescription tags name a person, then bytes after its last IFD's data."""
    picture = Image.open(io.BytesIO(digit_png)).convert("L")
    tags = {0x013B: HIDDEN.decode(), 0x010E: HIDDEN.decode()}
    return encode(picture, "TIFF", tiffinfo=tags) + TRAILER
