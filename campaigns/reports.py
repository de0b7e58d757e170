"""A campaign's report for reviewers (selectors): its funnel, its rates over time
and its failures explained. One recipient's timeline is in `timeline.py`, the
filtered recipients and their CSV export in `recipients_export.py`.

Every question is one or two grouped queries on indexed columns of one campaign;
nothing counts a whole table. On a campaign of 600,000 recipients the report
still costs about a second of database time, so `campaign_report` keeps a slow
one for REPORT_CACHE_SECONDS.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from django.core.cache import cache
from django.db.models import Count, DateTimeField, Max, Min, QuerySet
from django.db.models.functions import Coalesce, Trunc
from django.utils import timezone

from campaigns.models import Campaign, Recipient, RecipientStatus, StatusEvent
from campaigns.selectors import campaign_failure_groups
from gupshup_admin.providers.failure_codes import FailureCode, failure_explained

S = RecipientStatus
# A funnel is cumulative: a recipient that was read was also delivered, sent and
# submitted, whatever callbacks were lost on the way.
FUNNEL: list[tuple[str, str, list[str]]] = [
    ("submitted", "Submitted", [S.SUBMITTED, S.ENQUEUED, S.SENT, S.DELIVERED, S.READ]),
    ("sent", "Sent", [S.SENT, S.DELIVERED, S.READ]),
    ("delivered", "Delivered", [S.DELIVERED, S.READ]),
    ("read", "Read", [S.READ]),
]
FINE_SPAN = timedelta(hours=6)  # longer campaigns are bucketed by the hour
MAX_BUCKETS = 120
EVENT_SERIES = [S.DELIVERED, S.READ, S.FAILED]
SLOW_REPORT_SECONDS = 0.25
REPORT_CACHE_SECONDS = 60
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# --- the funnel ------------------------------------------------------------------


@dataclass(frozen=True)
class FunnelStep:
    key: str
    label: str
    count: int
    percent: float  # of all recipients


@dataclass(frozen=True)
class Funnel:
    total: int
    steps: list[FunnelStep]
    counts: dict[str, int]

    def count(self, status: str) -> int:
        return self.counts.get(status, 0)

    @property
    def side(self) -> list[FunnelStep]:
        """Outside the funnel: failed, unknown, not sent yet, cancelled."""
        waiting = self.count(S.PENDING) + self.count(S.SENDING)
        rows = [
            ("failed", "Failed", self.count(S.FAILED)),
            ("unknown", "Outcome unknown", self.count(S.UNKNOWN)),
            ("waiting", "Not sent yet", waiting),
            ("cancelled", "Cancelled", self.count(S.CANCELLED)),
        ]
        return [
            FunnelStep(k, label, n, _percent(n, self.total)) for k, label, n in rows
        ]


def _percent(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


def campaign_funnel(*, campaign: Campaign) -> Funnel:
    """Recipients by status (one query on the campaign+status index), cumulated."""
    rows = (
        Recipient.objects.filter(campaign=campaign)
        .values("status")
        .annotate(n=Count("*"))
        .order_by()
    )
    counts = {row["status"]: row["n"] for row in rows}
    total = sum(counts.values())
    steps = [
        FunnelStep(key, label, n, _percent(n, total))
        for key, label, statuses in FUNNEL
        for n in [sum(counts.get(s, 0) for s in statuses)]
    ]
    return Funnel(total=total, steps=steps, counts=counts)


# --- rates over time -------------------------------------------------------------


@dataclass
class RateBucket:
    start: datetime
    submitted: int = 0
    delivered: int = 0
    read: int = 0
    failed: int = 0

    def add(self, other: RateBucket) -> None:
        self.submitted += other.submitted
        self.delivered += other.delivered
        self.read += other.read
        self.failed += other.failed

    @property
    def peak(self) -> int:
        return max(self.submitted, self.delivered, self.read, self.failed)


@dataclass(frozen=True)
class Rates:
    minutes: int  # the width of one bucket
    buckets: list[RateBucket] = field(default_factory=list)

    @property
    def peak(self) -> int:
        return max((b.peak for b in self.buckets), default=0)

    @property
    def totals(self) -> RateBucket:
        total = RateBucket(start=self.buckets[0].start if self.buckets else _EPOCH)
        for bucket in self.buckets:
            total.add(bucket)
        return total


def campaign_rates(*, campaign: Campaign, max_buckets: int = MAX_BUCKETS) -> Rates:
    """Submissions, deliveries, reads and failures per minute (per hour for a
    campaign that sent for more than FINE_SPAN), gaps filled with zeros, and
    neighbouring buckets merged so that at most `max_buckets` remain."""
    recipients = Recipient.objects.filter(campaign=campaign)
    span = recipients.aggregate(first=Min("submitted_at"), last=Max("submitted_at"))
    if span["first"] is None:
        return Rates(minutes=1)
    kind: Literal["minute", "hour"] = (
        "minute" if span["last"] - span["first"] <= FINE_SPAN else "hour"
    )
    buckets: dict[datetime, RateBucket] = {}
    sends = (
        recipients.filter(submitted_at__isnull=False)
        .annotate(bucket=Trunc("submitted_at", kind))
        .values("bucket")
        .annotate(n=Count("*"))
        .order_by()
    )
    for row in sends:
        bucket = buckets.setdefault(row["bucket"], RateBucket(row["bucket"]))
        bucket.submitted = row["n"]
    for row in _event_counts(campaign.pk, kind):
        bucket = buckets.setdefault(row["bucket"], RateBucket(row["bucket"]))
        setattr(bucket, row["status"], row["n"])
    width = timedelta(minutes=1) if kind == "minute" else timedelta(hours=1)
    return _bucketed(buckets, width, max_buckets)


def _event_counts(campaign_id: int, kind: str) -> QuerySet[Any, dict[str, Any]]:
    at = Coalesce("occurred_at", "received_at", output_field=DateTimeField())
    return (
        StatusEvent.objects.filter(
            recipient__campaign_id=campaign_id, status__in=EVENT_SERIES
        )
        .annotate(bucket=Trunc(at, kind, output_field=DateTimeField()))
        .values("bucket", "status")
        .annotate(n=Count("*"))
        .order_by()
    )


def _bucketed(
    buckets: dict[datetime, RateBucket], width: timedelta, most: int
) -> Rates:
    """Zero-filled buckets from the first to the last, neighbours merged so that
    at most `most` remain (a stray timestamp cannot blow the series up)."""
    if not buckets:
        return Rates(minutes=int(width.total_seconds() // 60))
    start, end = min(buckets), max(buckets)
    slots = int((end - start) / width) + 1
    factor = max(1, math.ceil(slots / most))
    step = width * factor
    merged = [RateBucket(start + n * step) for n in range(math.ceil(slots / factor))]
    for at, bucket in buckets.items():
        merged[int((at - start) / step)].add(bucket)
    return Rates(minutes=int(step.total_seconds() // 60), buckets=merged)


# --- failures ----------------------------------------------------------------------


@dataclass(frozen=True)
class ExplainedFailure:
    code: str
    count: int
    message: str  # the provider's own words, from one of the recipients
    explanation: FailureCode


def campaign_failures_explained(*, campaign: Campaign) -> list[ExplainedFailure]:
    """Failed recipients grouped by code, biggest first, each explained."""
    groups = campaign_failure_groups(campaign=campaign)
    return [
        ExplainedFailure(g.code, g.count, g.message, failure_explained(g.code))
        for g in groups
    ]


# --- the three together, kept a while when they were slow -----------------------


@dataclass(frozen=True)
class CampaignReport:
    funnel: Funnel
    rates: Rates
    failures: list[ExplainedFailure]
    computed_at: datetime
    seconds: float  # how long the counting took
    cached: bool = False


def campaign_report(*, campaign: Campaign, fresh: bool = False) -> CampaignReport:
    """The funnel, the rates and the failures. One that took longer than
    SLOW_REPORT_SECONDS is kept for REPORT_CACHE_SECONDS (every reviewer's page
    load would otherwise count the campaign again); `fresh` counts anew."""
    key = f"campaign-report:{campaign.pk}:{campaign.created_at.timestamp()}"
    kept = None if fresh else cache.get(key)
    if isinstance(kept, CampaignReport):
        return replace(kept, cached=True)
    started = time.monotonic()
    funnel = campaign_funnel(campaign=campaign)
    rates = campaign_rates(campaign=campaign)
    failures = campaign_failures_explained(campaign=campaign)
    seconds = time.monotonic() - started
    report = CampaignReport(funnel, rates, failures, timezone.now(), seconds)
    if seconds >= SLOW_REPORT_SECONDS:
        cache.set(key, report, REPORT_CACHE_SECONDS)
    return report
