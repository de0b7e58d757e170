"""Stored media is served with the type its bytes show, never as HTML or SVG."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.http import FileResponse
from django.test import Client
from django.urls import reverse
from PIL import Image

from media_library.models import MediaFile
from tests.media_library.test_views import png

HTML = (
    b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
)
SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
    b"<script>alert(2)</script></svg>"
)


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def client(client: Client, alice: User) -> Client:
    client.force_login(alice)
    return client


def stored(data: bytes, *, name: str, content_type: str) -> MediaFile:
    """A library row whose file holds `data`, whatever the row claims."""
    media = MediaFile(
        original_name=name,
        content_type=content_type,
        kind="image",
        size=len(data),
        sha256=f"{MediaFile.objects.count() + 1:064x}",
    )
    media.file.save(name, ContentFile(data), save=False)
    media.save()
    return media


def fetch(client: Client, media: MediaFile) -> Any:
    response: Any = client.get(reverse("media_library:thumbnail", args=[media.pk]))
    assert isinstance(response, FileResponse)
    return response


def body(response: FileResponse) -> bytes:
    return b"".join(response.streaming_content)  # type: ignore[arg-type]


def assert_hardened(response: FileResponse) -> None:
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert "html" not in response["Content-Type"]
    assert "svg" not in response["Content-Type"]


def test_a_png_is_shown_inline_as_png(client: Client) -> None:
    media = stored(png(), name="banner.png", content_type="image/png")

    response = fetch(client, media)

    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'inline; filename="banner.png"'
    assert body(response) == png()
    assert_hardened(response)


def test_the_type_comes_from_the_stored_bytes_not_from_the_row(client: Client) -> None:
    jpeg = io.BytesIO()
    Image.new("RGB", (8, 8), "blue").save(jpeg, "JPEG")
    media = stored(jpeg.getvalue(), name="photo.png", content_type="image/png")

    response = fetch(client, media)

    assert response["Content-Type"] == "image/jpeg"
    assert_hardened(response)


@pytest.mark.parametrize(
    ("data", "claimed"),
    [(HTML, "image/png"), (HTML, "text/html"), (SVG, "image/svg+xml")],
    ids=["html-claiming-png", "html", "svg"],
)
def test_stored_html_or_svg_is_only_ever_a_download_of_octet_stream(
    client: Client, data: bytes, claimed: str
) -> None:
    media = stored(data, name="evil.svg", content_type=claimed)

    response = fetch(client, media)

    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == 'attachment; filename="evil.svg"'
    assert body(response) == data
    assert_hardened(response)


def test_media_is_not_served_to_anonymous_visitors(client: Client) -> None:
    media = stored(png(), name="banner.png", content_type="image/png")
    client.logout()

    response = client.get(reverse("media_library:thumbnail", args=[media.pk]))

    assert response.status_code == 302
