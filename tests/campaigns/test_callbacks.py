"""Callbacks in every order, twice, late and without gsId, for several attempts:
each attempt's status is right, and the recipient shows its latest."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from campaigns.models import (
    AttemptStatus,
    Campaign,
    Recipient,
    RecipientStatus,
    SendAttempt,
    StatusEvent,
    WebhookEvent,
    WebhookState,
)
from campaigns.statuses.callbacks import webhook_event_process
from campaigns.statuses.machine import status_events_match_parked
from gupshup_admin.models import Template
from gupshup_admin.simulator import DEMO
from gupshup_admin.simulator.magic import FAILURES
from gupshup_admin.simulator.payloads import SentMessage
from tests.factories import attempt_sent, phones, sim_campaign
from tests.payloads import callback, message_bodies

GS_ID = "28e59926-60d5-41ed-beee-931ef168a966"
GS_ID_2 = "3f1c0b2a-5d6e-4f70-8a9b-0c1d2e3f4a5b"
WAMID = "wamid.HBgMOTE4ODg2OTEyMjI3FQIAERgSQzY0"
WAMID_2 = "wamid.HBgMOTE4ODg2OTEyMjI3FQIAERgSQzY1"
PHONE = phones(1)[0]


@pytest.fixture
def campaign(db: None) -> Campaign:
    campaign = sim_campaign(phones=[PHONE])
    attempt_sent(recipient(), message_id=GS_ID)
    return campaign


def recipient() -> Recipient:
    return Recipient.objects.get(phone=PHONE)


def attempt(number: int = 1) -> SendAttempt:
    return SendAttempt.objects.get(recipient__phone=PHONE, number=number)


def timeline(number: int = 1) -> list[str]:
    return list(attempt(number).events.values_list("status", flat=True))


def message(failure: str = "", gs_id: str = GS_ID, wamid: str = WAMID) -> SentMessage:
    return SentMessage(
        app=DEMO.capi_app,
        gs_id=gs_id,
        wamid=wamid,
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
        SendAttempt.objects.update(status=AttemptStatus.SUBMITTED, wamid="")
        Recipient.objects.update(status=RecipientStatus.SUBMITTED)
        for body in order:
            deliver(campaign, body)
        assert recipient().status == RecipientStatus.READ, order
        assert (attempt().status, attempt().wamid) == ("read", WAMID)
        assert timeline() == ["enqueued", "sent", "delivered", "read"]


def test_duplicates_change_nothing_and_a_status_never_moves_back(
    campaign: Campaign,
) -> None:
    enqueued, sent, delivered, read = bodies("v2", message())
    for body in [read, read, delivered, sent, enqueued, enqueued]:
        deliver(campaign, body)
    assert recipient().status == RecipientStatus.READ
    assert attempt().events.count() == 4


def test_a_failure_is_terminal_and_keeps_the_providers_code(campaign: Campaign) -> None:
    enqueued, failed = bodies("v3", message("1026"))
    deliver(campaign, failed)
    deliver(campaign, enqueued)
    row = recipient()
    assert row.status == RecipientStatus.FAILED
    assert (row.error_code, row.error_message) == ("131026", "Message undeliverable")
    assert (attempt().status, attempt().error_code) == ("failed", "131026")
    assert attempt().failed_at is not None


def test_an_asynchronous_v2_failure_after_enqueued_fails_the_recipient(
    campaign: Campaign,
) -> None:
    # WhatsApp's verdict names the wamid as id and the Gupshup id as gsId.
    enqueued, failed = bodies("v2", message("9049"))
    assert failed["payload"]["id"] == WAMID
    deliver(campaign, enqueued)
    assert deliver(campaign, failed).state == WebhookState.PROCESSED
    row = recipient()
    assert (row.status, row.error_code) == (RecipientStatus.FAILED, "131049")


def test_a_v2_status_is_dated_by_whatsapps_time_not_by_the_callback(
    campaign: Campaign,
) -> None:
    body = callback("v2-sent")
    body["payload"]["gsId"] = GS_ID
    deliver(campaign, body)
    event = attempt().events.get()
    inner = datetime.fromtimestamp(body["payload"]["payload"]["ts"], tz=UTC)
    assert (
        event.occurred_at
        == inner
        != datetime.fromtimestamp(body["timestamp"] / 1000, tz=UTC)
    )


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
    SendAttempt.objects.update(status=AttemptStatus.SENDING, message_id="")
    Recipient.objects.update(status=RecipientStatus.SENDING)
    for body in bodies("v3", message()):
        assert deliver(campaign, body).state == WebhookState.PARKED
    SendAttempt.objects.update(status=AttemptStatus.SUBMITTED, message_id=GS_ID)
    Recipient.objects.update(status=RecipientStatus.SUBMITTED)
    assert status_events_match_parked(message_ids=[GS_ID]) == 4
    assert recipient().status == RecipientStatus.READ
    assert not StatusEvent.objects.filter(attempt=None).exists()
    assert not WebhookEvent.objects.filter(state=WebhookState.PARKED).exists()


def test_a_callback_resolves_an_unknown_recipient_by_its_number(
    campaign: Campaign,
) -> None:
    SendAttempt.objects.update(
        status=AttemptStatus.UNKNOWN, message_id="", submitted_at=None
    )
    Recipient.objects.update(
        status=RecipientStatus.UNKNOWN, error_message="read timeout"
    )
    enqueued, *_ = bodies("v2", message())
    deliver(campaign, enqueued)
    row = recipient()
    assert (row.status, row.error_message) == ("enqueued", "")
    assert attempt().message_id == GS_ID
    assert attempt().submitted_at == attempt().created_at


def test_a_second_attempts_callbacks_move_the_recipient_even_when_they_repeat(
    campaign: Campaign,
) -> None:
    """The first attempt was enqueued and failed; the retry is enqueued and
    fails again: the same two statuses, on another attempt."""
    for body in bodies("v2", message("9049")):
        deliver(campaign, body)
    attempt_sent(recipient(), message_id=GS_ID_2)
    assert recipient().status == RecipientStatus.SUBMITTED
    deliver(campaign, bodies("v2", message("9049", GS_ID_2, WAMID_2))[0])
    assert recipient().status == RecipientStatus.ENQUEUED
    deliver(campaign, bodies("v2", message("9049", GS_ID_2, WAMID_2))[1])
    assert (recipient().status, recipient().error_code) == ("failed", "131049")
    assert timeline(1) == timeline(2) == ["enqueued", "failed"]


def test_a_late_callback_of_an_earlier_attempt_leaves_the_recipient_alone(
    campaign: Campaign,
) -> None:
    deliver(campaign, bodies("v2", message())[0])  # attempt 1 enqueued
    attempt_sent(recipient(), message_id=GS_ID_2)
    for body in bodies("v2", message("", GS_ID_2, WAMID_2))[:2]:
        deliver(campaign, body)  # attempt 2: enqueued, sent
    for body in bodies("v2", message())[1:]:
        deliver(campaign, body)  # attempt 1 catches up: sent, delivered, read
    assert attempt(1).status == AttemptStatus.READ
    assert (attempt(2).status, recipient().status) == ("sent", "sent")
    assert recipient().latest_attempt == attempt(2)


def test_an_unknown_send_set_to_go_again_is_not_sent_when_it_turns_out_arrived(
    campaign: Campaign,
) -> None:
    """An operator asked to send an unknown again; before any sender took it,
    a callback shows the first request arrived: it is not sent twice."""
    SendAttempt.objects.update(status=AttemptStatus.UNKNOWN, message_id="")
    Recipient.objects.update(status=RecipientStatus.PENDING)
    delivered = bodies("v3", message())[2]
    deliver(campaign, delivered)
    assert (attempt().status, recipient().status) == ("delivered", "delivered")


def test_an_unknown_send_set_to_go_again_still_goes_when_it_turns_out_failed(
    campaign: Campaign,
) -> None:
    SendAttempt.objects.update(status=AttemptStatus.UNKNOWN, message_id="")
    Recipient.objects.update(status=RecipientStatus.PENDING)
    deliver(campaign, bodies("v3", message("1026"))[1])
    assert (attempt().status, recipient().status) == ("failed", "pending")


def test_milestones_are_the_times_the_timeline_shows(campaign: Campaign) -> None:
    enqueued, sent, delivered, read = bodies("v3", message())
    for body in [read, enqueued, sent]:
        deliver(campaign, body)
    row = attempt()
    # Read with no delivered callback yet: it was delivered by then at least.
    assert row.delivered_at == row.read_at is not None
    deliver(campaign, delivered)
    row = attempt()
    assert row.delivered_at is not None and row.read_at is not None
    assert row.delivered_at < row.read_at


def test_a_template_status_callback_updates_the_synced_template(
    campaign: Campaign,
) -> None:
    body = callback("v2-template-event")
    Template.objects.update(gupshup_id=body["payload"]["id"])
    deliver(campaign, body)
    template = Template.objects.get()
    assert (template.status, template.rejected_reason) == ("REJECTED", "INVALID_FORMAT")


def test_a_template_category_update_leaves_its_status_alone(
    campaign: Campaign,
) -> None:
    body = callback("v2-template-event-category-update")
    Template.objects.update(gupshup_id=body["payload"]["id"])
    deliver(campaign, body)
    assert Template.objects.get().status == "APPROVED"


@pytest.mark.parametrize(
    "name",
    [
        "v2-user-event",
        "v2-inbound-text",
        "v2-billing-event",
        "v2-account-event-tier",
        "v2-mismatch",
        "v3-inbound-text",
        "v3-other-field",
    ],
)
def test_other_kinds_of_callbacks_are_kept_as_processed(
    campaign: Campaign, name: str
) -> None:
    event = deliver(campaign, callback(name))
    assert (event.state, event.error) == (WebhookState.PROCESSED, "")
    assert recipient().status == RecipientStatus.SUBMITTED


def test_malformed_payloads_are_kept_as_invalid_with_a_reason(
    campaign: Campaign,
) -> None:
    event = WebhookEvent.objects.create(partner_app=campaign.partner_app, body="{nope")
    webhook_event_process(event=event)
    event.refresh_from_db()
    assert event.state == WebhookState.INVALID and "Expecting" in event.error


@pytest.mark.parametrize("together", [True, False])
def test_the_drain_matches_parked_events_in_the_same_batch_or_a_later_one(
    campaign: Campaign, together: bool
) -> None:
    from campaigns.statuses.receiving import webhooks_drain

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
    assert not StatusEvent.objects.filter(attempt=None).exists()


def test_deeply_nested_json_is_kept_as_invalid_with_a_reason(
    campaign: Campaign,
) -> None:
    event = WebhookEvent.objects.create(
        partner_app=campaign.partner_app, body="[" * 100_000 + "]" * 100_000
    )
    webhook_event_process(event=event)
    event.refresh_from_db()
    assert event.state == WebhookState.INVALID
    assert "nested too deeply" in event.error
