"""Check an uploaded file before anything is stored or sent to a provider.

The type comes from the bytes, never from the browser's claim; limits are WhatsApp's
(API-NOTES "Limits" → Media) read from settings at call time, so tests and deploys
can tighten them. Every refusal is a ``MediaRejected`` whose message is shown to the
marketer verbatim.
"""

from __future__ import annotations

import codecs
import dataclasses
import hashlib
import io
import os
import re
import struct
import tempfile
import unicodedata
import zipfile
from typing import IO

from django.conf import settings
from PIL import Image

from media_library.sniffing import OPENXML, office_type, sniff_content_type

__all__ = [
    "CheckedMedia", "MediaRejected", "check_upload", "safe_filename",
    "sniff_content_type",
]  # fmt: skip

MB = 1024 * 1024
CHUNK = 1 * MB  # reads never exceed this, whatever the file size
HEAD = 4096  # enough to sniff and to tell markup from plain text
MAX_NAME = 120

# Gupshup's MIME list (api/gupshup-media-id-from-url.txt): type → (kind, extension).
ALLOWED: dict[str, tuple[str, str]] = {
    "image/jpeg": ("image", ".jpg"),
    "image/png": ("image", ".png"),
    "image/webp": ("sticker", ".webp"),
    "video/mp4": ("video", ".mp4"),
    "video/3gpp": ("video", ".3gp"),
    "audio/aac": ("audio", ".aac"),
    "audio/mp4": ("audio", ".m4a"),
    "audio/mpeg": ("audio", ".mp3"),
    "audio/amr": ("audio", ".amr"),
    "audio/ogg": ("audio", ".ogg"),
    "audio/opus": ("audio", ".opus"),
    "application/pdf": ("document", ".pdf"),
    "application/msword": ("document", ".doc"),
    "application/vnd.ms-excel": ("document", ".xls"),
    "application/vnd.ms-powerpoint": ("document", ".ppt"),
    OPENXML + "wordprocessingml.document": ("document", ".docx"),
    OPENXML + "spreadsheetml.sheet": ("document", ".xlsx"),
    OPENXML + "presentationml.presentation": ("document", ".pptx"),
    "text/plain": ("document", ".txt"),
}
# Other extensions that already fit a type, so the marketer's name is kept.
ALSO_FITS: dict[str, set[str]] = {
    "image/jpeg": {".jpeg", ".jpe", ".jfif"},
    "video/3gpp": {".3gpp"},
    "audio/ogg": {".oga", ".opus"},
    "audio/mp4": {".mp4", ".m4b"},
    "application/msword": {".dot"},
    "application/vnd.ms-excel": {".xlt"},
    "application/vnd.ms-powerpoint": {".pps", ".pot"},
    "text/plain": {".csv", ".log", ".text"},
}
# Extensions replaced (not kept before the new one) when they lie about the content.
MEDIA_EXTENSIONS = {ext for _, ext in ALLOWED.values()}.union(
    *ALSO_FITS.values(),
    {".gif", ".svg", ".html", ".htm", ".bmp", ".tif", ".tiff", ".heic", ".mov"},
    {".avi", ".wav", ".zip", ".avif"},
)
OLE_TYPES = [
    f"application/{t}" for t in ("msword", "vnd.ms-excel", "vnd.ms-powerpoint")
]
LABELS = {
    "image/gif": "a GIF image",
    "image/tiff": "a TIFF image",
    "image/heic": "a HEIC photo (iPhone format)",
    "image/avif": "an AVIF image",
    "video/quicktime": "a QuickTime (.mov) video",
    "video/x-msvideo": "an AVI video",
    "audio/wav": "a WAV audio file",
    "application/zip": "a ZIP archive",
    "application/x-ole-storage": "an OLE file that is not a .doc, .xls or .ppt",
    "application/octet-stream": "binary data, not UTF-8 text",
}
# kind → (setting, default, who limits); advice on what to do instead
LIMITS = {
    "image": ("MEDIA_MAX_IMAGE_BYTES", 5 * MB, "WhatsApp images"),
    "video": ("MEDIA_MAX_VIDEO_BYTES", 16 * MB, "WhatsApp videos"),
    "audio": ("MEDIA_MAX_AUDIO_BYTES", 16 * MB, "WhatsApp audio files"),
    "document": ("MEDIA_MAX_DOCUMENT_BYTES", 100 * MB, "WhatsApp documents"),
}
ADVICE = {
    "image": "Compress it or save it as JPEG.",
    "video": "Shorten or compress it.",
    "audio": "Shorten or compress it.",
    "document": "Split or compress it.",
}
PIL_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
WEBP_NOTE = "image/webp is a sticker format on WhatsApp; it was converted to JPEG."


class MediaRejected(Exception):
    """An upload that cannot be used.

    ``message`` says what was wrong and what is allowed; it is shown to the marketer
    verbatim. ``code`` is one of: empty, too_large, type_not_allowed, sticker_format,
    corrupt, bad_name.
    """

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


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


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def _limit(kind: str) -> tuple[int, str, str]:
    """(bytes, who limits, advice) for a kind; Gupshup's ceiling caps them all."""
    setting, default, who = LIMITS[kind]
    limit = _setting(setting, default)
    provider = _setting("MEDIA_MAX_PROVIDER_BYTES", 100 * MB)
    if provider < limit:
        return provider, "files sent through Gupshup", ADVICE[kind]
    return limit, who, ADVICE[kind]


def _size(n: int) -> str:
    for unit, scale in (("MB", MB), ("KB", 1024)):
        if n >= scale // 10:
            text = f"{n / scale:.1f}"
            return f"{text.removesuffix('.0')} {unit}"
    return f"{n} bytes"


def _allowed_summary() -> str:
    image, video, audio, doc = (_size(_limit(k)[0]) for k in LIMITS)
    return (
        f"Upload JPEG or PNG images (≤ {image}), MP4/3GPP video (≤ {video}), "
        f"audio (≤ {audio}) or documents (≤ {doc})."
    )


def _type_rejected(detected: str | None, safe_name: str) -> MediaRejected:
    if detected is None:
        what = (
            f"The type of {safe_name} could not be recognised from its content "
            "(SVG, HTML and other formats are not accepted)."
        )
    else:
        label = LABELS.get(detected, "a file")
        what = f"This file is {label} ({detected}), which WhatsApp cannot send."
    return MediaRejected(f"{what} {_allowed_summary()}", code="type_not_allowed")


def _too_large(safe_name: str, size: int, kind: str) -> MediaRejected:
    limit, who, advice = _limit(kind)
    return MediaRejected(
        f"{safe_name} is {_size(size)}; {who} may be at most {_size(limit)}. {advice}",
        code="too_large",
    )


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


def _open_image(fileobj: IO[bytes], content_type: str, safe_name: str) -> Image.Image:
    """Return the fully decoded image.

    Raises MediaRejected: corrupt when Pillow cannot verify or decode every byte
    (truncated files included), too_large when it has more than
    ``Image.MAX_IMAGE_PIXELS`` pixels (a decompression bomb).
    """
    formats = [PIL_FORMATS[content_type]]
    try:
        fileobj.seek(0)
        with Image.open(fileobj, formats=formats) as probe:
            probe.verify()
        fileobj.seek(0)
        image = Image.open(fileobj, formats=formats)
        limit = Image.MAX_IMAGE_PIXELS
        if limit and image.width * image.height > limit:
            raise Image.DecompressionBombError(f"{image.width} × {image.height}")
        image.load()
    except Image.DecompressionBombError:
        raise MediaRejected(
            f"{safe_name} has too many pixels to open safely (more than "
            f"{Image.MAX_IMAGE_PIXELS} pixels); resize it and upload it again.",
            code="too_large",
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as exc:
        raise MediaRejected(
            f"{safe_name} is damaged or incomplete ({exc}): export it again.",
            code="corrupt",
        ) from exc
    return image


def _to_jpeg(image: Image.Image) -> IO[bytes]:
    """Flatten onto white (transparency would turn black) and encode as JPEG."""
    rgba = image.convert("RGBA")
    flat = Image.new("RGB", image.size, "white")
    flat.paste(rgba, mask=rgba.getchannel("A"))
    out = tempfile.SpooledTemporaryFile(max_size=8 * MB)  # noqa: SIM115 (returned)
    flat.save(out, "JPEG", quality=90)
    out.seek(0)
    return out


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
        raise _type_rejected(detected, safe_name)
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
) -> tuple[CheckedMedia, IO[bytes]]:
    """Check an upload and return what it is plus the stream to store, rewound.

    The stream is read in chunks of at most 1 MB. The returned stream is
    ``fileobj`` itself unless a WebP was converted to JPEG (then a spooled temporary
    file). Raises MediaRejected with code bad_name, empty, type_not_allowed,
    sticker_format, too_large or corrupt.
    """
    safe_name = safe_filename(name)
    detected = _detect(fileobj, safe_name, claimed_type)
    if convert_webp is None:
        convert_webp = bool(getattr(settings, "MEDIA_CONVERT_WEBP", True))
    if detected == "image/webp" and not convert_webp:
        raise MediaRejected(
            f"image/webp is a sticker format on WhatsApp; upload JPEG or PNG "
            f"≤ {_size(_limit('image')[0])}.",
            code="sticker_format",
        )
    note = _claim_note(claimed_type, detected)
    if detected == "image/webp":
        return _converted(fileobj, safe_name, note)
    media = _checked(fileobj, detected, _with_extension(safe_name, detected), note)
    fileobj.seek(0)
    return media, fileobj


def _checked(
    fileobj: IO[bytes], detected: str, safe_name: str, note: str
) -> CheckedMedia:
    """Measure, hash and (for images) decode. Raises MediaRejected."""
    kind = ALLOWED[detected][0]
    limit = _limit(kind)[0]
    try:
        sha, size = _measure(fileobj, limit=limit, text=detected == "text/plain")
    except UnicodeDecodeError:
        raise _type_rejected("application/octet-stream", safe_name) from None
    if size > limit:
        raise _too_large(safe_name, size, kind)
    width = height = None
    if kind == "image":
        with _open_image(fileobj, detected, safe_name) as image:
            width, height = image.size
    return CheckedMedia(detected, kind, size, sha, width, height, safe_name, note=note)


def _converted(
    fileobj: IO[bytes], safe_name: str, note: str
) -> tuple[CheckedMedia, IO[bytes]]:
    """Convert a WebP to JPEG. Raises MediaRejected (too_large, corrupt)."""
    ceiling = _setting("MEDIA_MAX_PROVIDER_BYTES", 100 * MB)
    if _measure(fileobj, limit=ceiling, text=False)[1] > ceiling:
        raise _too_large(safe_name, fileobj.tell(), "document")
    with _open_image(fileobj, "image/webp", safe_name) as image:
        out = _to_jpeg(image)
    jpeg_name = _with_extension(safe_name, "image/jpeg")
    try:
        note = " ".join(filter(None, [note, WEBP_NOTE]))
        media = _checked(out, "image/jpeg", jpeg_name, note)
    except MediaRejected:
        out.close()
        raise
    out.seek(0)
    return dataclasses.replace(media, converted_from="image/webp"), out
