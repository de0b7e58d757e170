"""Pre-flight: every reason a campaign must not start yet, said plainly."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from campaigns.models import Campaign, CampaignKind, RecipientStatus
from gupshup_admin.models import HealthStatus
from gupshup_admin.providers.gupshup_types import TIER_DAILY_LIMITS
from media_library import selectors as media_selectors


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    message: str
    # Passed, but says something to act on (shown, never blocking).
    warning: bool = False


@dataclass
class Preflight:
    checks: list[Check] = field(default_factory=list)
    pending: int = 0
    estimated: timedelta = timedelta(0)
    last_due_at: datetime | None = None
    needs_confirmation: str = ""

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def failures(self) -> list[Check]:
        return [check for check in self.checks if not check.ok]

    def warnings(self) -> list[Check]:
        return [check for check in self.checks if check.warning]

    def add(self, name: str, ok: bool, message: str, *, warning: bool = False) -> None:
        self.checks.append(Check(name, ok, message, warning))


def campaign_preflight(*, campaign: Campaign, now: datetime | None = None) -> Preflight:
    """Run every check; never raises. `ok` is False when any check failed."""
    now = now or timezone.now()
    result = Preflight()
    result.pending = campaign.recipients.filter(status=RecipientStatus.PENDING).count()
    rate = max(campaign.partner_app.send_rate_per_minute, 1)
    result.estimated = timedelta(minutes=math.ceil(result.pending / rate))
    start = max(campaign.scheduled_at or now, now)
    result.last_due_at = start + result.estimated
    result.add(
        "recipients",
        result.pending > 0,
        f"{result.pending} recipient(s) to send to"
        if result.pending
        else "No recipients are waiting: load a CSV first.",
    )
    _check_template(campaign, result)
    _check_app(campaign, result)
    _check_tier(campaign, result)
    _check_media(campaign, result)
    _check_lateness(campaign, now, result)
    return result


def _check_template(campaign: Campaign, result: Preflight) -> None:
    if campaign.kind != CampaignKind.TEMPLATE:
        return
    template = campaign.template
    if template is None:
        result.add("template", False, "Choose an approved image template.")
        return
    problems = []
    if not template.is_approved:
        problems.append(f"its status is {template.status or 'unknown'}, not APPROVED")
    if template.header_type != "IMAGE":
        problems.append("it has no image header")
    if not template.is_present:
        problems.append("it no longer exists on Gupshup")
    sample = campaign.recipients.values_list("params", flat=True).first()
    if sample is not None and len(sample) != template.slot_count:
        problems.append(
            f"it now has {template.slot_count} slot(s) but the recipients were "
            f"loaded with {len(sample)} value(s): load the CSV again"
        )
    result.add(
        "template",
        not problems,
        f"Template {template} cannot be used: {'; '.join(problems)}."
        if problems
        else f"Template {template} is approved with {template.slot_count} slot(s).",
    )


def _check_app(campaign: Campaign, result: Preflight) -> None:
    app = campaign.partner_app
    warnings = app.health_details.get("warnings") or []
    if not app.has_app_credentials:
        result.add(
            "app",
            False,
            f"{app} has no token and no credentials to get one "
            f"({app.get_token_kind_display()}).",
        )
    elif app.health_status not in HealthStatus.usable():
        result.add(
            "app",
            False,
            f"{app} is {app.get_health_status_display().lower()}"
            + (f" ({app.health_message})" if app.health_message else "")
            + ": run 'Check health' on the app first.",
        )
    elif app.health_status == HealthStatus.WARNING and warnings:
        result.add(
            "app",
            True,
            f"{app} can send, but {'; '.join(str(w) for w in warnings)}. This does "
            "not stop the campaign; act on it before sending to many.",
            warning=True,
        )
    else:
        result.add("app", True, f"{app} is healthy.")


def _check_tier(campaign: Campaign, result: Preflight) -> None:
    """More recipients than the number's messaging tier allows a day: WhatsApp
    refuses the rest until its moving 24 hours let more through."""
    tier = str(campaign.partner_app.health_details.get("messaging_limit") or "")
    limit = TIER_DAILY_LIMITS.get(tier)
    if limit is None or result.pending <= limit:
        return
    result.add(
        "tier",
        True,
        f"{campaign.partner_app}'s messaging tier {tier} lets WhatsApp reach at most "
        f"{limit:,} people a day (shared by the business portfolio's numbers); this "
        f"campaign has {result.pending:,} recipients, so WhatsApp may refuse the "
        "rest until its moving 24 hours allow more. This does not stop the campaign.",
        warning=True,
    )


def _check_media(campaign: Campaign, result: Preflight) -> None:
    assert result.last_due_at is not None
    link = campaign.media_file.public_url
    if not campaign.partner_app.is_capi:
        # Only CAPI apps can make media ids: the others send the image by its
        # public link, which Gupshup fetches.
        by_link = link.startswith("https://")
        result.add(
            "media",
            by_link,
            f"{campaign.partner_app} is not a Cloud API app: the image is sent by "
            f"its public link ({link})."
            if by_link
            else f"{campaign.partner_app} is not a Cloud API (CAPI) app, so it cannot "
            "have media ids: give the image a public https:// link on the media "
            "page (Gupshup fetches it from there), or send through a CAPI app.",
        )
        return
    valid = media_selectors.media_valid_for_app_until(
        media_file=campaign.media_file,
        partner_app=campaign.partner_app,
        until=result.last_due_at,
    )
    when = result.last_due_at.strftime("%Y-%m-%d %H:%M %Z")
    result.add(
        "media",
        valid,
        f"The image's media id is valid until after the last message ({when})."
        if valid
        else f"The image has no media id for {campaign.partner_app} that stays valid "
        f"until the last message is due ({when}): mirror or refresh it first.",
    )


def _check_lateness(campaign: Campaign, now: datetime, result: Preflight) -> None:
    if campaign.scheduled_at is None:
        return
    late = now - campaign.scheduled_at
    allowed = timedelta(minutes=settings.CAMPAIGN_LATE_START_MINUTES)
    if late > allowed:
        minutes = int(late.total_seconds() // 60)
        result.needs_confirmation = (
            f"This campaign was due {minutes} minute(s) ago; confirm that it should "
            "still go out now."
        )
