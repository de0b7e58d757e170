"""The threads' side of the dispatcher: when a request may leave."""

from __future__ import annotations

import itertools
import threading
import time

from campaigns.dispatch.inflight import Pacer
from gupshup_admin.ratelimit import departure_gap, send_spacing
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
    each thread waking `late` seconds after it was told to."""
    clock, left = 0.0, []
    for due in dues:
        clock = max(clock, due) + late
        while (wait := pacer.depart(due, now=clock)) > 0:
            clock += wait + late
        left.append(clock)
    return left


def _pacer() -> Pacer:
    return Pacer(send_spacing(600), least=departure_gap(600))


def test_lateness_does_not_pile_up_behind_the_buckets_schedule() -> None:
    """Threads wake a little late (0.3 ms here, a busy machine more). A pacer
    holding every departure a full refill after the last one left added each
    wake's lateness to all later ones: after 30 s at 10/s the sends left 80 ms
    behind the bucket's schedule (bench/dispatch_rate.py), and the next
    slice, pacing from the bucket in another process, sent its first 57 ms
    after the last one: eleven in one of Gupshup's seconds, a 429."""
    spacing = send_spacing(600)
    dues = [i * spacing for i in range(300)]
    left = _departures(_pacer(), dues, late=0.0003)
    assert max(b - a for a, b in zip(dues, left, strict=True)) < 0.002
    # The next slice's first, one refill after the last due, is still apart.
    assert dues[-1] + spacing - left[-1] > 0.1


def test_departures_stay_a_full_refill_apart_to_absorb_late_arrivals() -> None:
    """The 3 % under the bound (ten sends span 1.03 s) are what absorbs a
    request that arrives late at Gupshup: departures spaced less than a full
    refill (a pacer that let lateness melt that way) put eleven in a second
    when the simulator stalled 30 ms (bench (b))."""
    spacing = send_spacing(600)
    dues = [i * spacing for i in range(300)]
    left = _departures(_pacer(), dues, late=0.0003)
    gaps = [b - a for a, b in itertools.pairwise(left)]
    assert min(gaps) > spacing - 0.0005


def test_late_departures_never_put_more_than_the_rate_in_a_second() -> None:
    """Whatever the lateness (one thread very late now and then), a pacer's
    departures hold no more than 10 in any second at 10/s."""
    spacing = send_spacing(600)
    dues = [i * spacing for i in range(200)]
    pacer, clock, left = _pacer(), 0.0, []
    for n, due in enumerate(dues):
        late = 0.04 if n % 17 == 0 else 0.0003
        clock = max(clock, due) + late
        while (wait := pacer.depart(due, now=clock)) > 0:
            clock += wait + 0.0003
        left.append(clock)
    assert busiest_window(left, 1.0) <= 10
