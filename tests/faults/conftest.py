"""Fixtures for the fault tests: the simulator with callbacks, the live server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from gupshup_admin.simulator import Simulator, SimulatorConfig
from tests.workers import worker_pool

__all__ = ["worker_pool"]


@pytest.fixture
def sim() -> Iterator[Simulator]:
    """The simulator; callbacks retry for a while (as Gupshup's do), so that a
    callback refused while the database restarts still arrives."""
    config = SimulatorConfig(
        callback_delay=0.1,
        callback_interval=0.05,
        callback_retries=8,
        callback_backoff=0.2,
        hang_seconds=3.0,
        seed=7,
    )
    with Simulator(config) as simulator:
        yield simulator


@pytest.fixture
def live_url(live_server: Any) -> str:
    return str(live_server.url)
