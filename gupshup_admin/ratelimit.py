"""The per-app send rate, enforced across all workers by a database token bucket."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Least
from django.utils import timezone

from gupshup_admin.models import PartnerApp, SendRateBucket

RATE_RECOVERY_SECONDS = 600.0  # after a 429, back to full rate over 10 minutes
MIN_SLOWDOWN = 0.05


def _factor(bucket: SendRateBucket, now: datetime) -> float:
    """The share of the configured rate allowed now (recovering after a 429)."""
    if bucket.throttled_at is None or bucket.slowdown >= 1.0:
        return 1.0
    quiet = (now - bucket.throttled_at).total_seconds()
    recovered = bucket.slowdown + (1 - bucket.slowdown) * quiet / RATE_RECOVERY_SECONDS
    return min(1.0, recovered)


def _shape(per_minute: float) -> tuple[float, float]:
    """(burst, refill per second) of the bucket for `per_minute` sends.

    The burst is one second of sends (at least one), so takers get batches. A
    bucket that starts full would let one sliding minute hold the burst plus a
    minute of refill, `per_minute + burst - 1` sends, and Gupshup answers 429
    past its per-minute limit. So it refills `per_minute - burst + 1` a minute:
    no 60 seconds ever hold more than `per_minute` sends, at a cost of at most
    1/60 of the rate (none below 120 a minute, where the burst is one).
    """
    burst = max(1.0, float(int(per_minute / 60.0)))
    return burst, (per_minute - burst + 1) / 60.0


def _locked_bucket(app: PartnerApp, now: datetime | None) -> SendRateBucket:
    """The app's bucket, locked until the transaction ends; made on first use."""
    bucket = SendRateBucket.objects.select_for_update().filter(app=app).first()
    if bucket is None:
        made = {"refilled_at": now or timezone.now()}
        SendRateBucket.objects.get_or_create(app=app, defaults=made)
        bucket = SendRateBucket.objects.select_for_update().get(app=app)
    return bucket


def rate_take_many(
    *,
    app: PartnerApp,
    want: int,
    gather_seconds: float = 0.0,
    now: datetime | None = None,
) -> tuple[int, float]:
    """Take up to `want` sends at once (one row lock for a batch of sends), but
    none before `gather_seconds` of the current rate have built up (at least one
    send, at most `want`): takers then wake once per batch, not once per send.

    Returns (granted, wait): `granted` sends may go now; when none may, `wait` is
    the seconds until enough can.
    """
    with transaction.atomic():
        bucket = _locked_bucket(app, now)
        now = now or timezone.now()  # after the lock: waiting for it takes time
        if bucket.paused_until and bucket.paused_until > now:
            return 0, (bucket.paused_until - now).total_seconds()
        capacity, per_second = _shape(app.send_rate_per_minute * _factor(bucket, now))
        elapsed = max((now - bucket.refilled_at).total_seconds(), 0.0)
        tokens = min(capacity, bucket.tokens + elapsed * per_second)
        least = max(1, min(int(per_second * gather_seconds), want))
        granted = min(max(want, 0), int(tokens)) if tokens >= least else 0
        # Never back: a taker whose clock reads earlier than the last refill
        # (another host's clock) would let the next taker count that time twice.
        bucket.tokens = tokens - granted
        bucket.refilled_at = max(now, bucket.refilled_at)
        bucket.save(update_fields=["tokens", "refilled_at"])
        if granted:
            return granted, 0.0
        return 0, (least - tokens) / per_second


def rate_refund(*, app: PartnerApp, count: int) -> None:
    """Give back sends that were taken but not made (nothing left to send)."""
    if count <= 0:
        return
    capacity, _ = _shape(app.send_rate_per_minute)
    SendRateBucket.objects.filter(app=app).update(
        tokens=Least(F("tokens") + count, Value(capacity))
    )


def rate_throttled(
    *, app: PartnerApp, pause_seconds: float = 60.0, now: datetime | None = None
) -> datetime:
    """Record a 429: pause the app for the window and halve its rate.

    Returns when sending may resume.
    """
    now = now or timezone.now()
    with transaction.atomic():
        bucket = _locked_bucket(app, now)
        bucket.slowdown = max(MIN_SLOWDOWN, _factor(bucket, now) / 2)
        bucket.throttled_at = now
        bucket.paused_until = now + timedelta(seconds=pause_seconds)
        bucket.tokens = 0.0
        bucket.refilled_at = bucket.paused_until
        bucket.throttle_count += 1
        bucket.save()
        return bucket.paused_until
