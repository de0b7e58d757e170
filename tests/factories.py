"""Builders for campaigns wired to the simulator's demo app (tests and benches)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from django.utils import timezone

from campaigns.models import (
    AttemptStatus,
    Campaign,
    CampaignKind,
    Recipient,
    SendAttempt,
)
from gupshup_admin.models import HealthStatus, PartnerApp, Template, TokenSource
from gupshup_admin.simulator import DEMO, SPRING_SALE_IMAGE, SimApp
from gupshup_admin.simulator.fixtures import template_id
from media_library.models import MediaFile, MediaState, ProviderMedia

SIM_MEDIA_ID = "1234567890123456"


def sim_app(
    *, rate_per_minute: int = 600, name: str = "Demo shop", sim: SimApp | None = None
) -> PartnerApp:
    """A simulator app (the CAPI demo app by default), healthy, with its token
    pasted."""
    capi = sim or DEMO.capi_app
    app = PartnerApp(
        name=name,
        app_id=capi.app_id,
        app_name=capi.app_name,
        source_number=f"+{capi.source}",
        send_rate_per_minute=rate_per_minute,
        health_status=HealthStatus.HEALTHY,
    )
    app.set_app_token(capi.token, source=TokenSource.PASTED)
    app.save()
    return app


def sim_template(app: PartnerApp) -> Template:
    """The demo app's approved image template with two slots."""
    template, _ = Template.objects.get_or_create(
        app=app,
        gupshup_id=template_id(app.app_id, SPRING_SALE_IMAGE),
        defaults={
            "element_name": "spring_sale_image",
            "language_code": "en",
            "status": "APPROVED",
            "template_type": "IMAGE",
            "body": "Hi {{1}}, {{2}} off today!",
            "slot_count": 2,
            "header_type": "IMAGE",
        },
    )
    return template


def ready_media(app: PartnerApp) -> MediaFile:
    """A library image with a fresh media id for `app`."""
    number = MediaFile.objects.count() + 1
    media = MediaFile.objects.create(
        original_name=f"banner-{number}.png",
        content_type="image/png",
        kind="image",
        size=1000,
        sha256=f"{number:064x}",
        file=f"media/banner-{number}.png",
    )
    now = timezone.now()
    ProviderMedia.objects.create(
        media_file=media,
        partner_app=app,
        state=MediaState.READY,
        media_id=SIM_MEDIA_ID,
        uploaded_at=now,
        expires_at=now + timedelta(days=29),
    )
    return media


def sim_campaign(
    *,
    phones: Sequence[str],
    app: PartnerApp | None = None,
    kind: str = CampaignKind.TEMPLATE,
    name: str = "Spring sale",
) -> Campaign:
    """A draft campaign on the simulator's demo app with these recipients."""
    app = app or sim_app()
    template = sim_template(app) if kind == CampaignKind.TEMPLATE else None
    campaign = Campaign.objects.create(
        name=name,
        partner_app=app,
        kind=kind,
        template=template,
        media_file=ready_media(app),
        caption="Spring is here" if kind == CampaignKind.DIRECT else "",
    )
    params = ["Asha", "20%"] if template else []
    Recipient.objects.bulk_create(
        Recipient(campaign=campaign, phone=phone, params=params) for phone in phones
    )
    return campaign


ACCEPTED = ("submitted", "enqueued", "sent", "delivered", "read")


def attempt_sent(
    recipient: Recipient,
    *,
    message_id: str = "",
    wamid: str = "",
    status: str = AttemptStatus.SUBMITTED,
    error_code: str = "",
    error_message: str = "",
) -> SendAttempt:
    """A request that left for `recipient`, now its latest attempt (the
    recipient mirrors its status and error, as the dispatcher leaves it)."""
    number = recipient.attempts + 1
    now = timezone.now()
    accepted = status in ACCEPTED or (status == AttemptStatus.FAILED and message_id)
    attempt = SendAttempt.objects.create(
        recipient=recipient,
        campaign_id=recipient.campaign_id,
        partner_app_id=recipient.campaign.partner_app_id,
        number=number,
        status=status,
        message_id=message_id,
        wamid=wamid,
        error_code=error_code,
        error_message=error_message,
        submitted_at=now if accepted else None,
        failed_at=now if status == AttemptStatus.FAILED else None,
    )
    mirrored = "pending" if status == AttemptStatus.REQUEUED else status
    Recipient.objects.filter(pk=recipient.pk).update(
        status=mirrored,
        latest_attempt=attempt,
        attempts=number,
        error_code=error_code,
        error_message=error_message,
    )
    recipient.refresh_from_db()
    return attempt


def phones(count: int, *, start: int = 1, suffix: str = "8888") -> list[str]:
    """Distinct valid Indian mobiles ending in `suffix`: the simulator reads the
    last four digits (docs/simulator.md); 8888 is an ordinary delivered send."""
    assert len(suffix) == 4 and start + count <= 100_000
    return [f"+919{i:05d}{suffix}" for i in range(start, start + count)]
