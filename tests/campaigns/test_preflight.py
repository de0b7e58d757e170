"""Pre-flight says exactly which check stops a campaign."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from campaigns.lifecycle.preflight import campaign_preflight
from campaigns.models import Campaign, Recipient
from gupshup_admin.models import (
    HealthStatus,
    PartnerApp,
    Template,
    TokenKind,
    TokenSource,
)
from media_library.models import MediaFile, MediaState, ProviderMedia


def ready(campaign: Campaign, *, recipients: int = 30, media_days: float = 20) -> None:
    """A campaign that passes every check."""
    app = campaign.partner_app
    app.health_status = HealthStatus.HEALTHY
    app.send_rate_per_minute = 10
    app.save()
    Recipient.objects.bulk_create(
        Recipient(campaign=campaign, phone=f"+9198765432{n:02d}", params=["A", "B"])
        for n in range(recipients)
    )
    ProviderMedia.objects.create(
        media_file=campaign.media_file,
        partner_app=app,
        state=MediaState.READY,
        media_id="820953082747249",
        expires_at=timezone.now() + timedelta(days=media_days),
    )


def failed(campaign: Campaign) -> dict[str, str]:
    return {c.name: c.message for c in campaign_preflight(campaign=campaign).failures()}


def test_a_ready_campaign_passes_with_an_estimate_from_the_send_rate(
    campaign: Campaign,
) -> None:
    ready(campaign, recipients=30)
    result = campaign_preflight(campaign=campaign)
    assert result.ok, result.failures()
    assert result.pending == 30
    assert result.estimated == timedelta(minutes=3)  # 30 at 10 per minute


def test_no_recipients_is_refused(campaign: Campaign) -> None:
    ready(campaign, recipients=0)
    assert "load a CSV first" in failed(campaign)["recipients"]


def test_an_unapproved_template_is_named_with_its_status(
    campaign: Campaign, template: Template
) -> None:
    ready(campaign)
    template.status = "PENDING"
    template.save()
    assert "its status is PENDING, not APPROVED" in failed(campaign)["template"]


def test_a_template_whose_slots_changed_since_the_import_is_refused(
    campaign: Campaign, template: Template
) -> None:
    ready(campaign)
    template.slot_count = 3
    template.save()
    assert "load the CSV again" in failed(campaign)["template"]


def test_an_unhealthy_app_is_refused_with_its_health_message(
    campaign: Campaign,
) -> None:
    ready(campaign)
    app = campaign.partner_app
    app.health_status = HealthStatus.UNHEALTHY
    app.health_message = "Authentication failed"
    app.save()
    assert "Authentication failed" in failed(campaign)["app"]


def test_an_app_on_universal_app_tokens_with_only_a_universal_token_may_send(
    campaign: Campaign,
) -> None:
    ready(campaign)
    app = campaign.partner_app
    app.set_app_token("", source=TokenSource.NONE)
    app.token_kind = TokenKind.UNIVERSAL_APP
    app.set_universal_token(
        "eyJhbGciOiJSUzI1NiJ9.eyJ0eXAiOiJVVCJ9.c2lnbmF0dXJl",
        source=TokenSource.PASTED,
        expires_at=timezone.now() + timedelta(days=30),
    )
    app.save()

    assert "app" not in failed(campaign)


def test_an_app_without_a_token_of_its_kind_is_refused_naming_the_kind(
    campaign: Campaign,
) -> None:
    ready(campaign)
    app = campaign.partner_app
    app.token_kind = TokenKind.UNIVERSAL  # its sk_ token does not count
    app.save()

    assert (
        "no token and no credentials to get one (Universal Token"
        in (failed(campaign)["app"])
    )


def test_media_that_expires_before_the_last_message_is_refused(
    campaign: Campaign,
) -> None:
    # 30,000 recipients at 10 per minute take about 50 hours; the id lives one day.
    ready(campaign, recipients=0, media_days=1)
    Recipient.objects.bulk_create(
        Recipient(campaign=campaign, phone=f"+91987{n:07d}", params=["A", "B"])
        for n in range(30_000)
    )
    assert "mirror or refresh it first" in failed(campaign)["media"]


def test_an_app_that_is_not_capi_sends_the_image_by_its_public_link(
    campaign: Campaign,
) -> None:
    """It can never have a media id; its image goes by its https link."""
    ready(campaign)
    ProviderMedia.objects.all().delete()
    PartnerApp.objects.filter(pk=campaign.partner_app_id).update(is_capi=False)
    campaign.refresh_from_db()
    assert "give the image a public https:// link" in failed(campaign)["media"]
    MediaFile.objects.filter(pk=campaign.media_file_id).update(
        public_url="https://cdn.example.com/banner.png"
    )
    campaign.refresh_from_db()
    assert "media" not in failed(campaign)
    check = next(
        c for c in campaign_preflight(campaign=campaign).checks if c.name == "media"
    )
    assert (
        "sent by its public link (https://cdn.example.com/banner.png)" in check.message
    )


def test_a_campaign_scheduled_long_ago_needs_confirmation(campaign: Campaign) -> None:
    ready(campaign)
    campaign.scheduled_at = timezone.now() - timedelta(hours=2)
    campaign.save()
    result = campaign_preflight(campaign=campaign)
    assert "due 120 minute(s) ago" in result.needs_confirmation
