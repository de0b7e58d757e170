"""Settling a claimed recipient whose attempt did not succeed, by what went wrong.

A 429 slows the app down and puts the recipient back unharmed; a refused token is
counted and pauses the campaign after a few in a row; an answer about the app
itself (Callback Billing off, an app Gupshup does not know) puts the recipient
back and pauses the campaign at once, since every send would get it; an outcome
that may have reached Gupshup is unknown (never re-sent blindly); other
transient errors are retried later with backoff; permanent ones fail. The
attempt keeps what happened (its exchange, the provider's code and words) and
becomes the recipient's latest; an attempt whose request never left is
removed, since nothing was sent. `requeue` is also how recovery gives back the
rows of a dead worker.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from enum import Enum
from typing import Any

from django.conf import settings
from django.db.models import F, QuerySet
from django.utils import timezone

from campaigns.dispatch.pauses import campaign_pause_for
from campaigns.models import (
    AttemptStatus,
    Campaign,
    CampaignState,
    Recipient,
    RecipientStatus,
    SendAttempt,
)
from gupshup_admin.exceptions import ApplicationError
from gupshup_admin.models import ApiExchange
from gupshup_admin.providers.errors import (
    AppNotUsableError,
    AuthenticationError,
    ProviderError,
    RateLimitedError,
)
from gupshup_admin.ratelimit import rate_throttled

logger = logging.getLogger(__name__)


class NotSent(Enum):
    """How a send that did not succeed was settled (one that did is its
    accepted `SendAttempt`)."""

    SETTLED = "settled"  # failed, unknown or retried later; the batch goes on
    STOP_BATCH = "stop"  # throttled, auth trouble, app unusable, campaign stopped


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
    attempt: SendAttempt,
    claimed: QuerySet[Recipient],
    exc: ProviderError | ApplicationError,
) -> NotSent:
    """Settle a send that did not succeed, by what went wrong."""
    sent: SendAttempt | None = attempt
    if not _request_left(attempt):
        attempt.delete()
        sent = None
    if isinstance(exc, RateLimitedError):
        _throttled(campaign, claimed, sent, exc)
    elif isinstance(exc, AuthenticationError):
        _auth_failed(campaign, claimed, sent, exc)
    elif isinstance(exc, AppNotUsableError):
        _app_not_usable(campaign, claimed, sent, exc)
    elif isinstance(exc, ApplicationError):
        requeue(claimed, campaign_id=campaign.pk)
        campaign_pause_for(campaign, exc.message)
    else:
        _failed(recipient, claimed, sent, exc)
        return NotSent.SETTLED
    return NotSent.STOP_BATCH


def _request_left(attempt: SendAttempt) -> bool:
    """Whether a request of this attempt reached the wire (its exchange row is
    written before it leaves)."""
    return ApiExchange.objects.filter(ref=attempt.exchange_ref).exists()


def _error_code(exc: ProviderError) -> str:
    code = exc.provider_code or (str(exc.status_code) if exc.status_code else "")
    return code or type(exc).__name__


def _attempt_settle(
    attempt: SendAttempt | None, status: str, exc: ProviderError, message: str = ""
) -> dict[str, Any]:
    """Record how the attempt ended; returns the recipient's changes that make
    it the latest attempt."""
    if attempt is None:
        return {}
    now = timezone.now()
    attempt.status = status
    attempt.exchange_id = exc.exchange_id or attempt.exchange_id
    attempt.error_code = _error_code(exc)
    attempt.error_message = message or str(exc)
    attempt.failed_at = now if status == AttemptStatus.FAILED else None
    attempt.save(
        update_fields=[
            "status",
            "exchange",
            "error_code",
            "error_message",
            "failed_at",
            "updated_at",
        ]
    )
    return {"latest_attempt_id": attempt.pk, "attempts": attempt.number}


def _throttled(
    campaign: Campaign,
    claimed: QuerySet[Recipient],
    attempt: SendAttempt | None,
    exc: RateLimitedError,
) -> None:
    """A 429: the app pauses and slows down; the recipient waits, unharmed."""
    pause = exc.retry_after or settings.CAMPAIGN_THROTTLE_PAUSE_SECONDS
    rate_throttled(app=campaign.partner_app, pause_seconds=pause)
    _requeue(campaign, claimed, attempt, exc)
    logger.warning("%s: rate limited by Gupshup; pausing %.0f s", campaign, pause)


def _auth_failed(
    campaign: Campaign,
    claimed: QuerySet[Recipient],
    attempt: SendAttempt | None,
    exc: AuthenticationError,
) -> None:
    _requeue(campaign, claimed, attempt, exc)
    Campaign.objects.filter(pk=campaign.pk).update(auth_failures=F("auth_failures") + 1)
    campaign.refresh_from_db(fields=["auth_failures"])
    if campaign.auth_failures >= settings.CAMPAIGN_AUTH_FAILURES_TO_PAUSE:
        fix = exc.fix.format(app=campaign.partner_app)
        campaign_pause_for(
            campaign,
            f"Gupshup refused {exc.credential} {campaign.auth_failures} times in a "
            f"row ({exc.message}). {fix}, run 'Check health', then resume.",
        )


def _app_not_usable(
    campaign: Campaign,
    claimed: QuerySet[Recipient],
    attempt: SendAttempt | None,
    exc: AppNotUsableError,
) -> None:
    """Gupshup answered about the app, not the recipient: the recipient waits,
    unharmed, and the campaign pauses at once (the app was marked unhealthy by
    `with_app_client`)."""
    _requeue(campaign, claimed, attempt, exc)
    campaign_pause_for(
        campaign,
        f"Gupshup refused to send through {campaign.partner_app}, whoever the "
        f"recipient: {exc.message} {exc.hint} Nobody was marked failed: the "
        "recipients wait for the resume.",
    )


def _requeue(
    campaign: Campaign,
    claimed: QuerySet[Recipient],
    attempt: SendAttempt | None,
    exc: ProviderError,
) -> None:
    """Back to pending without counting against the recipient's retries."""
    latest = _attempt_settle(attempt, AttemptStatus.REQUEUED, exc)
    requeue(claimed, campaign_id=campaign.pk, **latest)


def _failed(
    recipient: Recipient,
    claimed: QuerySet[Recipient],
    attempt: SendAttempt | None,
    exc: ProviderError,
) -> None:
    """Unknown, retry later, or failed, by what the error says."""
    code = _error_code(exc)
    common: dict[str, Any] = {"error_code": code, "error_message": str(exc)}
    settled = {**common, "claimed_by": "", "updated_at": timezone.now()}
    if exc.outcome_unknown:
        latest = _attempt_settle(attempt, AttemptStatus.UNKNOWN, exc)
        claimed.update(status=RecipientStatus.UNKNOWN, **settled, **latest)
        return
    retries = recipient.retries + 1
    if not exc.permanent and retries <= settings.CAMPAIGN_SEND_MAX_RETRIES:
        backoff = settings.CAMPAIGN_RETRY_BACKOFF_SECONDS * 2 ** (retries - 1)
        latest = _attempt_settle(attempt, AttemptStatus.REQUEUED, exc)
        requeue(
            claimed,
            campaign_id=recipient.campaign_id,
            retries=retries,
            next_attempt_at=timezone.now() + timedelta(seconds=min(backoff, 3600)),
            **common,
            **latest,
        )
        return
    if not exc.permanent:
        settled["error_message"] = f"Gave up after {retries} attempts: {exc}"
    latest = _attempt_settle(
        attempt, AttemptStatus.FAILED, exc, message=settled["error_message"]
    )
    claimed.update(status=RecipientStatus.FAILED, retries=retries, **settled, **latest)
