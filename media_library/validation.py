"""Check an uploaded file before anything is stored or sent to a provider.

The type comes from the bytes, never from the browser's claim; limits are WhatsApp's
(API-NOTES "Limits" → Media) read from settings at call time, so tests and deploys
can tighten them. Every refusal is a ``MediaRejected`` whose message is shown to the
marketer verbatim. The types, limits and refusals are in ``upload_rules.py``.
"""

from __future__ import annotations

import codecs
import dataclasses
import hashlib
import io
import os
import re
import unicodedata
import zipfile
from typing import IO

from django.conf import settings

from media_library.images import check_decodes, webp_to_jpeg
from media_library.sniffing import office_type, sniff_content_type
from media_library.upload_rules import (
    ALLOWED,
    ALSO_FITS,
    MB,
    MEDIA_EXTENSIONS,
    OLE_TYPES,
    MediaRejected,
    kind_limit,
    not_an_image,
    setting_bytes,
    size_text,
    too_large,
    type_rejected,
)

__all__ = ["CheckedMedia", "check_upload", "safe_filename", "sniff_content_type"]

CHUNK = 1 * MB  # reads never exceed this, whatever the file size
HEAD = 4096  # enough to sniff and to tell markup from plain text
MAX_NAME = 120
WEBP_NOTE = "image/webp is a sticker format on WhatsApp; it was converted to JPEG."


@dataclasses.dataclass(frozen=True)
class CheckedMedia:
    content_type: str  # detected from the bytes, never the browser's claim
    kind: str  # "image" | "video" | "audio" | "document" | "sticker"
    size: int
    sha256: str
    width: int | None  # images only
    height: int | None
    safe_name: str
    converted_from: str = ""  # e.g. "image/webp" when a webp became a JPEG
    note: str = ""  # a sentence for the marketer when something was changed


def safe_filename(name: str) -> str:
    """Return ``name`` fit to store and show: no directory, no control characters.

    Unicode letters are kept (NFC), ``..`` runs become one dot, leading dots and
    spaces go, and the result is at most 120 characters with its extension kept.
    Raises MediaRejected(code="bad_name") when nothing usable is left, or the name
    contains a NUL character.
    """
    if "\x00" in name:
        raise MediaRejected(
            "The file name contains a NUL character; rename the file "
            "(for example spring.png) and upload it again.",
            code="bad_name",
        )
    base = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    base = re.sub(r"^[A-Za-z]:", "", base)  # "C:photo.png" drive-relative paths
    base = "".join(
        ch for ch in base if unicodedata.category(ch)[0] != "C" or ch in "\u200c\u200d"
    )
    base = re.sub(r'[<>:"|?*]', "_", base)
    base = re.sub(r"\s+", " ", re.sub(r"\.{2,}", ".", base)).strip(". ")
    if not base:
        raise MediaRejected(
            f"The file name {name!r} cannot be used; rename the file "
            "(for example spring.png) and upload it again.",
            code="bad_name",
        )
    stem, ext = os.path.splitext(base)
    return _fit(stem, ext) if len(ext) <= 16 else _fit(base, "")


def _fit(stem: str, ext: str) -> str:
    stem = stem[: MAX_NAME - len(ext)].rstrip(". ") or "file"
    return stem + ext


def _with_extension(safe_name: str, content_type: str) -> str:
    stem, ext = os.path.splitext(safe_name)
    wanted = ALLOWED[content_type][1]
    if ext.lower() == wanted or ext.lower() in ALSO_FITS.get(content_type, ()):
        return safe_name
    if ext.lower() not in MEDIA_EXTENSIONS:  # "report.v2" → "report.v2.pdf"
        stem = safe_name
    return _fit(stem, wanted)


def _measure(fileobj: IO[bytes], *, limit: int, text: bool) -> tuple[str, int]:
    """Return (sha256, size) from one chunked pass, starting at offset 0.

    Past ``limit`` it stops hashing and returns sha256 "" with the size taken from
    the end offset. Raises UnicodeDecodeError when ``text`` and the bytes are not
    UTF-8 without NUL characters.
    """
    sha, size = hashlib.sha256(), 0
    decoder = codecs.getincrementaldecoder("utf-8")()
    fileobj.seek(0)
    while chunk := fileobj.read(CHUNK):
        size += len(chunk)
        if size > limit:
            return "", fileobj.seek(0, io.SEEK_END)
        sha.update(chunk)
        if text:
            decoder.decode(chunk)
            if b"\x00" in chunk:
                raise UnicodeDecodeError("utf-8", chunk, 0, 1, "NUL character")
    if text:
        decoder.decode(b"", final=True)
    return sha.hexdigest(), size


def _detect(fileobj: IO[bytes], safe_name: str, claimed: str) -> str:
    """Return the allowed type of the content.

    Raises MediaRejected: empty, or type_not_allowed for anything not on the list.
    """
    fileobj.seek(0)
    head = fileobj.read(HEAD)
    if not head:
        raise MediaRejected(
            "The file is empty (0 bytes). Choose the image again; it may not have "
            "finished downloading.",
            code="empty",
        )
    detected = sniff_content_type(head)
    if detected == "application/zip" and len(head) == HEAD:
        detected = _stream_zip_type(fileobj)
    if detected == "application/msword":  # OLE: Word, Excel or PowerPoint
        ext = os.path.splitext(safe_name)[1].lower()
        fits = [t for t in OLE_TYPES if claimed == t or ext == ALLOWED[t][1]]
        fits += [t for t in OLE_TYPES if ext in ALSO_FITS.get(t, ())]
        detected = fits[0] if fits else "application/x-ole-storage"
    if detected not in ALLOWED:
        raise type_rejected(detected, safe_name)
    return detected


def _stream_zip_type(fileobj: IO[bytes]) -> str:
    fileobj.seek(0)
    try:
        with zipfile.ZipFile(fileobj) as archive:  # reads only the directory
            return office_type(archive.namelist())
    except zipfile.BadZipFile:
        return "application/zip"


def _claim_note(claimed: str, detected: str) -> str:
    claimed = claimed.split(";")[0].strip().lower()
    if not claimed or claimed == "application/octet-stream":
        return ""
    kind = ALLOWED[detected][0]
    top = {"image": "image", "sticker": "image", "video": "video", "audio": "audio"}
    claimed_kind = top.get(claimed.split("/")[0], "document")
    if claimed_kind == ("image" if kind == "sticker" else kind):
        return ""
    return (
        f"The browser called this {claimed}; its content is {detected}, "
        "which is what is stored."
    )


def check_upload(
    fileobj: IO[bytes],
    *,
    name: str,
    claimed_type: str = "",
    convert_webp: bool | None = None,
    images_only: bool = False,
) -> tuple[CheckedMedia, IO[bytes]]:
    """Check an upload and return what it is plus the stream to store, rewound.

    The stream is read in chunks of at most 1 MB. The returned stream is
    ``fileobj`` itself unless a WebP was converted to JPEG (then a spooled temporary
    file). ``images_only``: it came through the box that takes images. Raises
    MediaRejected with code bad_name, empty, type_not_allowed, not_an_image,
    sticker_format, too_large, corrupt or busy.
    """
    safe_name = safe_filename(name)
    detected = _detect(fileobj, safe_name, claimed_type)
    if images_only and ALLOWED[detected][0] not in ("image", "sticker"):
        raise not_an_image(detected, safe_name)
    if convert_webp is None:
        convert_webp = bool(getattr(settings, "MEDIA_CONVERT_WEBP", True))
    if detected == "image/webp" and not convert_webp:
        raise MediaRejected(
            f"image/webp is a sticker format on WhatsApp; upload JPEG or PNG "
            f"≤ {size_text(kind_limit('image')[0])}.",
            code="sticker_format",
        )
    note = _claim_note(claimed_type, detected)
    if detected == "image/webp":
        return _converted(fileobj, safe_name, note)
    media = _checked(fileobj, detected, _with_extension(safe_name, detected), note)
    fileobj.seek(0)
    return media, fileobj


def _measured(fileobj: IO[bytes], detected: str, safe_name: str) -> tuple[str, int]:
    """(sha256, size) within the kind's limit. Raises MediaRejected."""
    kind = ALLOWED[detected][0]
    limit = kind_limit(kind)[0]
    try:
        sha, size = _measure(fileobj, limit=limit, text=detected == "text/plain")
    except UnicodeDecodeError:
        raise type_rejected("application/octet-stream", safe_name) from None
    if size > limit:
        raise too_large(safe_name, size, kind)
    return sha, size


def _checked(
    fileobj: IO[bytes], detected: str, safe_name: str, note: str
) -> CheckedMedia:
    """Measure, hash and (for images) decode in bounded memory. Raises
    MediaRejected."""
    kind = ALLOWED[detected][0]
    sha, size = _measured(fileobj, detected, safe_name)
    width = height = None
    if kind == "image":
        width, height = check_decodes(fileobj, detected, safe_name)
    return CheckedMedia(detected, kind, size, sha, width, height, safe_name, note=note)


def _converted(
    fileobj: IO[bytes], safe_name: str, note: str
) -> tuple[CheckedMedia, IO[bytes]]:
    """Convert a WebP to JPEG. Raises MediaRejected (too_large, corrupt, busy)."""
    ceiling = setting_bytes("MEDIA_MAX_PROVIDER_BYTES", 100 * MB)
    if _measure(fileobj, limit=ceiling, text=False)[1] > ceiling:
        raise too_large(safe_name, fileobj.tell(), "document")
    out, (width, height) = webp_to_jpeg(fileobj, safe_name)
    jpeg_name = _with_extension(safe_name, "image/jpeg")
    try:
        sha, size = _measured(out, "image/jpeg", jpeg_name)
    except MediaRejected:
        out.close()
        raise
    out.seek(0)
    note = " ".join(filter(None, [note, WEBP_NOTE]))
    media = CheckedMedia(
        "image/jpeg", "image", size, sha, width, height, jpeg_name, "image/webp", note
    )
    return media, out
