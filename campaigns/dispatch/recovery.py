"""Healing after a worker died: orphaned sends, silent senders, due schedules.

`campaigns_tick` runs from `manage.py campaigns_tick` (a loop in the demo, cron in
production); every sender also recovers its own campaign's orphans.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from campaigns.dispatch.outcomes import requeue
from campaigns.models import (
    AttemptStatus,
    Campaign,
    CampaignState,
    Recipient,
    RecipientStatus,
    SendAttempt,
)
from campaigns.statuses.machine import status_events_match_parked
from campaigns.statuses.receiving import webhooks_drain_watchdog
from gupshup_admin.models import ApiExchange, ExchangeOutcome

ORPHAN_MESSAGE = (
    "The worker stopped while sending; Gupshup may have received the request. "
    "A delivery callback settles it, or check the exchange and resolve it by hand."
)
ORPHAN_EXCHANGE_MESSAGE = (
    "No answer was recorded: the worker stopped during the request. The provider "
    "may have received it; the recipient is marked unknown."
)


def _stale_before(now: datetime | None = None) -> datetime:
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
        status=RecipientStatus.SENDING, claimed_at__lt=_stale_before(now)
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
        mine = Recipient.objects.filter(
            pk=pk,
            status=RecipientStatus.SENDING,
            claimed_by=claim,
            claimed_at=claimed_at,
        )
        if attempt is not None and attempt.status != AttemptStatus.SENDING:
            # The worker settled the attempt, then died before its recipient.
            requeued += _settled(mine, attempt, owner)
        elif attempt is None or exchange is None:
            with transaction.atomic():
                count = requeue(mine, campaign_id=owner)
                if count and attempt is not None:
                    attempt.delete()
            requeued += count
        else:
            unknown += _unknown(mine, attempt, exchange)
    return requeued, unknown


def _settled(mine: QuerySet[Recipient], attempt: SendAttempt, owner: int) -> int:
    """The recipient takes its settled attempt's outcome. Returns 1 when that
    put it back in the queue."""
    latest = {"latest_attempt": attempt, "attempts": attempt.number}
    if attempt.status == AttemptStatus.REQUEUED:
        return requeue(mine, campaign_id=owner, **latest)
    mine.update(
        status=attempt.status,
        error_code=attempt.error_code,
        error_message=attempt.error_message,
        claimed_by="",
        updated_at=timezone.now(),
        **latest,
    )
    return 0


def _unknown(mine: QuerySet[Recipient], attempt: SendAttempt, exchange: int) -> int:
    """The orphan's request left: its attempt is unknown, and its exchange
    (still "sending", since the worker died before recording the answer) closed
    with the reason."""
    with transaction.atomic():
        settled = mine.update(
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


@dataclass(frozen=True)
class TickResult:
    started: int = 0
    revived: int = 0
    requeued: int = 0
    unknown: int = 0
    matched: int = 0
    drain_requested: bool = False

    def __str__(self) -> str:
        drain = ", a drain requested for waiting callbacks"
        return (
            f"{self.started} scheduled campaign(s) started, {self.revived} sender(s) "
            f"revived, {self.requeued} orphaned send(s) re-queued, {self.unknown} "
            f"marked unknown, {self.matched} parked callback(s) matched"
            f"{drain if self.drain_requested else ''}"
        )


def campaigns_tick(*, now: datetime | None = None) -> TickResult:
    """Start due scheduled campaigns, revive silent senders, settle orphans."""
    from campaigns.lifecycle import controls

    now = now or timezone.now()
    requeued, unknown = recipients_recover_orphans(now=now)
    started = 0
    due = Campaign.objects.filter(state=CampaignState.SCHEDULED, scheduled_at__lte=now)
    for campaign in due:
        started += controls.campaign_start_scheduled(campaign=campaign)
    revived = 0
    for campaign in Campaign.objects.filter(state=CampaignState.RUNNING):
        revived += controls.campaign_revive_senders(
            campaign=campaign, silent_since=_stale_before(now)
        )
    matched = status_events_match_parked()
    drain = webhooks_drain_watchdog(now=now)
    return TickResult(started, revived, requeued, unknown, matched, drain)
