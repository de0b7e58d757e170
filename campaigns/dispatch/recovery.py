"""Healing after a worker died: sends it left half-done.

Every sender recovers its own campaign's orphans when its slice starts; the
tick (`campaigns/lifecycle/tick.py`) does it for all campaigns.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from campaigns.dispatch.outcomes import requeue
from campaigns.models import (
    AttemptStatus,
    Recipient,
    RecipientStatus,
    SendAttempt,
)
from gupshup_admin.models import ApiExchange, ExchangeOutcome

ORPHAN_MESSAGE = (
    "The worker stopped while sending; Gupshup may have received the request. "
    "A delivery callback settles it, or check the exchange and resolve it by hand."
)
ORPHAN_EXCHANGE_MESSAGE = (
    "No answer was recorded: the worker stopped during the request. The provider "
    "may have received it; the recipient is marked unknown."
)


def stale_before(now: datetime | None = None) -> datetime:
    """Claims and heartbeats older than this belong to a worker that died."""
    return (now or timezone.now()) - timedelta(seconds=settings.CAMPAIGN_STALE_SECONDS)


def recipients_recover_orphans(
    *, campaign_id: int | None = None, now: datetime | None = None
) -> tuple[int, int]:
    """Settle rows left "sending" by a dead worker. Returns (re-queued, unknown).

    The attempt and its exchange row are written before a request leaves:
    without an exchange the request never left, so the attempt goes and the row
    is pending again; with one it may have arrived, so the attempt and the row
    are unknown, never re-sent.
    """
    rows = Recipient.objects.filter(
        status=RecipientStatus.SENDING, claimed_at__lt=stale_before(now)
    )
    if campaign_id is not None:
        rows = rows.filter(campaign_id=campaign_id)
    requeued = unknown = 0
    values = rows.values_list("pk", "campaign_id", "claimed_at", "claimed_by")
    for pk, owner, claimed_at, claim in values:
        attempt = SendAttempt.objects.filter(recipient_id=pk, claim=claim).first()
        exchange = None
        if attempt is not None:
            exchange = (
                ApiExchange.objects.filter(ref=attempt.exchange_ref)
                .order_by("-created_at")
                .values_list("pk", flat=True)
                .first()
            )
        # claimed_at too: a live worker touches its claim right before the request
        # leaves, so a row touched since the scan is not ours to settle.
        claimed = Recipient.objects.filter(
            pk=pk,
            status=RecipientStatus.SENDING,
            claimed_by=claim,
            claimed_at=claimed_at,
        )
        if attempt is not None and attempt.status != AttemptStatus.SENDING:
            # The worker settled the attempt, then died before its recipient.
            requeued += _settled(claimed, attempt, owner)
        elif attempt is None or exchange is None:
            with transaction.atomic():
                count = requeue(claimed, campaign_id=owner)
                if count and attempt is not None:
                    attempt.delete()
            requeued += count
        else:
            unknown += _unknown(claimed, attempt, exchange)
    return requeued, unknown


def _settled(claimed: QuerySet[Recipient], attempt: SendAttempt, owner: int) -> int:
    """The recipient takes its settled attempt's outcome. Returns 1 when that
    put it back in the queue."""
    latest = {"latest_attempt": attempt, "attempts": attempt.number}
    if attempt.status == AttemptStatus.REQUEUED:
        return requeue(claimed, campaign_id=owner, **latest)
    claimed.update(
        status=attempt.status,
        error_code=attempt.error_code,
        error_message=attempt.error_message,
        claimed_by="",
        updated_at=timezone.now(),
        **latest,
    )
    return 0


def _unknown(claimed: QuerySet[Recipient], attempt: SendAttempt, exchange: int) -> int:
    """The orphan's request left: its attempt is unknown, and its exchange
    (still "sending", since the worker died before recording the answer) closed
    with the reason."""
    with transaction.atomic():
        settled = claimed.update(
            status=RecipientStatus.UNKNOWN,
            updated_at=timezone.now(),
            latest_attempt=attempt,
            attempts=attempt.number,
            error_code="worker-stopped",
            error_message=ORPHAN_MESSAGE,
            claimed_by="",
        )
        if not settled:
            return 0
        SendAttempt.objects.filter(pk=attempt.pk, status=AttemptStatus.SENDING).update(
            status=AttemptStatus.UNKNOWN,
            exchange_id=exchange,
            error_code="worker-stopped",
            error_message=ORPHAN_MESSAGE,
            updated_at=timezone.now(),
        )
        ApiExchange.objects.filter(pk=exchange, outcome=ExchangeOutcome.SENDING).update(
            outcome=ExchangeOutcome.ERROR,
            error_class="WorkerStopped",
            error_message=ORPHAN_EXCHANGE_MESSAGE,
        )
    return settled
