"""Stopping a campaign on its own, and telling its owner why."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail

from campaigns.models import Campaign, CampaignState

logger = logging.getLogger(__name__)


def campaign_pause_for(campaign: Campaign, reason: str) -> bool:
    """Pause a running campaign because of `reason` and tell its owner.

    Returns False when it was not running (someone else paused it first).
    """
    paused = Campaign.objects.filter(
        pk=campaign.pk, state=CampaignState.RUNNING
    ).update(state=CampaignState.PAUSED, state_reason=reason)
    if not paused:
        return False
    campaign.state, campaign.state_reason = CampaignState.PAUSED, reason
    logger.warning("Campaign %s paused: %s", campaign, reason)
    owner = campaign.created_by
    if owner is not None and owner.email:
        send_mail(
            f"Campaign paused: {campaign}",
            f"{reason}\n\n{settings.SITE_URL}/campaigns/{campaign.pk}/",
            None,
            [owner.email],
            fail_silently=True,
        )
    return True
