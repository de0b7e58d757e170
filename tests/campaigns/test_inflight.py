"""The threads' side of the dispatcher: when a request may leave."""

from __future__ import annotations

import itertools
import threading
import time

from campaigns.dispatch.inflight import Pacer


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
