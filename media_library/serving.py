"""Stored media bytes go out as what they are, never as something a browser runs.

The type is sniffed from the stored bytes again at serving time (not taken from
the row or the name): JPEG and PNG are shown inline with that type; anything
else, HTML or SVG included, if it could ever be stored, is a download of
`application/octet-stream`. Every answer carries `nosniff` and a sandboxing CSP,
so even a browser that guessed would run nothing.
"""

from __future__ import annotations

from django.http import FileResponse

from media_library.models import MediaFile
from media_library.sniffing import sniff_content_type

SAFE_INLINE_TYPES = frozenset({"image/jpeg", "image/png"})
DOWNLOAD_TYPE = "application/octet-stream"
SANDBOX_POLICY = "sandbox; default-src 'none'"
_HEAD_BYTES = 64


def media_file_response(*, media: MediaFile) -> FileResponse:
    """The stored bytes of `media`, safely typed. Raises OSError if unreadable."""
    fh = media.file.open("rb")
    head = fh.read(_HEAD_BYTES)
    fh.seek(0)
    sniffed = sniff_content_type(head)
    inline = sniffed in SAFE_INLINE_TYPES
    response = FileResponse(
        fh,
        content_type=sniffed if inline and sniffed else DOWNLOAD_TYPE,
        as_attachment=not inline,
        filename=media.original_name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = SANDBOX_POLICY
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["Cache-Control"] = "private, max-age=3600"
    return response
