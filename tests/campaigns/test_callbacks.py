"""Callbacks in every order, twice, late and without gsId: the final status is right."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest

from campaigns.callbacks import status_events_match_parked, webhook_event_process
from campaigns.models import Campaign, Recipient, RecipientStatus, StatusEvent
from gupshup_admin.models import Template, WebhookEvent, WebhookState
from gupshup_admin.simulator import DEMO
from gupshup_admin.simulator.magic import FAILURES
from gupshup_admin.simulator.payloads import SentMessage
from tests.factories import phones, sim_campaign
from tests.payloads import callback, message_bodies

GS_ID = "28e59926-60d5-41ed-beee-931ef168a966"
WAMID = "wamid.HBgMOTE4ODg2OTEyMjI3FQIAERgSQzY0"
PHONE = phones(1)[0]


@pytest.fixture
def campaign(db: None) -> Campaign:
    campaign = sim_campaign(phones=[PHONE])
    campaign.recipients.update(status=RecipientStatus.SUBMITTED, message_id=GS_ID)
    return campaign


def recipient() -> Recipient:
    return Recipient.objects.get(phone=PHONE)


def message(failure: str = "") -> SentMessage:
    return SentMessage(
        app=DEMO.capi_app,
        gs_id=GS_ID,
        wamid=WAMID,
        destination=PHONE.lstrip("+"),
        wa_id=PHONE.lstrip("+"),
        failure=FAILURES[failure] if failure else None,
    )


def bodies(fmt: str, msg: SentMessage, *, drop_gsid: bool = False) -> list[Any]:
    return message_bodies(msg, fmt, drop_gsid=drop_gsid)


def deliver(campaign: Campaign, body: Any) -> WebhookEvent:
    event = WebhookEvent.objects.create(
        partner_app=campaign.partner_app, body=json.dumps(body)
    )
    webhook_event_process(event=event)
    event.refresh_from_db()
    return event


@pytest.mark.parametrize("fmt", ["v2", "v3"])
def test_every_order_of_the_four_events_ends_read_with_a_full_timeline(
    campaign: Campaign, fmt: str
) -> None:
    events = bodies(fmt, message())
    for order in itertools.permutations(events):
        StatusEvent.objects.all().delete()
        Recipient.objects.update(status=RecipientStatus.SUBMITTED, wamid="")
        for body in order:
            deliver(campaign, body)
        row = recipient()
        assert row.status == RecipientStatus.READ, order
        assert row.wamid == WAMID
        timeline = list(row.events.values_list("status", flat=True))
        assert timeline == ["enqueued", "sent", "delivered", "read"]


def test_duplicates_change_nothing_and_a_status_never_moves_back(
    campaign: Campaign,
) -> None:
    enqueued, sent, delivered, read = bodies("v2", message())
    for body in [read, read, delivered, sent, enqueued, enqueued]:
        deliver(campaign, body)
    assert recipient().status == RecipientStatus.READ
    assert recipient().events.count() == 4


def test_a_failure_is_terminal_and_keeps_the_providers_code(campaign: Campaign) -> None:
    enqueued, failed = bodies("v3", message("1002"))
    deliver(campaign, failed)
    deliver(campaign, enqueued)
    row = recipient()
    assert row.status == RecipientStatus.FAILED
    assert (row.error_code, row.error_message) == ("131026", "Message undeliverable")


def test_late_events_without_gsid_are_matched_by_the_remembered_wamid(
    campaign: Campaign,
) -> None:
    enqueued, _sent, delivered, read = bodies("v2", message(), drop_gsid=True)
    # The delivered event arrives first, without gsId: the wamid is not known yet.
    assert deliver(campaign, delivered).state == WebhookState.PARKED
    assert recipient().status == RecipientStatus.SUBMITTED
    deliver(campaign, enqueued)  # reveals the wamid: the parked event attaches
    assert recipient().status == RecipientStatus.DELIVERED
    assert WebhookEvent.objects.filter(state=WebhookState.PARKED).count() == 0
    deliver(campaign, read)
    assert recipient().status == RecipientStatus.READ


def test_events_for_a_send_not_written_yet_are_parked_then_matched(
    campaign: Campaign,
) -> None:
    Recipient.objects.update(status=RecipientStatus.SENDING, message_id="")
    for body in bodies("v3", message()):
        assert deliver(campaign, body).state == WebhookState.PARKED
    Recipient.objects.update(status=RecipientStatus.SUBMITTED, message_id=GS_ID)
    assert status_events_match_parked(message_ids=[GS_ID]) == 4
    assert recipient().status == RecipientStatus.READ
    assert not StatusEvent.objects.filter(recipient=None).exists()


def test_a_callback_resolves_an_unknown_recipient_by_its_number(
    campaign: Campaign,
) -> None:
    Recipient.objects.update(
        status=RecipientStatus.UNKNOWN, message_id="", error_message="read timeout"
    )
    enqueued, *_ = bodies("v2", message())
    deliver(campaign, enqueued)
    row = recipient()
    assert (row.status, row.message_id, row.error_message) == ("enqueued", GS_ID, "")


def test_a_template_status_callback_updates_the_synced_template(
    campaign: Campaign,
) -> None:
    body = callback("v2-template-event")
    Template.objects.update(gupshup_id=body["payload"]["id"])
    deliver(campaign, body)
    template = Template.objects.get()
    assert (template.status, template.rejected_reason) == ("REJECTED", "INVALID_FORMAT")


def test_malformed_and_other_payloads_are_kept_with_their_state(
    campaign: Campaign,
) -> None:
    other = deliver(campaign, callback("v2-user-event"))
    assert (other.state, other.event_type) == (WebhookState.PROCESSED, "user-event")
    event = WebhookEvent.objects.create(partner_app=campaign.partner_app, body="{nope")
    webhook_event_process(event=event)
    assert event.state == WebhookState.INVALID and "Expecting" in event.error


@pytest.mark.parametrize("together", [True, False])
def test_the_drain_matches_parked_events_in_the_same_batch_or_a_later_one(
    campaign: Campaign, together: bool
) -> None:
    from campaigns.ingest import webhooks_drain

    enqueued, _sent, delivered, _read = bodies("v2", message(), drop_gsid=True)

    def store(body: Any) -> None:
        WebhookEvent.objects.create(
            partner_app=campaign.partner_app, body=json.dumps(body)
        )

    store(delivered)  # parked: its wamid is not known yet
    if not together:
        assert webhooks_drain() == 1
    store(enqueued)  # reveals the wamid
    webhooks_drain()
    assert recipient().status == RecipientStatus.DELIVERED
    assert not StatusEvent.objects.filter(recipient=None).exists()


def test_deeply_nested_json_is_kept_as_invalid_with_a_reason(
    campaign: Campaign,
) -> None:
    event = WebhookEvent.objects.create(
        partner_app=campaign.partner_app, body="[" * 100_000 + "]" * 100_000
    )
    webhook_event_process(event=event)
    assert event.state == WebhookState.INVALID
    assert "nested too deeply" in event.error
