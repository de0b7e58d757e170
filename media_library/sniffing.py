"""Tell a file's type from its leading bytes (never from its name or the browser)."""

from __future__ import annotations

import codecs
import io
import re
import zipfile

OPENXML = "application/vnd.openxmlformats-officedocument."
FTYP_BRANDS = {
    b"M4A ": "audio/mp4",
    b"M4B ": "audio/mp4",
    b"qt  ": "video/quicktime",
    b"heic": "image/heic",
    b"heix": "image/heic",
    b"mif1": "image/heic",
    b"avif": "image/avif",
}
MAGIC = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"OggS", "audio/ogg"),
    (b"ID3", "audio/mpeg"),
    (b"#!AMR", "audio/amr"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/msword"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)
RIFF_FORMS = {b"WEBP": "image/webp", b"WAVE": "audio/wav", b"AVI ": "video/x-msvideo"}
# Text that starts with a tag, a comment, a doctype or an XML declaration is
# markup a browser would render (HTML, SVG with script), whatever the tag.
MARKUP = re.compile(rb"<[a-z!?/]")


def sniff_content_type(head: bytes) -> str | None:
    """Return the MIME type the leading bytes show, or None when unrecognised.

    ``head`` is the start of the file (≥ 64 bytes is enough) or the whole file; a
    whole Office file is told apart (docx/xlsx/pptx) from its zip listing. SVG, HTML
    and other markup return None: they are never allowed. Raises nothing.
    """
    for magic, mime in MAGIC:
        if head.startswith(magic):
            return mime
    if head[:4] == b"RIFF" and head[8:12] in RIFF_FORMS:
        return RIFF_FORMS[head[8:12]]
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        return (
            "video/3gpp"
            if brand.startswith(b"3gp")
            else FTYP_BRANDS.get(brand, "video/mp4")
        )
    if head.startswith(b"PK\x03\x04"):
        return _zip_type(head)
    if len(head) >= 2 and head[0] == 0xFF:
        if head[1] & 0xF6 == 0xF0:  # ADTS sync, layer 00: AAC (0xFFF1, 0xFFF9)
            return "audio/aac"
        if head[1] & 0xE0 == 0xE0 and head[1] & 0x06:  # MPEG audio frame sync
            return "audio/mpeg"
    return _text_type(head)


def _zip_type(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return office_type(archive.namelist())
    except zipfile.BadZipFile:  # only the head: the first entry names are in it
        found = re.findall(rb"(word|xl|ppt)/", data)
        return office_type([found[0].decode() + "/"] if found else [])


def office_type(names: list[str]) -> str:
    for prefix, kind in (
        ("word/", "wordprocessingml.document"),
        ("xl/", "spreadsheetml.sheet"),
        ("ppt/", "presentationml.presentation"),
    ):
        if any(name.startswith(prefix) for name in names):
            return OPENXML + kind
    return "application/zip"


def _text_type(head: bytes) -> str | None:
    if not head or b"\x00" in head:
        return None
    try:  # final=False: the head may end inside a multi-byte character
        text = codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return None
    start = text.lstrip("\ufeff \t\r\n").lower().encode()
    return None if MARKUP.match(start) else "text/plain"
