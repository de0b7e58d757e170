"""A local stand-in for Gupshup's Partner API and CommBox, served over real HTTP.

Pure Python (werkzeug + requests): importable and runnable without Django.

    from gupshup_admin.simulator import DEMO, Simulator

    with Simulator() as sim:
        ...  # point GUPSHUP_API_BASE at sim.base_url, COMMBOX_API_BASE at
        ...  # sim.commbox_base_url, then read sim.requests()/callbacks_sent()

See docs/simulator.md for the endpoints, the magic numbers and the flags.
"""

from __future__ import annotations

from gupshup_admin.simulator.config import (
    MAX_MEDIA_BYTES,
    SimApp,
    SimChannel,
    SimulatorConfig,
    config_from_dict,
)
from gupshup_admin.simulator.fixtures import (
    DEMO,
    FLASH_DEAL_IMAGE,
    NEW_ARRIVALS_IMAGE,
    ORDER_UPDATE_TEXT,
    SPRING_SALE_IMAGE,
    SUMMER_PREVIEW_IMAGE,
    template_id,
    templates_for,
)
from gupshup_admin.simulator.magic import FAILURES, classify
from gupshup_admin.simulator.server import Simulator

__all__ = [
    "DEMO",
    "FAILURES",
    "FLASH_DEAL_IMAGE",
    "MAX_MEDIA_BYTES",
    "NEW_ARRIVALS_IMAGE",
    "ORDER_UPDATE_TEXT",
    "SPRING_SALE_IMAGE",
    "SUMMER_PREVIEW_IMAGE",
    "SimApp",
    "SimChannel",
    "Simulator",
    "SimulatorConfig",
    "classify",
    "config_from_dict",
    "template_id",
    "templates_for",
]
