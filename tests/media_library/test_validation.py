"""media_library.validation: uploads are checked by content before anything is kept."""

from __future__ import annotations

import hashlib
import io
import random
import zipfile
from typing import Any

import pytest
from PIL import Image, ImageFile

from media_library.upload_rules import MediaRejected
from media_library.validation import check_upload, safe_filename, sniff_content_type

MB = 1024 * 1024
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def image_bytes(fmt: str, size: tuple[int, int] = (64, 48), mode: str = "RGB") -> bytes:
    """A small image made in memory; noise so JPEG has real scan data to cut."""
    rng = random.Random(7)
    image = Image.frombytes(mode, size, rng.randbytes(size[0] * size[1] * len(mode)))
    buf = io.BytesIO()
    image.save(buf, fmt)
    return buf.getvalue()


def docx_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


def check(data: bytes, name: str = "spring.png", **kwargs: Any) -> Any:
    media, stream = check_upload(io.BytesIO(data), name=name, **kwargs)
    return media, stream


def rejected(data: bytes, name: str = "spring.png", **kwargs: Any) -> MediaRejected:
    with pytest.raises(MediaRejected) as info:
        check_upload(io.BytesIO(data), name=name, **kwargs)
    return info.value


FTYP = b"\x00\x00\x00\x18ftyp"


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (image_bytes("JPEG"), "image/jpeg"),
        (image_bytes("PNG"), "image/png"),
        (image_bytes("WEBP"), "image/webp"),
        (image_bytes("GIF"), "image/gif"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "application/pdf"),
        (FTYP + b"isom\x00\x00\x02\x00isomiso2mp41", "video/mp4"),
        (FTYP + b"3gp4\x00\x00\x00\x003gp4isom", "video/3gpp"),
        (FTYP + b"M4A \x00\x00\x00\x00M4A mp42", "audio/mp4"),
        (b"ID3\x04\x00\x00\x00\x00\x00\x00", "audio/mpeg"),
        (b"\xff\xfb\x90\x64\x00\x00\x00\x00", "audio/mpeg"),
        (b"\xff\xf1\x50\x80\x02\x1f\xfc", "audio/aac"),
        (b"#!AMR\n\x3c\x00", "audio/amr"),
        (b"OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00", "audio/ogg"),
        (docx_bytes(), DOCX),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00", "application/msword"),
        ("Hola, ¿qué tal?\nLínea dos".encode(), "text/plain"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', None),
        (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", None),
        (b"\n  <!DOCTYPE html><html><body>hi</body></html>", None),
        (b"\x00\x01\x02binary", None),
    ],
)
def test_sniffing_names_each_format_from_its_leading_bytes(
    head: bytes, expected: str | None
) -> None:
    assert sniff_content_type(head) == expected


def test_a_docx_head_is_only_a_zip_but_the_whole_upload_is_a_docx() -> None:
    assert sniff_content_type(docx_bytes()[:64]) == "application/zip"
    assert check(docx_bytes(), "brief.docx")[0].content_type == DOCX


def test_a_large_docx_is_typed_from_the_stream_zip_directory() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>" + "x" * 10_000)
        archive.writestr("xl/workbook.xml", "<workbook/>")
    media, _ = check(buf.getvalue(), "prices.xlsx")
    assert media.content_type.endswith("spreadsheetml.sheet")


def test_a_broken_zip_is_rejected_as_not_allowed() -> None:
    error = rejected(b"PK\x03\x04" + b"\x01" * 5000, "brief.docx")
    assert error.code == "type_not_allowed"
    assert "ZIP archive" in error.message


def test_a_png_is_accepted_with_its_size_hash_and_dimensions() -> None:
    data = image_bytes("PNG")
    media, stream = check(data)
    assert media.content_type == "image/png"
    assert media.kind == "image"
    assert (media.width, media.height) == (64, 48)
    assert media.size == len(data)
    assert media.sha256 == hashlib.sha256(data).hexdigest()
    assert media.safe_name == "spring.png"
    assert media.note == ""
    assert stream.tell() == 0


def test_a_jpeg_keeps_its_jpeg_extension() -> None:
    media, _ = check(image_bytes("JPEG"), "photo.JPEG")
    assert (media.content_type, media.safe_name) == ("image/jpeg", "photo.JPEG")


@pytest.mark.parametrize(
    ("data", "name", "content_type", "kind"),
    [
        (b"%PDF-1.4\n" + b"x" * 100, "menu.pdf", "application/pdf", "document"),
        (FTYP + b"isom" + b"\x00" * 64, "clip.mp4", "video/mp4", "video"),
        (FTYP + b"3gp5" + b"\x00" * 64, "clip.3gp", "video/3gpp", "video"),
        (b"ID3\x04" + b"\x00" * 64, "song.mp3", "audio/mpeg", "audio"),
        (b"OggS\x00\x02" + b"\x00" * 64, "voice.ogg", "audio/ogg", "audio"),
        (docx_bytes(), "brief.docx", DOCX, "document"),
        ("Precios: 10 €\n".encode(), "notes.txt", "text/plain", "document"),
    ],
)
def test_media_and_documents_are_accepted_with_their_detected_kind(
    data: bytes, name: str, content_type: str, kind: str
) -> None:
    media, _ = check(data, name)
    assert (media.content_type, media.kind, media.safe_name) == (
        content_type,
        kind,
        name,
    )
    assert media.width is None


def test_an_old_office_file_is_typed_by_its_extension() -> None:
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600
    assert check(ole, "prices.xls")[0].content_type == "application/vnd.ms-excel"
    assert check(ole, "memo.doc")[0].content_type == "application/msword"
    assert rejected(ole, "setup.msi").code == "type_not_allowed"


def test_a_gif_is_rejected_naming_what_it_is_and_what_is_allowed() -> None:
    error = rejected(image_bytes("GIF"), "party.gif")
    assert error.code == "type_not_allowed"
    assert error.message == (
        "This file is a GIF image (image/gif), which WhatsApp cannot send. "
        "Upload JPEG or PNG images (≤ 5 MB), MP4/3GPP video (≤ 16 MB), "
        "audio (≤ 16 MB) or documents (≤ 100 MB)."
    )


@pytest.mark.parametrize(
    "data",
    [
        b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
        b"<!doctype html><html><script>alert(1)</script></html>",
        b"<!-- a comment first --><svg onload=alert(1)>",
        b"<div onmouseover=alert(1)>hello</div>",
        b"\n<iframe src=https://evil.example>",
    ],
)
def test_svg_and_html_are_rejected_even_when_called_images(data: bytes) -> None:
    error = rejected(data, "logo.png", claimed_type="image/png")
    assert error.code == "type_not_allowed"
    assert "could not be recognised" in error.message


def test_a_text_file_with_a_nul_byte_after_the_head_is_rejected() -> None:
    error = rejected(b"a" * 10_000 + b"\x00", "notes.txt")
    assert error.code == "type_not_allowed"


def test_an_empty_file_is_rejected_as_empty() -> None:
    error = rejected(b"")
    assert error.code == "empty"
    assert error.message == (
        "The file is empty (0 bytes). Choose the image again; "
        "it may not have finished downloading."
    )


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_an_image_cut_in_half_is_rejected_as_corrupt(fmt: str) -> None:
    data = image_bytes(fmt)
    error = rejected(data[: len(data) // 2], f"spring.{fmt.lower()}")
    assert error.code == "corrupt"
    assert error.message.startswith(f"spring.{fmt.lower()} is damaged or incomplete (")
    assert error.message.endswith("): export it again.")
    assert not ImageFile.LOAD_TRUNCATED_IMAGES


def test_a_decompression_bomb_is_refused_before_decoding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    error = rejected(image_bytes("PNG"))
    assert error.code == "too_large"
    assert "too many pixels" in error.message


def test_a_png_named_pdf_and_claimed_pdf_is_stored_as_png_with_a_note() -> None:
    media, _ = check(image_bytes("PNG"), "menu.pdf", claimed_type="application/pdf")
    assert media.content_type == "image/png"
    assert media.safe_name == "menu.png"
    assert media.note == (
        "The browser called this application/pdf; its content is image/png, "
        "which is what is stored."
    )


def test_a_claim_of_the_same_kind_adds_no_note() -> None:
    media, _ = check(image_bytes("JPEG"), "a.jpg", claimed_type="image/png")
    assert media.note == ""


def test_a_name_without_extension_gets_the_detected_one() -> None:
    assert check(b"%PDF-1.4\n", "report.v2")[0].safe_name == "report.v2.pdf"


def test_an_image_exactly_at_the_limit_is_accepted(settings: Any) -> None:
    data = image_bytes("PNG")
    settings.MEDIA_MAX_IMAGE_BYTES = len(data)
    assert check(data)[0].size == len(data)


def test_an_image_one_byte_over_the_limit_is_too_large(settings: Any) -> None:
    data = image_bytes("PNG")
    settings.MEDIA_MAX_IMAGE_BYTES = len(data) - 1
    error = rejected(data)
    assert error.code == "too_large"
    assert error.message.startswith(
        f"spring.png is {len(data):,} bytes; WhatsApp images may be at most "
        f"{len(data) - 1:,} bytes ({len(data) / 1024:.1f} KB). "
    )


@pytest.mark.parametrize(
    ("over", "said"),
    [
        (
            1,
            "is 5,242,881 bytes; WhatsApp images may be at most 5,242,880 bytes (5 MB)",
        ),
        (20 * 1024, "is 5.02 MB; WhatsApp images may be at most 5 MB"),
        (300 * 1024, "is 5.3 MB; WhatsApp images may be at most 5 MB"),
    ],
)
def test_a_size_just_over_the_limit_is_said_so_that_it_reads_as_over(
    over: int, said: str
) -> None:
    data = image_bytes("JPEG")
    error = rejected(data + b"\x00" * (5 * MB + over - len(data)), "spring.jpg")
    assert error.code == "too_large"
    assert f"spring.jpg {said}. Compress it" in error.message


def test_a_document_over_gupshups_ceiling_is_too_large(settings: Any) -> None:
    settings.MEDIA_MAX_PROVIDER_BYTES = 50
    error = rejected(b"%PDF-1.4\n" + b"x" * 50, "menu.pdf")
    assert error.code == "too_large"
    assert "is 59 bytes; files sent through Gupshup may be at most 50 bytes. " in (
        error.message
    )


def test_a_6_mb_jpeg_is_rejected_by_the_default_image_limit() -> None:
    # Bytes after the end-of-image marker still count: the size check comes first.
    data = image_bytes("JPEG") + b"\x00" * (6 * MB)
    error = rejected(data, "spring.jpg")
    assert error.code == "too_large"
    assert error.message == (
        "spring.jpg is 6 MB; WhatsApp images may be at most 5 MB. "
        "Compress it or save it as JPEG."
    )


def test_a_webp_is_converted_to_jpeg_by_default() -> None:
    media, stream = check(image_bytes("WEBP", mode="RGBA"), "sticker.webp")
    with stream:
        jpeg = stream.read()
    assert Image.open(io.BytesIO(jpeg)).format == "JPEG"
    assert media.content_type == "image/jpeg"
    assert media.converted_from == "image/webp"
    assert (media.width, media.height) == (64, 48)
    assert media.sha256 == hashlib.sha256(jpeg).hexdigest()
    assert media.size == len(jpeg)
    assert media.safe_name == "sticker.jpg"
    assert media.note == (
        "image/webp is a sticker format on WhatsApp; it was converted to JPEG."
    )


def test_a_webp_is_rejected_when_conversion_is_off(settings: Any) -> None:
    settings.MEDIA_CONVERT_WEBP = False
    error = rejected(image_bytes("WEBP"), "sticker.webp")
    assert error.code == "sticker_format"
    assert error.message == (
        "image/webp is a sticker format on WhatsApp; upload JPEG or PNG ≤ 5 MB."
    )


def test_the_convert_argument_overrides_the_setting(settings: Any) -> None:
    settings.MEDIA_CONVERT_WEBP = False
    media, stream = check(image_bytes("WEBP"), "s.webp", convert_webp=True)
    stream.close()
    assert media.content_type == "image/jpeg"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\x\\évé.png", "évé.png"),
        ("e\u0301te\u0301.png", "été.png"),
        ("..hidden..png", "hidden.png"),
        ("bad\x1b[31m\u202ename.png", "bad[31mname.png"),
        ('a"b<c>.pdf', "a_b_c_.pdf"),
    ],
)
def test_safe_filename_strips_paths_and_control_characters(
    name: str, expected: str
) -> None:
    assert safe_filename(name) == expected


@pytest.mark.parametrize("name", ["", "....", "\x00.png", "../", " . "])
def test_safe_filename_refuses_names_with_nothing_usable(name: str) -> None:
    with pytest.raises(MediaRejected) as info:
        safe_filename(name)
    assert info.value.code == "bad_name"


def test_a_300_character_name_is_cut_to_120_keeping_the_extension() -> None:
    name = safe_filename("ñ" * 296 + ".png")
    assert len(name) == 120
    assert name.endswith("ñ.png")


class ChunkOnly(io.BytesIO):
    """A stream that fails if anyone tries to read it all at once."""

    def read(self, size: int | None = -1, /) -> bytes:
        if size is None or size < 0 or size > 8 * MB:
            raise AssertionError(f"read({size}) would load the whole file")
        return super().read(size)


def test_a_large_upload_is_read_in_chunks_and_rewound() -> None:
    stream = ChunkOnly(b"%PDF-1.7\n" + b"\x00" * (20 * MB))
    media, returned = check_upload(stream, name="catalogue.pdf")
    assert media.size == 20 * MB + 9
    assert returned is stream
    assert returned.tell() == 0


def test_an_image_stream_is_returned_rewound() -> None:
    stream = ChunkOnly(image_bytes("PNG"))
    media, returned = check_upload(stream, name="spring.png")
    assert returned is stream and stream.tell() == 0
    assert media.width == 64
