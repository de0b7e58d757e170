"""Settling a claimed recipient that was not sent, by what went wrong.

A 429 slows the app down and puts the recipient back unharmed; a refused token is
counted and pauses the campaign after a few in a row; an outcome that may have
reached Gupshup is unknown (never re-sent blindly); other transient errors are
retried later with backoff; permanent ones fail. `requeue` is also how recovery
gives back the rows of a dead worker.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from enum import Enum
from typing import Any

from django.conf import settings
from django.db.models import F, QuerySet
from django.utils import timezone

from campaigns.models import Campaign, CampaignState, Recipient, RecipientStatus
from campaigns.notify import campaign_pause_for
from gupshup_admin.exceptions import ApplicationError
from gupshup_admin.providers.errors import (
    AuthenticationError,
    ProviderError,
    RateLimitedError,
)
from gupshup_admin.ratelimit import rate_throttled

logger = logging.getLogger(__name__)


class Outcome(Enum):
    SENT = "sent"
    DONE = "done"  # settled without success: failed, unknown, retry later
    STOP = "stop"  # stop this batch: throttled, auth trouble, campaign stopped


def requeue(rows: QuerySet[Recipient], *, campaign_id: int, **changes: Any) -> int:
    """Put claimed rows back in the queue; cancelled instead when the campaign was
    cancelled meanwhile (its cancel only cancels the rows pending at that moment)."""
    now = timezone.now()
    count = rows.update(
        status=RecipientStatus.PENDING,
        claimed_at=None,
        claimed_by="",
        updated_at=now,
        **changes,
    )
    cancelled = Campaign.objects.filter(pk=campaign_id, state=CampaignState.CANCELLED)
    if count and cancelled.exists():
        Recipient.objects.filter(
            campaign_id=campaign_id, status=RecipientStatus.PENDING
        ).update(status=RecipientStatus.CANCELLED, updated_at=now)
    return count


def not_sent(
    campaign: Campaign,
    recipient: Recipient,
    mine: QuerySet[Recipient],
    exc: ProviderError | ApplicationError,
) -> Outcome:
    """Settle a send that did not succeed, by what went wrong."""
    if isinstance(exc, RateLimitedError):
        _throttled(campaign, mine, exc)
    elif isinstance(exc, AuthenticationError):
        _auth_failed(campaign, mine, exc)
    elif isinstance(exc, ApplicationError):
        requeue(mine, campaign_id=campaign.pk)
        campaign_pause_for(campaign, exc.message)
    else:
        _failed(recipient, mine, exc)
        return Outcome.DONE
    return Outcome.STOP


def _throttled(
    campaign: Campaign, mine: QuerySet[Recipient], exc: RateLimitedError
) -> None:
    """A 429: the app pauses and slows down; the recipient waits, unharmed."""
    pause = exc.retry_after or settings.CAMPAIGN_THROTTLE_PAUSE_SECONDS
    rate_throttled(app=campaign.partner_app, pause_seconds=pause)
    _requeue(campaign, mine, exc)
    logger.warning("%s: rate limited by Gupshup; pausing %.0f s", campaign, pause)


def _auth_failed(
    campaign: Campaign, mine: QuerySet[Recipient], exc: AuthenticationError
) -> None:
    _requeue(campaign, mine, exc)
    Campaign.objects.filter(pk=campaign.pk).update(auth_failures=F("auth_failures") + 1)
    campaign.refresh_from_db(fields=["auth_failures"])
    if campaign.auth_failures >= settings.CAMPAIGN_AUTH_FAILURES_TO_PAUSE:
        campaign_pause_for(
            campaign,
            f"Gupshup refused the app token {campaign.auth_failures} times in a row "
            f"({exc.message}). Fix the token of {campaign.partner_app} (paste a new "
            "one or fetch it), run 'Check health', then resume.",
        )


def _requeue(campaign: Campaign, mine: QuerySet[Recipient], exc: ProviderError) -> None:
    """Back to pending without counting against the recipient's retries."""
    requeue(
        mine,
        campaign_id=campaign.pk,
        attempts=F("attempts") + 1,
        exchange_id=exc.exchange_id,
    )


def _failed(
    recipient: Recipient, mine: QuerySet[Recipient], exc: ProviderError
) -> None:
    """Unknown, retry later, or failed, by what the error says."""
    code = exc.provider_code or (str(exc.status_code) if exc.status_code else "")
    common: dict[str, Any] = {
        "attempts": F("attempts") + 1,
        "exchange_id": exc.exchange_id,
        "error_code": code or type(exc).__name__,
        "error_message": str(exc),
    }
    settled = {**common, "claimed_by": "", "updated_at": timezone.now()}
    if exc.outcome_unknown:
        mine.update(status=RecipientStatus.UNKNOWN, **settled)
        return
    retries = recipient.retries + 1
    if not exc.permanent and retries <= settings.CAMPAIGN_SEND_MAX_RETRIES:
        backoff = settings.CAMPAIGN_RETRY_BACKOFF_SECONDS * 2 ** (retries - 1)
        requeue(
            mine,
            campaign_id=recipient.campaign_id,
            retries=retries,
            next_attempt_at=timezone.now() + timedelta(seconds=min(backoff, 3600)),
            **common,
        )
        return
    if not exc.permanent:
        settled["error_message"] = f"Gave up after {retries} attempts: {exc}"
    mine.update(status=RecipientStatus.FAILED, retries=retries, **settled)
