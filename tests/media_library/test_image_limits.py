"""Images are measured from their headers before anything decodes them, and
decoded (or converted) a bounded number at a time per process."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageFile

from media_library import images
from media_library.upload_rules import MediaRejected
from media_library.validation import check_upload

DATA = Path(__file__).parent / "data"
# A 3.4 KB lossless WebP declaring 9,400 x 9,400 pixels: decoded and converted
# naively it took a web process from 110 MB to 1.9 GB.
BOMB = DATA / "bomb-9400x9400.webp"
REPO = Path(__file__).resolve().parents[2]


def encoded(fmt: str, size: tuple[int, int], mode: str = "RGB", **save: Any) -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, "orange").save(buf, fmt, **save)
    return buf.getvalue()


def rejected(data: bytes, name: str) -> MediaRejected:
    with pytest.raises(MediaRejected) as info:
        check_upload(io.BytesIO(data), name=name)
    return info.value


@pytest.fixture
def no_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to decode pixels fails the test."""

    def refuse(self: Image.Image) -> Any:
        raise AssertionError(f"{self.format} {self.size} was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)


def test_the_9400_pixel_webp_bomb_is_refused_from_its_header_without_decoding(
    no_decoding: None,
) -> None:
    error = rejected(BOMB.read_bytes(), "offer.webp")

    assert error.code == "too_large"
    assert error.message == (
        "offer.webp has too many pixels to open safely: 9,400 × 9,400 "
        "(88.4 megapixels); images may have at most 52 megapixels. "
        "Resize it (WhatsApp shows images much smaller than that anyway) and "
        "upload it again."
    )


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_a_png_or_jpeg_over_the_pixel_limit_is_refused_without_decoding(
    fmt: str, settings: Any, no_decoding: None
) -> None:
    settings.MEDIA_MAX_IMAGE_PIXELS = 100 * 80 - 1
    error = rejected(encoded(fmt, (100, 80)), f"banner.{fmt.lower()}")

    assert error.code == "too_large"
    assert "100 × 80" in error.message
    assert "Resize it" in error.message


def test_an_image_exactly_at_the_pixel_limit_is_accepted(settings: Any) -> None:
    settings.MEDIA_MAX_IMAGE_PIXELS = 100 * 80
    media, _ = check_upload(io.BytesIO(encoded("PNG", (100, 80))), name="a.png")
    assert (media.width, media.height) == (100, 80)


def test_a_50_megapixel_phone_photo_is_accepted_by_default() -> None:
    # The largest "50 MP" sensors write 8,192 x 6,144 (50.3 MP).
    photo = encoded("JPEG", (8192, 6144), mode="L", quality=50)
    media, _ = check_upload(io.BytesIO(photo), name="IMG_2024.jpg")
    assert (media.width, media.height) == (8192, 6144)


def test_a_webp_over_the_conversion_limit_is_refused_before_decoding(
    settings: Any, no_decoding: None
) -> None:
    settings.MEDIA_MAX_CONVERT_PIXELS = 64 * 64
    error = rejected(encoded("WEBP", (80, 80), lossless=True), "sticker.webp")

    assert error.code == "too_large"
    assert error.message.startswith("sticker.webp is 80 × 80 (0.0064 megapixels);")
    assert "WebP images are converted to JPEG here up to 0.0041 megapixels" in (
        error.message
    )
    assert "save it as JPEG or PNG" in error.message


def test_a_webp_whose_header_gives_no_size_is_refused_as_damaged() -> None:
    data = bytearray(encoded("WEBP", (16, 16), lossless=True))
    data[12:16] = b"VP8?"  # not one of the three chunk kinds a WebP starts with
    error = rejected(bytes(data), "sticker.webp")
    assert error.code == "corrupt"


def test_pillow_itself_refuses_more_pixels_than_the_setting_anywhere(
    settings: Any,
) -> None:
    assert settings.MEDIA_MAX_IMAGE_PIXELS == Image.MAX_IMAGE_PIXELS == 52_000_000
    # In a process of its own: pytest puts back the warning filters of each test.
    opens_the_bomb = (
        "import django; django.setup(); from PIL import Image; "
        f"Image.open({str(BOMB)!r}); print('opened')"
    )
    child = python(opens_the_bomb, DJANGO_SETTINGS_MODULE="gupshup_admin.settings_test")
    assert child.returncode != 0
    assert "opened" not in child.stdout
    assert "DecompressionBombWarning: Image size (88360000 pixels) exceeds limit " in (
        child.stderr
    )


def test_when_every_decode_slot_is_busy_an_upload_is_refused_as_busy(
    settings: Any,
) -> None:
    settings.MEDIA_IMAGE_DECODE_SLOTS = 1
    settings.MEDIA_IMAGE_DECODE_WAIT_SECONDS = 0.05
    holding, release = threading.Event(), threading.Event()

    def hold_the_only_slot() -> None:
        with images.decode_slot("other.png"):
            holding.set()
            release.wait(5)

    holder = threading.Thread(target=hold_the_only_slot)
    holder.start()
    try:
        assert holding.wait(5)
        error = rejected(encoded("WEBP", (16, 16)), "sticker.webp")
    finally:
        release.set()
        holder.join()

    assert error.code == "busy"
    assert error.message == (
        "The server is busy converting other images; try again in a moment "
        "(sticker.webp was not stored)."
    )
    media, stream = check_upload(io.BytesIO(encoded("WEBP", (16, 16))), name="s.webp")
    stream.close()
    assert media.content_type == "image/jpeg"


def test_a_slot_is_given_back_when_the_image_is_refused(settings: Any) -> None:
    settings.MEDIA_IMAGE_DECODE_SLOTS = 1
    settings.MEDIA_IMAGE_DECODE_WAIT_SECONDS = 0.05
    truncated = encoded("PNG", (64, 64))[:-20]
    for _ in range(3):
        assert rejected(truncated, "cut.png").code == "corrupt"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MEDIA_MAX_IMAGE_PIXELS", "lots"),
        ("MEDIA_MAX_IMAGE_PIXELS", "0"),
        ("MEDIA_MAX_CONVERT_PIXELS", "-5"),
        ("MEDIA_IMAGE_DECODE_SLOTS", "0"),
        ("MEDIA_IMAGE_DECODE_WAIT_SECONDS", "soon"),
    ],
)
def test_a_bad_image_limit_stops_start_up_naming_the_variable(
    name: str, value: str
) -> None:
    child = python("import gupshup_admin.settings_test", **{name: value})
    assert child.returncode != 0
    assert "ImproperlyConfigured" in child.stderr
    assert name in child.stderr.strip().splitlines()[-1]


def python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `code` in a new interpreter in the repository, with `env` added."""
    environment = {**os.environ, "ENV_FILE": "", **env}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
