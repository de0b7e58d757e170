"""The tick: what happens because time passed rather than because someone
pressed a button. Scheduled campaigns that are due start, senders of workers
that died are revived and the sends they left half-done settled, callbacks that
beat their send are matched, and a stalled drain is requested again.

It runs from `manage.py campaigns_tick` (a loop with `--every` in the demo, cron
in production).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from campaigns.dispatch.recovery import recipients_recover_orphans, stale_before
from campaigns.dispatch.slots import senders_ensure
from campaigns.lifecycle import controls
from campaigns.models import Campaign, CampaignState
from campaigns.statuses.machine import status_events_match_parked
from campaigns.statuses.receiving import webhooks_drain_watchdog


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
    now = now or timezone.now()
    requeued, unknown = recipients_recover_orphans(now=now)
    revived = 0
    if Campaign.objects.filter(state=CampaignState.RUNNING).exists():
        revived = senders_ensure(silent_since=stale_before(now))
    started = 0
    due = Campaign.objects.filter(state=CampaignState.SCHEDULED, scheduled_at__lte=now)
    for campaign in due:
        started += controls.campaign_start_scheduled(campaign=campaign)
    matched = status_events_match_parked()
    drain = webhooks_drain_watchdog(now=now)
    return TickResult(started, revived, requeued, unknown, matched, drain)
