"""Gupshup's answers about the app, not the recipient, against the real simulator:
they pause the campaign and mark the app, and fail nobody."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from campaigns.dispatch import sender
from campaigns.lifecycle import controls
from campaigns.models import (
    AttemptStatus,
    Campaign,
    CampaignKind,
    CampaignState,
    RecipientStatus,
    SendAttempt,
    SenderSlot,
)
from gupshup_admin.models import HealthStatus
from gupshup_admin.simulator import DEMO, Simulator, SimulatorConfig
from tests.factories import phones, sim_campaign


@pytest.fixture
def sim(settings: Any) -> Iterator[Simulator]:
    with Simulator(SimulatorConfig()) as simulator:
        settings.GUPSHUP_API_BASE = simulator.base_url
        settings.CAMPAIGN_SENDER_SLICE_SECONDS = 5
        settings.CAMPAIGN_SENDERS = 1
        yield simulator


def run_sender(campaign: Campaign) -> None:
    lease = SenderSlot.objects.get(slot=0)
    for _ in range(10):
        result = sender.sender_run(slot=0, token=lease.token)
        if result.again_in is None:
            return
    raise AssertionError("the sender did not stop")


def billing_off(sim: Simulator) -> None:
    sim.add_app(dataclasses.replace(DEMO.capi_app, callback_billing=False))


def app_unknown(sim: Simulator) -> None:
    # Gupshup no longer knows the app id (deleted, or under another partner).
    sim.configure(apps=[DEMO.non_capi_app])


@pytest.mark.parametrize(
    ("break_app", "kind", "said", "code"),
    [
        pytest.param(
            billing_off,
            CampaignKind.DIRECT,
            "Callback Billing must be enabled for this API",
            "app-billing-off",
            id="callback-billing",
        ),
        pytest.param(
            app_unknown,
            CampaignKind.TEMPLATE,
            "Invalid App Details",
            "app-unknown",
            id="invalid-app-details",
        ),
    ],
)
def test_an_answer_about_the_app_pauses_the_campaign_marks_the_app_and_fails_nobody(
    db: None,
    sim: Simulator,
    mailoutbox: list[Any],
    break_app: Any,
    kind: str,
    said: str,
    code: str,
) -> None:
    from django.contrib.auth.models import User

    campaign = sim_campaign(phones=phones(5), kind=kind)
    campaign.created_by = User.objects.create(username="m", email="m@example.com")
    campaign.save()
    controls.campaign_start(campaign=campaign, user_id=None)
    break_app(sim)

    run_sender(campaign)

    campaign.refresh_from_db()
    assert campaign.state == CampaignState.PAUSED
    assert said in campaign.state_reason
    assert "then resume" in campaign.state_reason
    assert set(campaign.recipients.values_list("status", flat=True)) == {
        RecipientStatus.PENDING
    }
    # One request found it out; it is kept as an attempt put back in the queue.
    attempts = SendAttempt.objects.filter(campaign=campaign)
    assert list(attempts.values_list("status", "error_code")) == [
        (AttemptStatus.REQUEUED, code)
    ]
    recipient = attempts.get().recipient
    assert recipient.latest_attempt_id == attempts.get().pk
    assert recipient.retries == 0 and recipient.error_code == ""
    app = campaign.partner_app
    app.refresh_from_db()
    assert app.health_status == HealthStatus.UNHEALTHY
    assert said in app.health_message
    assert mailoutbox and said in mailoutbox[0].body
    sends = sim.requests("v3_message") + sim.requests("template_msg")
    assert len(sends) == 1
