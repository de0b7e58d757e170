"""Counting sends in time, as the simulator and Gupshup count them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def busiest_window(times: Iterable[float], seconds: float) -> int:
    """The most of `times` (seconds) in any sliding window of `seconds`."""
    first, end = busiest_span(sorted(times), seconds)
    return end - first


def busiest_span(ordered: Sequence[float], seconds: float) -> tuple[int, int]:
    """`(first, end)`: the slice of `ordered` (sorted seconds) that holds the
    most of them within any sliding window of `seconds`."""
    best, first = (0, 0), 0
    for last, at in enumerate(ordered):
        while ordered[first] <= at - seconds:
            first += 1
        if last + 1 - first > best[1] - best[0]:
            best = (first, last + 1)
    return best
