"""Decode images in bounded memory.

A few kilobytes can declare 9,400 x 9,400 pixels, and decoding that and
converting it naively took a web process from 110 MB to 1.9 GB. So every image is
measured from its header before anything decodes it (``header_size``) and refused
over ``pixel_limit()``; a JPEG is then checked at 1/8 scale (libjpeg still reads
every byte of it); a WebP, whose decoder needs about 15 bytes per pixel, is
converted to JPEG only up to MEDIA_MAX_CONVERT_PIXELS, once, without extra copies;
and at most MEDIA_IMAGE_DECODE_SLOTS images are decoded at once per process.
"""

from __future__ import annotations

import io
import math
import struct
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from django.conf import settings
from PIL import Image

from media_library.upload_rules import (
    MB,
    MediaRejected,
    busy,
    convert_pixel_limit,
    pixel_limit,
    too_many_pixels,
    too_many_to_convert,
)

PIL_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
# Start-of-frame markers (the ones that carry the size): C0-CF but DHT, JPG, DAC.
JPEG_FRAMES = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD9)})  # TEM, RSTn, SOI: no length
JPEG_MAX_JUNK = 64 * 1024  # stray bytes between segments tolerated, like Pillow
READ_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error)


def header_size(
    fileobj: IO[bytes], content_type: str, safe_name: str
) -> tuple[int, int]:
    """(width, height) read from the header alone, within the pixel limit.

    Raises MediaRejected: corrupt when the header gives no size, too_large when
    the image has more pixels than ``pixel_limit()``.
    """
    fileobj.seek(0)
    if content_type == "image/png":
        size = _png_size(fileobj.read(24))
    elif content_type == "image/webp":
        size = _webp_size(fileobj.read(30))
    else:
        size = _jpeg_size(fileobj)
    fileobj.seek(0)
    if size is None or 0 in size:
        raise MediaRejected(
            f"{safe_name} is damaged: its header does not say how large the image "
            "is. Export it again.",
            code="corrupt",
        )
    width, height = size
    if width * height > pixel_limit():
        raise too_many_pixels(safe_name, width, height)
    return width, height


def _png_size(head: bytes) -> tuple[int, int] | None:
    if len(head) < 24 or head[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def _webp_size(head: bytes) -> tuple[int, int] | None:
    """The canvas size from the first chunk: lossy, lossless or extended."""
    if len(head) < 30:
        return None
    chunk = head[12:16]
    if chunk == b"VP8 " and head[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", head[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and head[20] == 0x2F:
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        width = int.from_bytes(head[24:27], "little") + 1
        return width, int.from_bytes(head[27:30], "little") + 1
    return None


def _jpeg_size(fileobj: IO[bytes]) -> tuple[int, int] | None:
    """Walk the segments after SOI to the first frame header (skipping EXIF and
    the other application segments, which may be up to 64 KB each)."""
    fileobj.seek(2)
    junk = 0
    while junk <= JPEG_MAX_JUNK:
        byte = fileobj.read(1)
        if not byte:
            return None
        if byte != b"\xff":
            junk += 1
            continue
        marker = fileobj.read(1)
        while marker == b"\xff":  # fill bytes
            marker = fileobj.read(1)
        if not marker or marker[0] in (0xD9, 0xDA):  # end, or a scan before a frame
            return None
        if marker[0] in JPEG_STANDALONE:
            continue
        length = fileobj.read(2)
        if len(length) < 2 or int.from_bytes(length, "big") < 2:
            return None
        if marker[0] in JPEG_FRAMES:
            frame = fileobj.read(5)  # precision, height, width
            if len(frame) < 5:
                return None
            height, width = struct.unpack(">HH", frame[1:5])
            return width, height
        fileobj.seek(int.from_bytes(length, "big") - 2, io.SEEK_CUR)
    return None


class _DecodeSlots:
    """A semaphore per process, remade when the setting changes (tests do).

    Memory is per process, so the bound is too (not the Django cache): two
    gunicorn threads converting at once is what one process may hold.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._size = 0
        self._semaphore = threading.BoundedSemaphore(1)

    def semaphore(self) -> threading.BoundedSemaphore:
        size = int(settings.MEDIA_IMAGE_DECODE_SLOTS)
        with self._lock:
            if size != self._size:
                self._size, self._semaphore = size, threading.BoundedSemaphore(size)
            return self._semaphore


_SLOTS = _DecodeSlots()


@contextmanager
def decode_slot(safe_name: str) -> Iterator[None]:
    """Hold one of this process's image decode slots.

    Waits up to MEDIA_IMAGE_DECODE_WAIT_SECONDS for one; raises MediaRejected
    (busy) when none came free, rather than queueing without bound.
    """
    semaphore = _SLOTS.semaphore()
    if not semaphore.acquire(timeout=float(settings.MEDIA_IMAGE_DECODE_WAIT_SECONDS)):
        raise busy(safe_name)
    try:
        yield
    finally:
        semaphore.release()


@contextmanager
def _reading(safe_name: str) -> Iterator[None]:
    """Turn Pillow's complaints into a refusal the marketer can act on."""
    try:
        yield
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise MediaRejected(
            f"{safe_name} has too many pixels to open safely; resize it and upload "
            "it again.",
            code="too_large",
        ) from None
    except READ_ERRORS as exc:
        raise MediaRejected(
            f"{safe_name} is damaged or incomplete ({exc}): export it again.",
            code="corrupt",
        ) from exc


def check_decodes(
    fileobj: IO[bytes], content_type: str, safe_name: str
) -> tuple[int, int]:
    """Return (width, height) once every byte of a JPEG or PNG has decoded.

    Raises MediaRejected: too_large (from the header, before any decoding),
    corrupt (Pillow cannot verify or decode it, truncated files included), busy.
    """
    width, height = header_size(fileobj, content_type, safe_name)
    formats = [PIL_FORMATS[content_type]]
    with decode_slot(safe_name), _reading(safe_name):
        with Image.open(fileobj, formats=formats) as probe:
            probe.verify()  # PNG: every chunk's CRC, to the end
        fileobj.seek(0)
        with Image.open(fileobj, formats=formats) as image:
            # libjpeg decodes every scan at 1/8 scale: 1/64 of the memory, and
            # a truncated or damaged file fails all the same.
            image.draft(image.mode, (math.ceil(width / 8), math.ceil(height / 8)))
            image.load()
    fileobj.seek(0)
    return width, height


def webp_to_jpeg(
    fileobj: IO[bytes], safe_name: str
) -> tuple[IO[bytes], tuple[int, int]]:
    """Convert a WebP to a JPEG flattened onto white (transparency would turn
    black), decoding it once; returns a rewound spooled temporary file and the
    (width, height) of both.

    Raises MediaRejected: too_large (pixels over either limit, from the header),
    corrupt, busy.
    """
    width, height = header_size(fileobj, "image/webp", safe_name)
    if width * height > convert_pixel_limit():
        raise too_many_to_convert(safe_name, width, height)
    out = tempfile.SpooledTemporaryFile(max_size=8 * MB)  # noqa: SIM115 (returned)
    try:
        with (
            decode_slot(safe_name),
            _reading(safe_name),
            Image.open(fileobj, formats=["WEBP"]) as image,
        ):
            image.load()
            _flattened(image).save(out, "JPEG", quality=90)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out, (width, height)


def _flattened(image: Image.Image) -> Image.Image:
    """RGB as it is, or RGBA pasted onto white through its own alpha: one new
    image of 3 bytes per pixel, no intermediate copies."""
    if image.mode == "RGB":
        return image
    if image.mode != "RGBA":
        image = image.convert("RGBA")
    flat = Image.new("RGB", image.size, "white")
    flat.paste(image, mask=image)
    return flat
