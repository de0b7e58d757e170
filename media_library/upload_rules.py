"""What an upload may be: the allowed types and their extensions, the size limit
of each kind (WhatsApp's, read from settings at call time, capped by Gupshup's),
and ``MediaRejected``, whose message says what was wrong and what is allowed.

The checks that apply these rules are in ``validation.py``.
"""

from __future__ import annotations

from django.conf import settings
from PIL import Image

from media_library.sniffing import OPENXML

MB = 1024 * 1024

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
# What a file is, in words, for refusals ("This file is a GIF image …").
LABELS = {
    "image/jpeg": "a JPEG image",
    "image/png": "a PNG image",
    "image/webp": "a WebP image",
    "video/mp4": "an MP4 video",
    "video/3gpp": "a 3GPP video",
    "audio/aac": "an AAC audio file",
    "audio/mp4": "an M4A audio file",
    "audio/mpeg": "an MP3 audio file",
    "audio/amr": "an AMR audio file",
    "audio/ogg": "an Ogg audio file",
    "audio/opus": "an Opus audio file",
    "application/pdf": "a PDF document",
    "application/msword": "a Word document",
    "application/vnd.ms-excel": "an Excel spreadsheet",
    "application/vnd.ms-powerpoint": "a PowerPoint presentation",
    OPENXML + "wordprocessingml.document": "a Word document",
    OPENXML + "spreadsheetml.sheet": "an Excel spreadsheet",
    OPENXML + "presentationml.presentation": "a PowerPoint presentation",
    "text/plain": "plain text",
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


class MediaRejected(Exception):
    """An upload that cannot be used.

    ``message`` says what was wrong and what is allowed; it is shown to the marketer
    verbatim. ``code`` is one of: empty, too_large, type_not_allowed, sticker_format,
    corrupt, bad_name, bad_url (a public URL that is not https), not_an_image (an
    allowed file dropped where only images go), and busy (nothing is wrong with
    the file: every image decode slot of this process stayed taken; the same
    upload may succeed a moment later).
    """

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def setting_bytes(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def kind_limit(kind: str) -> tuple[int, str, str]:
    """(bytes, who limits, advice) for a kind; Gupshup's ceiling caps them all."""
    setting, default, who = LIMITS[kind]
    limit = setting_bytes(setting, default)
    provider = setting_bytes("MEDIA_MAX_PROVIDER_BYTES", 100 * MB)
    if provider < limit:
        return provider, "files sent through Gupshup", ADVICE[kind]
    return limit, who, ADVICE[kind]


def _unit(n: int) -> tuple[str, int]:
    for unit, scale in (("MB", MB), ("KB", 1024)):
        if n >= scale // 10:
            return unit, scale
    return "bytes", 1


def _number(value: float, decimals: int) -> str:
    text = f"{value:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def size_text(n: int) -> str:
    unit, scale = _unit(n)
    return f"{_number(n / scale, 1)} {unit}" if scale > 1 else f"{n} bytes"


def over_limit_texts(size: int, limit: int) -> tuple[str, str]:
    """(size, limit) in words, so that a size over the limit reads as over it:
    "5.3 MB" / "5 MB", one decimal more when that hides it ("5.02 MB"), else exact
    bytes ("5,242,881 bytes" / "5,242,880 bytes (5 MB)")."""
    unit, scale = _unit(limit)
    for decimals in (1, 2):
        shown, cap = round(size / scale, decimals), round(limit / scale, decimals)
        if scale > 1 and shown > cap:
            return (
                f"{_number(shown, decimals)} {unit}",
                f"{_number(cap, decimals)} {unit}",
            )
    exact = f"{limit:,} bytes"
    return f"{size:,} bytes", exact if scale == 1 else f"{exact} ({size_text(limit)})"


def _allowed_summary() -> str:
    image, video, audio, doc = (size_text(kind_limit(k)[0]) for k in LIMITS)
    return (
        f"Upload JPEG or PNG images (≤ {image}), MP4/3GPP video (≤ {video}), "
        f"audio (≤ {audio}) or documents (≤ {doc})."
    )


def type_rejected(detected: str | None, safe_name: str) -> MediaRejected:
    if detected is None:
        what = (
            f"The type of {safe_name} could not be recognised from its content "
            "(SVG, HTML and other formats are not accepted)."
        )
    else:
        label = LABELS.get(detected, "a file")
        what = f"This file is {label} ({detected}), which WhatsApp cannot send."
    return MediaRejected(f"{what} {_allowed_summary()}", code="type_not_allowed")


# The page's box for what is not an image (templates/media_library/library.html).
OTHER_BOX = "Drop video, audio or documents here"


def not_an_image(detected: str, safe_name: str) -> MediaRejected:
    """For an allowed file of another kind dropped on the box that takes images."""
    return MediaRejected(
        f"{safe_name} is {LABELS[detected]} ({detected}), not an image. This box "
        "takes JPEG and PNG images (WebP is converted to JPEG); drop video, audio "
        f"and documents on “{OTHER_BOX}” beside it.",
        code="not_an_image",
    )


def too_large(safe_name: str, size: int, kind: str) -> MediaRejected:
    limit, who, advice = kind_limit(kind)
    said_size, said_limit = over_limit_texts(size, limit)
    return MediaRejected(
        f"{safe_name} is {said_size}; {who} may be at most {said_limit}. {advice}",
        code="too_large",
    )


def pixel_limit() -> int:
    """The most pixels an image may have: MEDIA_MAX_IMAGE_PIXELS, or Pillow's own
    limit if something set that lower."""
    limit = int(getattr(settings, "MEDIA_MAX_IMAGE_PIXELS", 52_000_000))
    return min(limit, Image.MAX_IMAGE_PIXELS or limit)


def convert_pixel_limit() -> int:
    """The most pixels a WebP may have to be converted to JPEG."""
    return int(getattr(settings, "MEDIA_MAX_CONVERT_PIXELS", 4096 * 4096))


def megapixels(pixels: int) -> str:
    return f"{pixels / 1_000_000:.3g} megapixels"


def too_many_pixels(safe_name: str, width: int, height: int) -> MediaRejected:
    return MediaRejected(
        f"{safe_name} has too many pixels to open safely: {width:,} × {height:,} "
        f"({megapixels(width * height)}); images may have at most "
        f"{megapixels(pixel_limit())}. Resize it (WhatsApp shows images much "
        "smaller than that anyway) and upload it again.",
        code="too_large",
    )


def too_many_to_convert(safe_name: str, width: int, height: int) -> MediaRejected:
    return MediaRejected(
        f"{safe_name} is {width:,} × {height:,} ({megapixels(width * height)}); "
        "WebP images are converted to JPEG here up to "
        f"{megapixels(convert_pixel_limit())} "
        "(converting one takes about 15 bytes of memory per pixel). Resize it, or "
        "save it as JPEG or PNG, and upload it again.",
        code="too_large",
    )


def busy(safe_name: str) -> MediaRejected:
    return MediaRejected(
        "The server is busy converting other images; try again in a moment "
        f"({safe_name} was not stored).",
        code="busy",
    )
