"""Fixtures for the fault tests: the simulator with callbacks, bad-input settings."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from gupshup_admin.simulator import Simulator, SimulatorConfig
from tests.workers import worker_pool

__all__ = ["worker_pool"]

# Bad input is generated with a fixed seed (the same examples every run, so the
# counts in docs/faults.md only change when the code does) and no example
# database (nothing written into the tree). One pytest-django database
# transaction holds every example of a test, so each example makes its own rows.
settings.register_profile(
    "faults",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=40,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


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
