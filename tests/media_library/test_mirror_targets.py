"""Only Cloud API (CAPI) apps can be mirror targets: Gupshup answers every other
app "Only CAPI apps allowed to generate media ID", so they are offered disabled
with that reason and refused if posted anyway."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from gupshup_admin.models import PartnerApp
from media_library import services
from media_library.models import MediaFile, MediaState, ProviderMedia

REASON = (
    "Legacy shop is not a Cloud API (CAPI) app: Gupshup makes media ids only for "
    "CAPI apps (“Only CAPI apps allowed to generate media ID”). Its campaigns send "
    "the image by its public URL: give the file one on its admin page."
)


def png(colour: str = "red") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def client(client: Client, alice: User) -> Client:
    client.force_login(alice)
    return client


@pytest.fixture
def legacy_app(db: None) -> PartnerApp:
    return PartnerApp.objects.create(
        name="Legacy shop",
        app_id="0b0c8f2e-1111-4a4a-9d9d-0ac8c6c24501",
        app_name="legacyshop",
        source_number="+919643874845",
        is_capi=False,
    )


@pytest.fixture
def media(db: None) -> MediaFile:
    return services.media_file_create(
        fileobj=io.BytesIO(png()), name="diwali-offer.png"
    ).media_file


def test_the_page_offers_a_non_capi_app_disabled_with_the_reason(
    client: Client, media: MediaFile, partner_app: PartnerApp, legacy_app: PartnerApp
) -> None:
    page = client.get(reverse("media_library:library")).content.decode()

    assert f'<input type="checkbox" name="app" value="{partner_app.pk}">' in page
    disabled = f'<input type="checkbox" name="app" value="{legacy_app.pk}" disabled'
    assert page.count(disabled) == 2  # on upload, and under "Mirror to…"
    assert page.count(f'title="{REASON}"') == 2
    assert "not CAPI" in page


def test_mirroring_to_a_non_capi_app_posted_anyway_is_refused_with_the_reason(
    client: Client, media: MediaFile, partner_app: PartnerApp, legacy_app: PartnerApp
) -> None:
    response = client.post(
        reverse("media_library:mirror", args=[media.pk]),
        {"app": [partner_app.pk, legacy_app.pk]},
        follow=True,
    )

    assert [str(m) for m in response.context["messages"]] == [REASON]
    assert not ProviderMedia.objects.exists()


def test_an_upload_ticked_for_a_non_capi_app_is_kept_and_says_why_not_mirrored(
    client: Client, legacy_app: PartnerApp
) -> None:
    upload = SimpleUploadedFile("a.png", png(), content_type="image/png")
    response = client.post(
        reverse("media_library:upload"), {"file": upload, "app": [legacy_app.pk]}
    )

    assert response.status_code == 201
    assert response.json()["note"] == f"Not mirrored: {REASON}"
    assert MediaFile.objects.count() == 1
    assert not ProviderMedia.objects.exists()


def test_mirror_everywhere_leaves_out_non_capi_apps_and_says_so(
    client: Client,
    media: MediaFile,
    partner_app: PartnerApp,
    legacy_app: PartnerApp,
    mocked: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    mocked.post(
        f"https://gupshup.test/partner/app/{partner_app.app_id}/media",
        json={"mediaId": "91", "status": "success"},
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:media_library_mediafile_changelist"),
            {"action": "mirror_everywhere", "_selected_action": [media.pk]},
            follow=True,
        )

    assert [row.partner_app for row in ProviderMedia.objects.all()] == [partner_app]
    assert [str(m) for m in response.context["messages"]] == [
        "Mirroring queued for 1 file(s). Left out, not CAPI apps: Legacy shop."
    ]


def test_retrying_failed_ids_leaves_out_non_capi_apps(
    media: MediaFile, legacy_app: PartnerApp
) -> None:
    ProviderMedia.objects.create(
        media_file=media, partner_app=legacy_app, state=MediaState.FAILED
    )
    assert services.media_mirror_retry(media_files=[media]) == 0
