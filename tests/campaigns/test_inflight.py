"""The threads' side of the dispatcher: when a request may leave."""

from __future__ import annotations

import itertools
import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.dispatch.inflight import Pacer
from gupshup_admin.models import SendRateBucket
from gupshup_admin.ratelimit import bucket_take, send_spacing
from tests.timing import busiest_window


def test_a_pacer_keeps_an_apps_departures_one_spacing_apart() -> None:
    pacer = Pacer(0.05)
    assert pacer.depart() == 0.0  # the first leaves at once
    wait = pacer.depart()
    assert 0.04 < wait <= 0.05  # the next must wait its spacing
    time.sleep(wait)
    assert pacer.depart() == 0.0


def test_a_late_departure_pushes_the_next_one_back() -> None:
    """Due 50 ms apart, the first left 30 ms late: the second, due on time,
    still leaves a full spacing after the first actually did."""
    pacer = Pacer(0.05)
    time.sleep(0.03)  # the first is late
    left = time.monotonic()
    assert pacer.depart() == 0.0
    while pacer.depart() > 0:
        time.sleep(0.001)
    assert time.monotonic() - left >= 0.05


def test_threads_racing_for_one_pacer_leave_one_by_one() -> None:
    pacer = Pacer(0.02)
    departures: list[float] = []
    lock = threading.Lock()

    def leave() -> None:
        while (wait := pacer.depart()) > 0:
            time.sleep(wait)
        with lock:
            departures.append(time.monotonic())

    threads = [threading.Thread(target=leave) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    departures.sort()
    gaps = [b - a for a, b in itertools.pairwise(departures)]
    assert min(gaps) >= 0.019, gaps


def _departures(pacer: Pacer, dues: list[float], late: float) -> list[float]:
    """When requests due at `dues` leave through `pacer` on a clock of our own,
    each thread waking `late` seconds after it was told to (or the given
    lateness per request)."""
    clock, left = 0.0, []
    for n, due in enumerate(dues):
        clock = max(clock, due) + (late if n % 17 else late * 130)
        while (wait := pacer.depart(now=clock)) > 0:
            clock += wait + late
        left.append(clock)
    return left


def test_departures_stay_a_full_refill_apart_to_absorb_late_arrivals() -> None:
    """The 3 % under the bound (ten sends span 1.03 s) are what absorbs a
    request that arrives late at Gupshup: departures stay a full refill
    apart, even right after a very late one. (A pacer that let its lateness
    melt by spacing them less put eleven in a second when the simulator
    stalled 30 ms: bench (b).)"""
    spacing = send_spacing(600)
    dues = [i * spacing for i in range(300)]
    left = _departures(Pacer(spacing), dues, late=0.0003)
    gaps = [b - a for a, b in itertools.pairwise(left)]
    assert min(gaps) >= spacing - 1e-9
    assert busiest_window(left, 1.0) <= 10


def test_the_next_slice_sends_its_first_a_spacing_after_the_last_real_departure() -> (
    None
):
    """Late wakes delay a sender's later sends (80 ms after a 30 s slice at
    10/s), which the bucket's schedule does not know; the next slice, in
    another process, took its first token on the bucket's time, 57 ms after
    the last real departure (eleven in a second, a 429). The ending slice
    holds the bucket until its last departure plus a spacing, and a take
    shifts its sends after that hold, keeping their spacing."""
    spacing = send_spacing(600)
    now = timezone.now()
    bucket = SendRateBucket(tokens=1.0, refilled_at=now - timedelta(seconds=1))
    bucket.not_before = now + timedelta(seconds=0.08)
    reserved = bucket_take(
        bucket, per_minute=600, want=5, gather_seconds=0.0, now=now, ahead_seconds=0.5
    )
    assert reserved.due[0] == pytest.approx(0.08)
    gaps = [b - a for a, b in itertools.pairwise(reserved.due)]
    assert gaps == pytest.approx([spacing] * (len(reserved.due) - 1))
    # A hold already past changes nothing.
    bucket = SendRateBucket(tokens=1.0, refilled_at=now - timedelta(seconds=1))
    bucket.not_before = now - timedelta(seconds=1)
    assert bucket_take(
        bucket, per_minute=600, want=1, gather_seconds=0.0, now=now
    ).due == [0.0]
