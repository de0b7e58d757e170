"""Pre-flight reads what the health check learnt from waba/info, on the simulator:
a number WhatsApp blocks is refused with the reason, a RED or LIMITED one passes
with a warning that says why."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from campaigns.lifecycle.preflight import campaign_preflight
from gupshup_admin import app_sync
from gupshup_admin.simulator import DEMO, Simulator
from tests.factories import phones, sim_campaign


@pytest.fixture
def sim(settings: Any) -> Iterator[Simulator]:
    with Simulator() as simulator:
        settings.GUPSHUP_API_BASE = simulator.base_url
        yield simulator


def test_a_waba_whatsapp_blocks_is_refused_by_preflight_with_the_reason(
    db: None, sim: Simulator
) -> None:
    sim.add_app(
        dataclasses.replace(
            DEMO.capi_app, can_send_message="BLOCKED", waba_errors=("Restricted.",)
        )
    )
    campaign = sim_campaign(phones=phones(3))
    app_sync.partner_app_check_health(app=campaign.partner_app)

    result = campaign_preflight(campaign=campaign)

    failed = {check.name: check.message for check in result.failures()}
    assert not result.ok
    assert "canSendMessage is BLOCKED" in failed["app"]
    assert "Restricted." in failed["app"]


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"phone_quality": "RED"}, "phone quality is RED"),
        ({"can_send_message": "LIMITED"}, "canSendMessage is LIMITED"),
    ],
)
def test_a_red_or_limited_waba_passes_preflight_with_a_warning_that_says_why(
    db: None, sim: Simulator, change: dict[str, Any], said: str
) -> None:
    sim.add_app(dataclasses.replace(DEMO.capi_app, **change))
    campaign = sim_campaign(phones=phones(3))
    app_sync.partner_app_check_health(app=campaign.partner_app)

    result = campaign_preflight(campaign=campaign)

    assert result.ok, result.failures()
    [warning] = result.warnings()
    assert warning.name == "app" and said in warning.message
    assert "does not stop the campaign" in warning.message


def test_a_campaign_larger_than_the_messaging_tier_gets_a_warning(
    db: None, sim: Simulator
) -> None:
    sim.add_app(dataclasses.replace(DEMO.capi_app, messaging_limit="TIER_50"))
    campaign = sim_campaign(phones=phones(60))
    app_sync.partner_app_check_health(app=campaign.partner_app)

    result = campaign_preflight(campaign=campaign)

    assert result.ok
    [warning] = result.warnings()
    assert "TIER_50" in warning.message and "60 recipients" in warning.message
