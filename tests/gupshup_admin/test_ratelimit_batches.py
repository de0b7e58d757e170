"""Taking sends in batches from the per-app bucket, and giving unused ones back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from gupshup_admin.models import PartnerApp, SendRateBucket
from gupshup_admin.ratelimit import rate_refund, rate_take_many


def test_a_batch_gets_at_most_one_second_of_sends(partner_app: PartnerApp) -> None:
    partner_app.send_rate_per_minute = 600  # 10 per second
    now = timezone.now()
    SendRateBucket.objects.create(app=partner_app, tokens=0.0, refilled_at=now)
    later = now + timedelta(seconds=30)
    assert rate_take_many(app=partner_app, want=50, now=later) == (10, 0.0)
    granted, wait = rate_take_many(app=partner_app, want=50, now=later)
    # 591 a minute refill a bucket of 10: no minute holds more than 600.
    assert granted == 0 and wait == pytest.approx(60 / 591)
    half = later + timedelta(milliseconds=550)
    assert rate_take_many(app=partner_app, want=50, now=half) == (5, 0.0)


def test_unused_sends_go_back_without_overfilling_the_bucket(
    partner_app: PartnerApp,
) -> None:
    partner_app.send_rate_per_minute = 600
    now = timezone.now()
    SendRateBucket.objects.create(app=partner_app, tokens=10.0, refilled_at=now)
    assert rate_take_many(app=partner_app, want=8, now=now) == (8, 0.0)
    rate_refund(app=partner_app, count=5)
    assert SendRateBucket.objects.get().tokens == pytest.approx(7.0)
    rate_refund(app=partner_app, count=50)
    assert SendRateBucket.objects.get().tokens == pytest.approx(10.0)
