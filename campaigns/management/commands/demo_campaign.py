"""Prepare the demo's campaign against the running simulator, with real calls:
check the app, sync its templates, add and mirror a banner, load recipients; the
demo marketer makes it, and when it needs approval the demo approver gives it."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError
from PIL import Image, ImageDraw

from campaigns.lifecycle import approvals, drafts
from campaigns.models import Campaign, CampaignKind
from campaigns.recipients import loading
from gupshup_admin import app_sync
from gupshup_admin.models import PartnerApp, Template
from gupshup_admin.simulator import DEMO
from media_library import services as media_services
from media_library.models import ProviderMedia

NAME = "Demo: spring sale"
CSV = Path(settings.BASE_DIR) / "docs" / "demo-recipients.csv"


def banner() -> bytes:
    """A small PNG banner, drawn here so the demo ships no binary files."""
    image = Image.new("RGB", (800, 418), (18, 140, 126))
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 40, 760, 378), outline=(255, 255, 255), width=6)
    draw.text((80, 180), "SPRING SALE - up to 30% off", fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


class Command(BaseCommand):
    help = "Register callbacks and create the demo campaign (draft, recipients loaded)."

    def handle(self, *args: Any, **options: Any) -> None:
        app = PartnerApp.objects.filter(app_id=DEMO.capi_app.app_id).first()
        if app is None:
            raise CommandError("Run `manage.py demo_setup` first.")
        health = app_sync.partner_app_check_health(app=app)
        self.stdout.write(f"{app}: {health.message}")
        # The simulator forgets subscriptions when it stops: register every run.
        url = app_sync.partner_app_register_callback(app=app)
        self.stdout.write(f"Delivery callbacks go to {url}")
        if Campaign.objects.filter(name=NAME).exists():
            self.stdout.write(f"{NAME!r} exists already.")
            return
        self.stdout.write(f"Templates: {app_sync.partner_app_sync_templates(app=app)}")
        upload = media_services.media_file_create(
            fileobj=io.BytesIO(banner()), name="spring-sale-banner.png"
        )
        row, _ = ProviderMedia.objects.get_or_create(
            media_file=upload.media_file, partner_app=app
        )
        media_services.provider_media_mirror(provider_media_id=row.pk)
        row.refresh_from_db()
        self.stdout.write(f"Banner mirrored: {row.state} {row.media_id}")
        marketer = User.objects.filter(username="demo-marketer").first()
        author = marketer.pk if marketer else None
        campaign = drafts.campaign_create(
            user_id=author,
            name=NAME,
            partner_app=app,
            kind=CampaignKind.TEMPLATE,
            template=Template.objects.get(app=app, element_name="spring_sale_image"),
            media_file=upload.media_file,
        )
        with CSV.open("rb") as fh:
            record = loading.recipients_import(
                campaign=campaign, fileobj=fh, filename=CSV.name, user_id=author
            )
        summary = (
            f"{record.accepted} accepted, {record.rejected} rejected, "
            f"{record.duplicates} duplicate(s) dropped"
        )
        self._approve(campaign)
        self.stdout.write(f"{NAME}: {summary} — open it and press Start.")

    def _approve(self, campaign: Campaign) -> None:
        """Four-eyes on: the demo approver approves it, so Start works at once."""
        status = approvals.campaign_approval_status(campaign=campaign)
        approver = User.objects.filter(username="demo-approver").first()
        if not status.needed or approver is None:
            return
        approvals.campaign_approve(
            campaign=campaign,
            user=approver,
            fingerprint=approvals.campaign_fingerprint(campaign=campaign),
        )
        self.stdout.write(
            f"{NAME}: {status.recipients} recipients, above the approval threshold "
            f"of {status.threshold}: approved by {approver.username}."
        )
