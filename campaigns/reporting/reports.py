"""A campaign's report for reviewers (selectors): its funnel, its rates over time
and its failures explained. One recipient's timeline is in `timeline.py`, the
filtered recipients and their CSV export in `export.py`.

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
from typing import Any

from django.core.cache import cache
from django.db.models import Case, Count, DateTimeField, Q, When
from django.db.models.functions import Coalesce, Trunc
from django.utils import timezone

from campaigns.models import (
    AttemptStatus,
    Campaign,
    Recipient,
    RecipientStatus,
    SendAttempt,
)
from campaigns.reporting.progress import campaign_failure_groups
from gupshup_admin.providers.failure_codes import FailureCode, failure_explained

# A funnel is cumulative: a recipient that was read was also delivered, sent and
# submitted, whatever callbacks were lost on the way. Recipients are counted by
# their latest attempt; "submitted" means Gupshup accepted it, so a message
# WhatsApp failed afterwards (131049…) was submitted, and failed.
ACCEPTED = [
    RecipientStatus.SUBMITTED,
    RecipientStatus.ENQUEUED,
    RecipientStatus.SENT,
    RecipientStatus.DELIVERED,
    RecipientStatus.READ,
]
FUNNEL: list[tuple[str, str, list[str]]] = [
    ("submitted", "Submitted", [*ACCEPTED, RecipientStatus.FAILED]),
    (
        "sent",
        "Sent",
        [RecipientStatus.SENT, RecipientStatus.DELIVERED, RecipientStatus.READ],
    ),
    ("delivered", "Delivered", [RecipientStatus.DELIVERED, RecipientStatus.READ]),
    ("read", "Read", [RecipientStatus.READ]),
]
FINE_SPAN = timedelta(hours=6)  # longer campaigns are bucketed by the hour
MAX_BUCKETS = 120
_AT: DateTimeField[Any, Any] = DateTimeField()
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
    attempts: int | None = None  # the attempts that got this far, retries included


@dataclass(frozen=True)
class Funnel:
    total: int
    steps: list[FunnelStep]
    counts: dict[str, int]
    attempts: int = 0  # every request that left for these recipients
    failed_after_submission: int = 0
    attempt_counts: dict[str, int] = field(default_factory=dict)

    def count(self, status: str) -> int:
        return self.counts.get(status, 0)

    @property
    def side(self) -> list[FunnelStep]:
        """Outside the funnel: failed, unknown, not sent yet, cancelled."""
        waiting = self.count(RecipientStatus.PENDING) + self.count(
            RecipientStatus.SENDING
        )
        rows = [
            ("failed", "Failed", self.count(RecipientStatus.FAILED), "failed"),
            (
                "unknown",
                "Outcome unknown",
                self.count(RecipientStatus.UNKNOWN),
                "unknown",
            ),
            ("waiting", "Not sent yet", waiting, ""),
            ("cancelled", "Cancelled", self.count(RecipientStatus.CANCELLED), ""),
        ]
        return [
            FunnelStep(
                key,
                label,
                n,
                _percent(n, self.total),
                self.attempt_counts.get(of) if of else None,
            )
            for key, label, n, of in rows
        ]


def _percent(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


def campaign_funnel(*, campaign: Campaign) -> Funnel:
    """Recipients by the status of their latest attempt (one query on the
    campaign+status index, joined to the latest attempts for "accepted"),
    cumulated; beside each step, the attempts (retries included) that got as
    far."""
    rows = (
        Recipient.objects.filter(campaign=campaign)
        .values("status")
        .annotate(n=Count("*"), accepted=Count("latest_attempt__submitted_at"))
        .order_by()
    )
    counts, accepted = {}, {}
    for row in rows:
        counts[row["status"]] = row["n"]
        accepted[row["status"]] = row["accepted"]
    reached = _attempts_reached(campaign)
    total = sum(counts.values())
    steps = []
    for key, label, statuses in FUNNEL:
        if key == "submitted":
            n = sum(accepted.get(s, 0) for s in statuses)
        else:
            n = sum(counts.get(s, 0) for s in statuses)
        steps.append(FunnelStep(key, label, n, _percent(n, total), reached[key]))
    return Funnel(
        total=total,
        steps=steps,
        counts=counts,
        attempts=reached["total"],
        failed_after_submission=accepted.get(RecipientStatus.FAILED, 0),
        attempt_counts={"failed": reached["failed"], "unknown": reached["unknown"]},
    )


def _attempts_reached(campaign: Campaign) -> dict[str, int]:
    """How many of the campaign's attempts got to each step (one grouped query
    on the campaign+status index)."""
    rows = (
        SendAttempt.objects.filter(campaign=campaign)
        .values("status")
        .annotate(
            n=Count("*"),
            accepted=Count("submitted_at"),
            delivered=Count("delivered_at"),
            read=Count("read_at"),
        )
        .order_by()
    )
    reached = dict.fromkeys(
        ["total", "submitted", "sent", "delivered", "read", "failed", "unknown"], 0
    )
    for row in rows:
        reached["total"] += row["n"]
        reached["submitted"] += row["accepted"]
        reached["delivered"] += row["delivered"]
        reached["read"] += row["read"]
        if row["status"] in (
            AttemptStatus.SENT,
            AttemptStatus.DELIVERED,
            AttemptStatus.READ,
        ):
            reached["sent"] += row["n"]
        if row["status"] in (AttemptStatus.FAILED, AttemptStatus.UNKNOWN):
            reached[row["status"]] += row["n"]
    return reached


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


# Each series counts recipients by their latest attempt, at the moment that
# attempt reached the step, so that its total is the funnel's number for it.
_SERIES: list[tuple[str, Q, str]] = [
    (
        "submitted",
        Q(
            status__in=[*ACCEPTED, RecipientStatus.FAILED],
            latest_attempt__submitted_at__isnull=False,
        ),
        "latest_attempt__submitted_at",
    ),
    (
        "delivered",
        Q(status__in=[RecipientStatus.DELIVERED, RecipientStatus.READ]),
        "latest_attempt__delivered_at",
    ),
    ("read", Q(status=RecipientStatus.READ), "latest_attempt__read_at"),
    ("failed", Q(status=RecipientStatus.FAILED), "latest_attempt__failed_at"),
]


def campaign_rates(*, campaign: Campaign, max_buckets: int = MAX_BUCKETS) -> Rates:
    """Submissions, deliveries, reads and failures per minute (per hour for a
    campaign that sent for more than FINE_SPAN), gaps filled with zeros, and
    neighbouring buckets merged so that at most `max_buckets` remain.

    One grouped query over the recipients joined to their latest attempts: each
    row is the minute of each step it reached (none for a step it did not),
    counted per combination; the series are summed from those here. (A query
    per series read the 600,000 rows of bench/history_pages.py's biggest
    campaign four times.)"""
    moments: dict[str, Case] = {}
    for series, which, moment in _SERIES:
        # A step whose time was never recorded (history from before attempts
        # kept them) counts at the attempt's last change.
        at = Coalesce(moment, "latest_attempt__updated_at", output_field=_AT)
        minute = Trunc(at, "minute", output_field=_AT)
        moments[series] = Case(When(which, then=minute), output_field=_AT)
    rows = (
        Recipient.objects.filter(campaign=campaign, latest_attempt__isnull=False)
        .annotate(**moments)
        .values(*moments)
        .annotate(n=Count("*"))
        .order_by()
    )
    counts: dict[str, dict[datetime, int]] = {series: {} for series in moments}
    for row in rows:
        for series, per_minute in counts.items():
            if (at_minute := _aware(row[series])) is not None:
                per_minute[at_minute] = per_minute.get(at_minute, 0) + row["n"]
    submitted = counts["submitted"]
    if not submitted:
        return Rates(minutes=1)
    hourly = max(submitted) - min(submitted) > FINE_SPAN
    buckets: dict[datetime, RateBucket] = {}
    for series, per_minute in counts.items():
        for minute_at, n in per_minute.items():
            start = _hour_of(minute_at) if hourly else minute_at
            bucket = buckets.setdefault(start, RateBucket(start))
            setattr(bucket, series, getattr(bucket, series) + n)
    width = timedelta(hours=1) if hourly else timedelta(minutes=1)
    return _bucketed(buckets, width, max_buckets)


def _aware(at: datetime | None) -> datetime | None:
    """Trunc's own conversion does not run inside a Case: PostgreSQL hands back
    the minute in the current time zone, without one."""
    if at is None or timezone.is_aware(at):
        return at
    return timezone.make_aware(at)


def _hour_of(at: datetime) -> datetime:
    """The start of the hour `at` is in, in the current time zone (as Trunc
    counts hours)."""
    local = timezone.localtime(at).replace(minute=0, second=0, microsecond=0)
    return local.astimezone(UTC)


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
