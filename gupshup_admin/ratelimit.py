"""The per-app send rate, enforced across all workers by a database token bucket."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q, Value
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


# The bucket holds this many seconds of sends at most (at least one send).
BURST_SECONDS = 0.01
# The refill is kept this much under the bound, for clocks, rounding and the
# jitter between a request leaving and arriving: at 10 a second, ten sends
# then span 1.03 s, so 30 ms of jitter cannot put eleven in one second as
# Gupshup counts them.
REFILL_MARGIN = 0.97


def _shape(per_minute: float) -> tuple[float, float]:
    """(burst, refill per second) of the bucket for `per_minute` sends.

    Gupshup counts an app's sends per second (`per_minute / 60` of them, "1 s
    cool-down") as well as per minute. A bucket holding at most C tokens that
    refills r a second lets one sliding second hold C + ceil(r) - 1 sends (C at
    once, then one every 1/r s), so it refills 3 % under N - C + 1 a second:
    no second ever holds more than N (rounded up) sends, and no minute more
    than `per_minute`. C is small (BURST_SECONDS of sends, at least one), so
    that costs at most 5 % of the rate; at high rates it still lets takers
    take a batch of tokens at once.
    """
    per_second = per_minute / 60.0
    burst = max(1.0, float(int(per_second * BURST_SECONDS)))
    refill = (per_second - burst + 1) * REFILL_MARGIN
    return burst, min(refill, per_second)


def send_spacing(per_minute: float) -> float:
    """The seconds between two sends of an app at its full rate."""
    return 1.0 / _shape(per_minute)[1]


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
    """Take up to `want` sends that may go now (one row lock for a batch of
    sends), but none before `gather_seconds` of the current rate have built up
    (at least one send, at most `want`): takers then wake once per batch, not
    once per send.

    Returns (granted, wait): `granted` sends may go now; when none may, `wait` is
    the seconds until enough can.
    """
    reserved = rate_reserve(app=app, want=want, gather_seconds=gather_seconds, now=now)
    return len(reserved.due), reserved.wait


@dataclass(frozen=True)
class Reservation:
    """Sends taken from the bucket: the i-th may leave `due[i]` seconds after
    the take (not before); none taken: `wait` seconds until a take may be."""

    due: list[float]
    wait: float = 0.0


def rate_reserve(
    *,
    app: PartnerApp,
    want: int,
    ahead_seconds: float = 0.0,
    gather_seconds: float = 0.0,
    now: datetime | None = None,
) -> Reservation:
    """Take up to `want` sends at once, including those that fall due within
    `ahead_seconds`, each with the moment it may leave: a sender at 10 a second
    then does the bookkeeping of half a second's sends in one batch and lets
    each request leave on time. The sends leave exactly when a taker waiting
    for each token would have sent them, so the bucket's bounds hold."""
    with transaction.atomic():
        bucket = _locked_bucket(app, now)
        now = now or timezone.now()  # after the lock: waiting for it takes time
        if bucket.paused_until and bucket.paused_until > now:
            return Reservation([], (bucket.paused_until - now).total_seconds())
        reserved = bucket_take(
            bucket,
            per_minute=app.send_rate_per_minute,
            want=want,
            gather_seconds=gather_seconds,
            ahead_seconds=ahead_seconds,
            now=now,
        )
        bucket.save(update_fields=["tokens", "refilled_at"])
        return reserved


def bucket_take(
    bucket: SendRateBucket,
    *,
    per_minute: int,
    want: int,
    gather_seconds: float,
    now: datetime,
    ahead_seconds: float = 0.0,
) -> Reservation:
    """The arithmetic of `rate_reserve` on a bucket held in memory (its caller
    locks and saves it): refill, then grant or say how long to wait. Tokens
    reserved ahead leave the bucket below zero until they fall due."""
    capacity, per_second = _shape(per_minute * _factor(bucket, now))
    elapsed = max((now - bucket.refilled_at).total_seconds(), 0.0)
    tokens = min(capacity, bucket.tokens + elapsed * per_second)
    available = tokens + max(ahead_seconds, 0.0) * per_second
    # A taker gathering more than the bucket holds would never be served.
    least = max(1, min(int(per_second * gather_seconds), want, int(capacity)))
    granted = min(max(want, 0), math.floor(available)) if available >= least else 0
    # Never back: a taker whose clock reads earlier than the last refill
    # (another host's clock) would let the next taker count that time twice.
    bucket.tokens = tokens - granted
    bucket.refilled_at = max(now, bucket.refilled_at)
    if granted:
        due = [max(0.0, (i + 1 - tokens) / per_second) for i in range(granted)]
        held = bucket.not_before
        if held is not None:
            # The last slice's last request left late: the first goes a
            # spacing after it, the others keep their spacing.
            shift = max(0.0, (held - now).total_seconds() - due[0])
            due = [offset + shift for offset in due]
        return Reservation(due)
    return Reservation([], (least - available) / per_second)


def rate_hold(*, app: PartnerApp, until: datetime) -> None:
    """No send of the app before `until` (a later hold stands)."""
    SendRateBucket.objects.filter(app=app).filter(
        Q(not_before__isnull=True) | Q(not_before__lt=until)
    ).update(not_before=until)


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
        if bucket.paused_until and bucket.paused_until > now:
            # The other requests that were in flight with the first 429: one
            # storm halves the rate once (else ten in flight would leave 0.1 %).
            bucket.paused_until = max(
                bucket.paused_until, now + timedelta(seconds=pause_seconds)
            )
            bucket.refilled_at = bucket.paused_until
            bucket.save(update_fields=["paused_until", "refilled_at"])
            return bucket.paused_until
        bucket.slowdown = max(MIN_SLOWDOWN, _factor(bucket, now) / 2)
        bucket.throttled_at = now
        bucket.paused_until = now + timedelta(seconds=pause_seconds)
        bucket.tokens = 0.0
        bucket.refilled_at = bucket.paused_until
        bucket.throttle_count += 1
        bucket.save()
        return bucket.paused_until
