"""The per-app send rate: a database token bucket shared by all workers."""

from __future__ import annotations

import math
import threading
import time
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from gupshup_admin.models import PartnerApp, SendRateBucket
from gupshup_admin.ratelimit import (
    REFILL_MARGIN,
    bucket_take,
    rate_take_many,
    rate_throttled,
)
from tests.timing import busiest_window


def take_one(*, app: PartnerApp, now: datetime | None = None) -> float:
    """One send: 0.0 when it may go now, else the seconds to wait."""
    granted, wait = rate_take_many(app=app, want=1, now=now)
    return 0.0 if granted else wait


def test_sends_are_spaced_at_the_configured_rate(partner_app: PartnerApp) -> None:
    partner_app.send_rate_per_minute = 60  # one per second
    now = timezone.now()
    assert take_one(app=partner_app, now=now) == 0.0
    wait = take_one(app=partner_app, now=now)
    assert wait == pytest.approx(1 / REFILL_MARGIN)
    # A little under one a second (REFILL_MARGIN): a second never holds two.
    assert take_one(app=partner_app, now=now + timedelta(seconds=0.99)) > 0
    later = now + timedelta(seconds=wait + 0.000_001)
    assert take_one(app=partner_app, now=later) == 0.0


def test_a_429_pauses_the_app_for_the_window_then_halves_its_rate(
    partner_app: PartnerApp,
) -> None:
    partner_app.send_rate_per_minute = 60
    now = timezone.now()
    resume = rate_throttled(app=partner_app, pause_seconds=30, now=now)
    assert resume == now + timedelta(seconds=30)
    assert take_one(app=partner_app, now=now + timedelta(seconds=10)) == pytest.approx(
        20
    )
    # After the pause: one send, then the next is about 2 s away (half of one per
    # second, already recovering a little over the 32 quiet seconds since the 429).
    after = resume + timedelta(seconds=2)
    assert take_one(app=partner_app, now=after) == 0.0
    factor = 0.5 + 0.5 * 32 / 600
    assert take_one(app=partner_app, now=after) == pytest.approx(
        1 / (factor * REFILL_MARGIN)
    )


def test_the_429s_of_requests_in_flight_together_halve_the_rate_once(
    partner_app: PartnerApp,
) -> None:
    """Ten requests were in flight when the first 429 came back: the nine others
    come back 429 too, within its pause. One storm, one halving (ten would leave
    a thousandth of the rate); each may extend the pause."""
    partner_app.send_rate_per_minute = 60
    now = timezone.now()
    rate_throttled(app=partner_app, pause_seconds=30, now=now)
    for late in range(1, 10):
        at = now + timedelta(milliseconds=20 * late)
        resume = rate_throttled(app=partner_app, pause_seconds=30, now=at)
    assert resume == now + timedelta(seconds=30, milliseconds=180)
    bucket = SendRateBucket.objects.get(app=partner_app)
    assert (bucket.slowdown, bucket.throttle_count) == (0.5, 1)
    # A 429 after the pause is a new storm: the rate (recovering since the
    # first 429) halves again.
    rate_throttled(app=partner_app, pause_seconds=30, now=resume)
    bucket.refresh_from_db()
    assert bucket.slowdown == pytest.approx((0.5 + 0.5 * 30.18 / 600) / 2)


def test_the_rate_recovers_fully_after_ten_quiet_minutes(
    partner_app: PartnerApp,
) -> None:
    partner_app.send_rate_per_minute = 60
    now = timezone.now()
    rate_throttled(app=partner_app, pause_seconds=1, now=now)
    later = now + timedelta(minutes=11)
    assert take_one(app=partner_app, now=later) == 0.0
    assert take_one(app=partner_app, now=later) == pytest.approx(1 / REFILL_MARGIN)


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="concurrency is tested on PostgreSQL (the in-memory SQLite test database "
    "locks whole tables)",
)
@pytest.mark.django_db(transaction=True)
def test_many_workers_together_stay_within_the_rate(partner_app: PartnerApp) -> None:
    partner_app.send_rate_per_minute = 3000  # fifty per second
    partner_app.save()
    granted: list[float] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + 1.5

    def worker() -> None:
        app = PartnerApp.objects.get(pk=partner_app.pk)
        try:
            while time.monotonic() < stop_at:
                if take_one(app=app) == 0.0:
                    with lock:
                        granted.append(time.monotonic())
                else:
                    time.sleep(0.002)
        except BaseException as exc:  # a failing worker must fail the test
            errors.append(exc)
        finally:
            connection.close()

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    assert errors == []
    # One second of burst (50) plus 50 per second elapsed, never more.
    assert len(granted) <= 50 + 50 * elapsed + 1
    assert len(granted) >= 50  # and the bucket does hand tokens out


@pytest.mark.parametrize("per_minute", [10, 90, 600, 4800])
def test_no_sliding_minute_ever_holds_more_than_the_rate(per_minute: int) -> None:
    """Gupshup counts requests per minute: the burst must not tip it over, even
    from a full bucket, and the rate should still be nearly all used."""
    start = timezone.now()
    bucket = SendRateBucket(tokens=1e9, refilled_at=start)
    sends: list[float] = []
    clock = 0.0
    while clock < 180:
        now = start + timedelta(seconds=clock)
        taken = bucket_take(
            bucket, per_minute=per_minute, want=10_000, gather_seconds=0.25, now=now
        )
        granted, wait = len(taken.due), taken.wait
        sends += [clock] * granted
        # A taker is back 10 ms after a grant (its batch sent); a wait below
        # the clock's microsecond would not move it on.
        clock += max(wait, 0.000_001) if not granted else 0.01
    busiest = busiest_window(sends, 60)
    assert busiest <= per_minute
    assert len(sends) >= 0.96 * per_minute * 3


@pytest.mark.parametrize("per_minute", [10, 90, 600, 1200, 4800, 60_000])
def test_no_sliding_second_ever_holds_more_than_the_rate(per_minute: int) -> None:
    """Gupshup also counts per second ("10 per second, 1 s cool-down"): no
    second may hold more than a second's share of the rate (rounded up), from
    a full bucket on, by takers that come back at once; and almost all of the
    rate is still used."""
    start = timezone.now()
    bucket = SendRateBucket(tokens=1e9, refilled_at=start)
    sends: list[float] = []
    clock = 0.0
    while clock < 20:
        now = start + timedelta(seconds=clock)
        taken = bucket_take(
            bucket, per_minute=per_minute, want=10_000, gather_seconds=0.1, now=now
        )
        granted, wait = len(taken.due), taken.wait
        sends += [clock] * granted
        clock += max(wait, 0.000_001) if not granted else 0.000_001
    busiest = busiest_window(sends, 1.0)
    assert busiest <= math.ceil(per_minute / 60)
    assert len(sends) >= 0.96 * per_minute / 60 * 20 - 1


@pytest.mark.parametrize("per_minute", [10, 600, 1200, 4800, 60_000])
def test_sends_reserved_ahead_leave_on_time_and_keep_every_second_within_the_rate(
    per_minute: int,
) -> None:
    """A sender reserves what falls due in the next half second and sends each
    at its due time: no sliding second holds more than the rate (rounded up),
    and almost all of the rate is used."""
    start = timezone.now()
    bucket = SendRateBucket(tokens=1e9, refilled_at=start)
    sends: list[float] = []
    clock = 0.0
    while clock < 20:
        now = start + timedelta(seconds=clock)
        taken = bucket_take(
            bucket,
            per_minute=per_minute,
            want=10_000,
            gather_seconds=0.1,
            ahead_seconds=0.5,
            now=now,
        )
        sends += [clock + due for due in taken.due]
        # Back when its last reserved send falls due (at once when none was).
        clock += max(taken.due[-1] if taken.due else taken.wait, 0.000_001)
    sends.sort()
    busiest = busiest_window(sends, 1.0)
    assert busiest <= math.ceil(per_minute / 60)
    assert len([at for at in sends if at < 20]) >= 0.96 * per_minute / 60 * 20 - 1
