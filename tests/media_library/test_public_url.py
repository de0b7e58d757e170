"""A media file's public URL: https only, and fixed while a campaign that was
scheduled, approved or is running holds the file (four-eyes pins the image)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from PIL import Image

from campaigns.models import Campaign, CampaignKind
from gupshup_admin.models import PartnerApp
from media_library import services
from media_library.models import MediaFile
from media_library.upload_rules import MediaRejected

CDN = "https://cdn.example.com/diwali-offer.jpg"
NEW = "https://cdn.example.com/diwali-offer-v2.jpg"


def jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), "purple").save(buf, "JPEG")
    return buf.getvalue()


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def client(client: Client, alice: User) -> Client:
    client.force_login(alice)
    return client


@pytest.fixture
def media(db: None) -> MediaFile:
    media = services.media_file_create(
        fileobj=io.BytesIO(jpeg()), name="diwali-offer.jpg"
    ).media_file
    MediaFile.objects.filter(pk=media.pk).update(public_url=CDN)
    media.refresh_from_db()
    return media


def campaign(media: MediaFile, app: PartnerApp, name: str, **fields: Any) -> Campaign:
    return Campaign.objects.create(
        name=name,
        partner_app=app,
        kind=CampaignKind.DIRECT,
        media_file=media,
        **fields,
    )


def edit(client: Client, media: MediaFile, **changes: Any) -> Any:
    form = {
        "original_name": media.original_name,
        "public_url": media.public_url,
        "keep_fresh": "on" if media.keep_fresh else "",
        "mirrors-TOTAL_FORMS": "0",  # the media ids inline, read-only
        "mirrors-INITIAL_FORMS": "0",
        **changes,
    }
    url = reverse("admin:media_library_mediafile_change", args=[media.pk])
    return client.post(url, {k: v for k, v in form.items() if v != ""})


def form_errors(response: Any) -> list[str]:
    return [str(e) for e in response.context["adminform"].form.errors["public_url"]]


def test_an_http_public_url_is_refused_in_the_admin(
    client: Client, media: MediaFile
) -> None:
    response = edit(client, media, public_url="http://cdn.example.com/a.jpg")

    assert response.status_code == 200
    assert form_errors(response) == [
        "Public URLs are https:// only: enter the file's https:// address "
        "(Gupshup and WhatsApp fetch the image from it)."
    ]
    media.refresh_from_db()
    assert media.public_url == CDN


def test_an_https_public_url_is_saved(client: Client, media: MediaFile) -> None:
    assert edit(client, media, public_url=NEW).status_code == 302
    media.refresh_from_db()
    assert media.public_url == NEW


def test_a_new_file_with_an_http_public_url_is_refused(db: None) -> None:
    with pytest.raises(MediaRejected) as info:
        services.media_file_create(
            fileobj=io.BytesIO(jpeg()), name="a.png", public_url="http://x.example/a"
        )
    assert info.value.code == "bad_url"
    assert not MediaFile.objects.exists()


@pytest.mark.parametrize(
    ("fields", "held_as"),
    [
        ({"state": "scheduled"}, "scheduled"),
        ({"state": "running"}, "running"),
        ({"state": "paused"}, "paused"),
        ({"state": "draft", "approval": "approved"}, "approved, not started"),
    ],
)
def test_the_url_of_a_file_held_by_a_campaign_cannot_change(
    client: Client,
    media: MediaFile,
    partner_app: PartnerApp,
    fields: dict[str, str],
    held_as: str,
) -> None:
    campaign(media, partner_app, "Diwali blast", **fields)

    response = edit(client, media, public_url=NEW)

    assert response.status_code == 200
    assert form_errors(response) == [
        f"diwali-offer.jpg is the image of campaign “Diwali blast” ({held_as}), so "
        "its public URL cannot change: a campaign sends the image that was "
        "approved and scheduled. To send a different image, upload it as a new "
        "file and choose that in a campaign."
    ]
    media.refresh_from_db()
    assert media.public_url == CDN


def test_clearing_the_url_of_a_held_file_is_refused_too(
    media: MediaFile, partner_app: PartnerApp
) -> None:
    campaign(media, partner_app, "Diwali blast", state="running")
    media.public_url = ""
    with pytest.raises(ValidationError) as info:
        media.full_clean()
    assert "Diwali blast" in str(info.value.message_dict["public_url"])


def test_several_holding_campaigns_are_named(
    media: MediaFile, partner_app: PartnerApp
) -> None:
    for number in range(4):
        campaign(media, partner_app, f"Wave {number}", state="scheduled")
    media.public_url = NEW
    with pytest.raises(ValidationError) as info:
        media.full_clean()
    [message] = info.value.message_dict["public_url"]
    assert message.startswith(
        "diwali-offer.jpg is the image of campaigns “Wave 0” (scheduled), “Wave 1” "
        "(scheduled), “Wave 2” (scheduled) and 1 more, so its public URL cannot "
        "change"
    )


@pytest.mark.parametrize(
    "fields",
    [
        {"state": "draft"},
        {"state": "draft", "approval": "rejected"},
        {"state": "completed", "approval": "approved"},
        {"state": "cancelled"},
    ],
)
def test_a_draft_or_finished_campaign_does_not_hold_the_url(
    client: Client, media: MediaFile, partner_app: PartnerApp, fields: dict[str, str]
) -> None:
    campaign(media, partner_app, "Old blast", **fields)
    assert edit(client, media, public_url=NEW).status_code == 302
    media.refresh_from_db()
    assert media.public_url == NEW


def test_other_fields_of_a_held_file_can_still_change(
    client: Client, media: MediaFile, partner_app: PartnerApp
) -> None:
    campaign(media, partner_app, "Diwali blast", state="running")
    assert edit(client, media, keep_fresh="on").status_code == 302
    media.refresh_from_db()
    assert media.keep_fresh and media.public_url == CDN
