"""Healing after a worker died: orphaned sends, silent senders, due schedules.

`campaigns_tick` runs from `manage.py campaigns_tick` (a loop in the demo, cron in
production); every sender also recovers its own campaign's orphans.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from campaigns.callbacks import status_events_match_parked
from campaigns.ingest import webhooks_drain_watchdog
from campaigns.models import Campaign, CampaignState, Recipient, RecipientStatus
from campaigns.settle import requeue
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

    The exchange row is written before a request leaves: without one the request
    never left and the row is pending again; with one it may have arrived, so the
    row is unknown, never re-sent.
    """
    rows = Recipient.objects.filter(
        status=RecipientStatus.SENDING, claimed_at__lt=_stale_before(now)
    )
    if campaign_id is not None:
        rows = rows.filter(campaign_id=campaign_id)
    requeued = unknown = 0
    values = rows.values_list("pk", "campaign_id", "claimed_at", "claimed_by")
    for pk, owner, claimed_at, claim in values:
        exchange = (
            ApiExchange.objects.filter(
                ref=f"recipient:{pk}", created_at__gte=claimed_at
            )
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
        if exchange is None:
            requeued += requeue(mine, campaign_id=owner)
        else:
            unknown += _unknown(mine, exchange)
    return requeued, unknown


def _unknown(mine: QuerySet[Recipient], exchange: int) -> int:
    """The orphan's request left: unknown, and its exchange (still "sending",
    since the worker died before recording the answer) closed with the reason."""
    settled = mine.update(
        status=RecipientStatus.UNKNOWN,
        updated_at=timezone.now(),
        exchange_id=exchange,
        error_code="worker-stopped",
        error_message=ORPHAN_MESSAGE,
        claimed_by="",
    )
    if settled:
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
    from campaigns import services

    now = now or timezone.now()
    requeued, unknown = recipients_recover_orphans(now=now)
    started = 0
    due = Campaign.objects.filter(state=CampaignState.SCHEDULED, scheduled_at__lte=now)
    for campaign in due:
        started += services.campaign_start_scheduled(campaign=campaign)
    revived = 0
    for campaign in Campaign.objects.filter(state=CampaignState.RUNNING):
        revived += services.campaign_revive_senders(
            campaign=campaign, silent_since=_stale_before(now)
        )
    matched = status_events_match_parked()
    drain = webhooks_drain_watchdog(now=now)
    return TickResult(started, revived, requeued, unknown, matched, drain)
