"""Retry failed, end to end through the real simulator and the callback URL: the
second attempt's callbacks move the recipient, the first attempt keeps its
history, and failures that are permanent are not sent again."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from campaigns.lifecycle import retries
from campaigns.models import Campaign, Recipient, RecipientStatus
from campaigns.reporting import reports
from campaigns.statuses.receiving import webhooks_drain
from gupshup_admin.models import ApiExchange
from gupshup_admin.simulator import DEMO, Simulator, SimulatorConfig
from gupshup_admin.simulator.magic import FAILURES
from gupshup_admin.simulator.payloads import SentMessage
from tests.campaigns.test_dispatch import run_senders, start
from tests.factories import phones, sim_campaign
from tests.payloads import message_bodies

HELD_BACK = phones(1, suffix="9049")[0]  # 131049: WhatsApp held it back (transient)
STOPPED = phones(1, start=2, suffix="1050")[0]  # 131050: stopped marketing
ORDINARY = phones(1, start=3)[0]


@pytest.fixture
def sim(settings: Any) -> Iterator[Simulator]:
    with Simulator(SimulatorConfig()) as simulator:
        settings.GUPSHUP_API_BASE = simulator.base_url
        settings.CAMPAIGN_SENDER_SLICE_SECONDS = 5
        yield simulator


def accepted_sends() -> list[tuple[str, str]]:
    """(number, Gupshup id) of every send Gupshup accepted, in order, read from
    the exchange log."""
    sends = []
    for exchange in ApiExchange.objects.filter(status_code=200).order_by("pk"):
        answer = json.loads(exchange.response_body or "{}")
        body = exchange.request_body or {}
        fields = body.get("fields", body) if isinstance(body, dict) else {}
        if "messageId" in answer:
            sends.append((f"+{fields.get('destination', '')}", answer["messageId"]))
    return sends


def post_callbacks(campaign: Campaign, number: str, gs_id: str, failure: str) -> None:
    """What Gupshup posts for one send (v2), through the callback URL."""
    message = SentMessage(
        app=DEMO.capi_app,
        gs_id=gs_id,
        wamid=f"wamid.{gs_id[:8]}",
        destination=number.lstrip("+"),
        wa_id=number.lstrip("+"),
        failure=FAILURES[failure] if failure else None,
    )
    app = campaign.partner_app
    url = reverse("webhooks:gupshup", args=[app.pk])
    client = Client()
    for body in message_bodies(message, "v2"):
        answer = client.post(
            url,
            json.dumps(body),
            content_type="application/json",
            headers={django_settings.WEBHOOK_SECRET_HEADER: app.callback_secret},
        )
        assert answer.status_code == 200
    webhooks_drain()


def status(number: str) -> str:
    return Recipient.objects.get(phone=number).status


def test_a_retried_recipient_takes_its_second_attempts_statuses(
    db: None, sim: Simulator, settings: Any
) -> None:
    campaign = sim_campaign(phones=[HELD_BACK, STOPPED, ORDINARY])
    start(campaign, settings)
    run_senders(campaign)
    outcomes = {HELD_BACK: "9049", STOPPED: "1050", ORDINARY: ""}
    for number, gs_id in accepted_sends():
        post_callbacks(campaign, number, gs_id, outcomes[number])
    assert (status(HELD_BACK), status(STOPPED), status(ORDINARY)) == (
        "failed",
        "failed",
        "read",
    )

    campaign.refresh_from_db()
    retries.campaign_retry_failed(campaign=campaign, codes=[], user_id=None)
    run_senders(campaign)
    first_round = 3
    again = accepted_sends()[first_round:]
    # 131050 (the person stopped marketing messages) is not sent again.
    assert [number for number, _ in again] == [HELD_BACK]
    # WhatsApp holds the second one back too: its callbacks repeat the first's
    # statuses, and must still move the recipient.
    post_callbacks(campaign, HELD_BACK, again[0][1], "9049")

    held = Recipient.objects.get(phone=HELD_BACK)
    assert held.status == RecipientStatus.FAILED
    assert held.error_code == "131049"
    report = reports.campaign_report(campaign=campaign, fresh=True)
    failures = {f.code: f.count for f in report.failures}
    assert failures == {"131049": 1, "131050": 1}
    assert report.funnel.count(RecipientStatus.FAILED) == 2
    assert report.funnel.count(RecipientStatus.READ) == 1
