"""A marketer drops four files on "Drop images here", sees two accepted and two
rejected with their reasons (too large; text named .jpg is not an image), drops
a PDF on the other box, mirrors the good images to the simulator app and sees
their media ids and expiry."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

from django.core.management import call_command
from PIL import Image
from playwright.sync_api import Page, expect

from gupshup_admin.simulator import Simulator
from media_library.models import MediaFile, MediaState, ProviderMedia
from tests.e2e.conftest import login, screenshot


def _image(path: Path, colour: str, fmt: str) -> Path:
    buf = io.BytesIO()
    Image.new("RGB", (320, 200), colour).save(buf, fmt)
    path.write_bytes(buf.getvalue())
    return path


def _noise(path: Path) -> Path:
    Image.frombytes("RGB", (400, 400), os.urandom(400 * 400 * 3)).save(path, "PNG")
    return path


def test_a_marketer_uploads_three_files_and_mirrors_the_good_ones(
    page: Page,
    live_server: Any,
    simulator: Simulator,
    admin_user: Any,
    settings: Any,
    tmp_path: Path,
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("demo_setup", password="unused-demo-password")
    files = [
        _image(tmp_path / "spring-sale.png", "tomato", "PNG"),
        _image(tmp_path / "new-arrivals.jpg", "teal", "JPEG"),
        _noise(tmp_path / "huge-banner.png"),
        tmp_path / "price-list.jpg",
    ]
    files[-1].write_text("Flat 20% off this Diwali!\n")
    pdf = tmp_path / "menu.pdf"
    pdf.write_bytes(b"%PDF-1.4\n" + b"x" * 2000)
    settings.MEDIA_MAX_IMAGE_BYTES = 200_000  # the noisy PNG is about 480 kB
    login(page, live_server.url)
    page.click("text=Upload images and mirror them to your apps")
    expect(page.locator("#dropzone")).to_be_visible()

    page.wait_for_selector("body[data-uploader-ready=true]")

    page.set_input_files("#file-input", [str(f) for f in files])
    page.wait_for_selector("body[data-uploads-done=true]")
    expect(page.locator("#uploads [data-outcome=accepted]")).to_have_count(2)
    rejected = page.locator("#uploads [data-outcome=rejected]")
    expect(rejected).to_have_count(2)
    too_big = rejected.filter(has_text="huge-banner.png")
    expect(too_big).to_contain_text("may be at most")
    not_an_image = rejected.filter(has_text="price-list.jpg")
    expect(not_an_image).to_contain_text("is plain text (text/plain), not an image")
    expect(not_an_image).to_contain_text("Drop video, audio or documents here")

    page.set_input_files("#other-file-input", [str(pdf)])
    page.wait_for_selector("body[data-uploads-done=true]")
    expect(page.locator("#uploads [data-outcome=accepted]")).to_have_count(3)
    screenshot(page, "10-media-uploaded")
    assert sorted(MediaFile.objects.values_list("kind", flat=True)) == [
        "document",
        "image",
        "image",
    ]

    page.click("#reload-library")
    for name in ("spring-sale.png", "new-arrivals.jpg"):
        card = page.locator(".card", has_text=name)
        card.locator("summary").click()
        card.locator("label", has_text="Demo shop (simulator)").click()
        card.locator("input[type=submit]").click()
        expect(page.locator(".messagelist")).to_contain_text(
            "mirroring to 1 target(s) queued"
        )

    cards = page.locator(".card")
    expect(
        cards.locator(".badge", has_text="ready · expires in 28 days")
    ).to_have_count(2)
    expect(cards.locator("code.media-id")).to_have_count(2)
    screenshot(page, "11-media-mirrored")
    rows = ProviderMedia.objects.all()
    assert [r.state for r in rows] == [MediaState.READY, MediaState.READY]
    assert len(simulator.requests("media")) == 2
