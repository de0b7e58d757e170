"""Counting sends in time, as the simulator and Gupshup count them."""

from __future__ import annotations

from collections.abc import Iterable


def busiest_window(times: Iterable[float], seconds: float) -> int:
    """The most of `times` (seconds) in any sliding window of `seconds`."""
    ordered = sorted(times)
    busiest, first = 0, 0
    for last, at in enumerate(ordered):
        while ordered[first] <= at - seconds:
            first += 1
        busiest = max(busiest, last - first + 1)
    return busiest
