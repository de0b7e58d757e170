"""Read-side questions about campaigns: progress, rate, ETA, failures."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Max
from django.utils import timezone

from campaigns.models import (
    Campaign,
    CampaignState,
    Recipient,
    RecipientStatus,
    SendAttempt,
)
from gupshup_admin.providers.failure_codes import failure_explained

RATE_WINDOW = timedelta(seconds=60)
MIN_WINDOW = timedelta(seconds=5)


@dataclass(frozen=True)
class FailureGroup:
    code: str
    count: int
    message: str

    @property
    def permanent(self) -> bool:
        """Sending again will not change it (not on WhatsApp, opted out…)."""
        return failure_explained(self.code).kind == "permanent"

    @property
    def label(self) -> str:
        return failure_explained(self.code).label


@dataclass
class Progress:
    state: str
    state_label: str
    state_reason: str
    counts: dict[str, int] = field(default_factory=dict)
    total: int = 0
    rate_per_minute: float = 0.0
    eta_seconds: float | None = None
    failures: list[FailureGroup] = field(default_factory=list)

    @property
    def settled(self) -> int:
        open_ = RecipientStatus.PENDING, RecipientStatus.SENDING
        return self.total - sum(self.counts.get(s, 0) for s in open_)

    @property
    def percent(self) -> int:
        return int(100 * self.settled / self.total) if self.total else 0

    def as_json(self) -> dict[str, object]:
        return {
            "state": self.state,
            "state_label": self.state_label,
            "state_reason": self.state_reason,
            "counts": self.counts,
            "total": self.total,
            "settled": self.settled,
            "percent": self.percent,
            "rate_per_minute": round(self.rate_per_minute, 1),
            "eta_seconds": self.eta_seconds,
            "failures": [
                {**vars(f), "permanent": f.permanent, "label": f.label}
                for f in self.failures
            ],
        }


def campaign_progress(*, campaign: Campaign, now: datetime | None = None) -> Progress:
    """Counts by status, the achieved rate over the last minute, and the ETA."""
    now = now or timezone.now()
    rows = Recipient.objects.filter(campaign=campaign)
    counts = {
        row["status"]: row["n"]
        for row in rows.values("status").annotate(n=Count("pk")).order_by()
    }
    progress = Progress(
        state=campaign.state,
        state_label=campaign.get_state_display(),
        state_reason=campaign.state_reason,
        counts={status: counts.get(status, 0) for status in RecipientStatus.values},
        total=sum(counts.values()),
    )
    # Every accepted request counts towards the rate, retries included.
    recent = SendAttempt.objects.filter(
        campaign=campaign, submitted_at__gte=now - RATE_WINDOW
    ).count()
    progress.rate_per_minute = recent * 60 / _window(campaign, now).total_seconds()
    waiting = counts.get(RecipientStatus.PENDING, 0) + counts.get(
        RecipientStatus.SENDING, 0
    )
    if waiting and campaign.state == CampaignState.RUNNING:
        rate = progress.rate_per_minute or campaign.partner_app.send_rate_per_minute
        progress.eta_seconds = round(waiting / rate * 60)
    progress.failures = campaign_failure_groups(campaign=campaign)
    return progress


def _window(campaign: Campaign, now: datetime) -> timedelta:
    """The last minute, or the time since the start when that is shorter (a
    fixed minute would make the first minute's rate, and so the ETA, look bad)."""
    if campaign.started_at is None:
        return RATE_WINDOW
    running = now - campaign.started_at
    return max(min(running, RATE_WINDOW), MIN_WINDOW)


def campaign_failure_groups(*, campaign: Campaign) -> list[FailureGroup]:
    """Failed recipients grouped by error code, biggest group first."""
    groups = (
        Recipient.objects.filter(campaign=campaign, status=RecipientStatus.FAILED)
        .values("error_code")
        .annotate(n=Count("pk"), message=Max("error_message"))
        .order_by("-n", "error_code")
    )
    return [
        FailureGroup(code=g["error_code"], count=g["n"], message=g["message"] or "")
        for g in groups
    ]
