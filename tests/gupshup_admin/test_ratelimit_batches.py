"""Taking sends in batches from the per-app bucket, and giving unused ones back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from gupshup_admin.models import PartnerApp, SendRateBucket
from gupshup_admin.ratelimit import REFILL_MARGIN, rate_refund, rate_take_many


def test_a_batch_gets_at_most_the_bursts_sends(partner_app: PartnerApp) -> None:
    """The bucket holds a hundredth of a second of sends (at least one): at
    1,000 a second a taker gets batches of ten, at 10 a second one at a time."""
    partner_app.send_rate_per_minute = 60_000  # 1,000 per second
    now = timezone.now()
    SendRateBucket.objects.create(app=partner_app, tokens=0.0, refilled_at=now)
    later = now + timedelta(seconds=30)
    assert rate_take_many(app=partner_app, want=50, now=later) == (10, 0.0)
    granted, wait = rate_take_many(app=partner_app, want=50, now=later)
    # 991 a second, 3 % under, refill a bucket of 10: no second holds more
    # than 1,000.
    assert granted == 0 and wait == pytest.approx(1 / (991 * REFILL_MARGIN))
    soon = later + timedelta(milliseconds=5.5)
    assert rate_take_many(app=partner_app, want=50, now=soon) == (5, 0.0)

    partner_app.send_rate_per_minute = 600  # 10 per second
    much_later = soon + timedelta(seconds=30)
    assert rate_take_many(app=partner_app, want=50, now=much_later) == (1, 0.0)


def test_unused_sends_go_back_without_overfilling_the_bucket(
    partner_app: PartnerApp,
) -> None:
    partner_app.send_rate_per_minute = 60_000  # a bucket of 10
    now = timezone.now()
    SendRateBucket.objects.create(app=partner_app, tokens=10.0, refilled_at=now)
    assert rate_take_many(app=partner_app, want=8, now=now) == (8, 0.0)
    rate_refund(app=partner_app, count=5)
    assert SendRateBucket.objects.get().tokens == pytest.approx(7.0)
    rate_refund(app=partner_app, count=50)
    assert SendRateBucket.objects.get().tokens == pytest.approx(10.0)
