"""A worker that died mid-send: its rows are settled by the exchange log."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from campaigns.dispatch import recovery
from campaigns.lifecycle import controls, tick
from campaigns.models import (
    AttemptStatus,
    Campaign,
    CampaignState,
    Recipient,
    RecipientStatus,
    SendAttempt,
    SenderSlot,
)
from gupshup_admin.models import ApiExchange, ExchangeOutcome
from tests.factories import attempt_sent, phones, sim_app, sim_campaign


@pytest.fixture
def running(db: None, settings: Any) -> Campaign:
    settings.CAMPAIGN_SENDERS = 2
    settings.CAMPAIGN_STALE_SECONDS = 60
    # 100 a second: both slots serve the app (a 10/s app has one).
    campaign = sim_campaign(phones=phones(4), app=sim_app(rate_per_minute=6000))
    controls.campaign_start(campaign=campaign, user_id=None)
    return campaign


def claim(campaign: Campaign, seconds_ago: float) -> list[int]:
    at = timezone.now() - timedelta(seconds=seconds_ago)
    rows = list(campaign.recipients.order_by("pk").values_list("pk", flat=True))
    campaign.recipients.update(
        status=RecipientStatus.SENDING, claimed_at=at, claimed_by="dead-worker"
    )
    return rows


def attempt_for(pk: int, *, claim: str = "dead-worker", **fields: Any) -> SendAttempt:
    recipient = Recipient.objects.select_related("campaign").get(pk=pk)
    return SendAttempt.objects.create(
        recipient=recipient,
        campaign=recipient.campaign,
        partner_app=recipient.campaign.partner_app,
        number=recipient.attempts + 1,
        claim=claim,
        **fields,
    )


def exchange_for(attempt: SendAttempt, *, at: Any) -> ApiExchange:
    return ApiExchange.objects.create(
        provider="gupshup",
        endpoint="template_msg",
        method="POST",
        url="http://sim/template/msg",
        ref=attempt.exchange_ref,
        created_at=at,
    )


def test_an_orphan_whose_request_left_is_unknown_and_the_others_are_pending(
    running: Campaign,
) -> None:
    rows = claim(running, seconds_ago=120)
    left = attempt_for(rows[0])
    sent = exchange_for(left, at=timezone.now() - timedelta(seconds=119))
    never_left = attempt_for(rows[1])  # written, but the worker died before the call
    # An attempt of an earlier claim does not count for this one.
    earlier = attempt_for(rows[2], claim="an-earlier-claim")
    exchange_for(earlier, at=timezone.now() - timedelta(seconds=500))
    assert recovery.recipients_recover_orphans() == (3, 1)
    first = running.recipients.get(pk=rows[0])
    assert first.status == RecipientStatus.UNKNOWN
    assert first.latest_attempt == left and first.attempts == 1
    assert "may have received" in first.error_message
    left.refresh_from_db()
    assert (left.status, left.exchange_id) == (AttemptStatus.UNKNOWN, sent.pk)
    assert not SendAttempt.objects.filter(pk=never_left.pk).exists()
    assert set(
        running.recipients.exclude(pk=rows[0]).values_list("status", flat=True)
    ) == {RecipientStatus.PENDING}


def test_an_orphan_whose_attempt_was_settled_takes_its_outcome(
    running: Campaign,
) -> None:
    rows = claim(running, seconds_ago=120)
    accepted = attempt_for(rows[0], status=AttemptStatus.SUBMITTED, message_id="gs-9")
    throttled = attempt_for(rows[1], status=AttemptStatus.REQUEUED, error_code="429")
    recovery.recipients_recover_orphans()
    first, second = (running.recipients.get(pk=pk) for pk in rows[:2])
    assert (first.status, first.latest_attempt) == ("submitted", accepted)
    assert (second.status, second.latest_attempt) == ("pending", throttled)


def test_the_exchange_a_dead_worker_left_sending_is_closed_with_the_reason(
    running: Campaign,
) -> None:
    rows = claim(running, seconds_ago=120)
    sent = exchange_for(
        attempt_for(rows[0]), at=timezone.now() - timedelta(seconds=119)
    )
    assert sent.outcome == ExchangeOutcome.SENDING
    recovery.recipients_recover_orphans()
    sent.refresh_from_db()
    assert (sent.outcome, sent.error_class) == (ExchangeOutcome.ERROR, "WorkerStopped")
    assert "worker stopped during the request" in sent.error_message


def test_rows_claimed_recently_belong_to_a_live_worker_and_are_left_alone(
    running: Campaign,
) -> None:
    claim(running, seconds_ago=5)
    assert recovery.recipients_recover_orphans() == (0, 0)
    assert set(running.recipients.values_list("status", flat=True)) == {
        RecipientStatus.SENDING
    }


def test_the_tick_revives_silent_senders_and_starts_due_campaigns(
    running: Campaign, settings: Any
) -> None:
    silent = timezone.now() - timedelta(seconds=300)
    SenderSlot.objects.filter(slot=0).update(heartbeat_at=silent)
    before = dict(SenderSlot.objects.values_list("slot", "token"))
    due = sim_campaign(phones=phones(2, start=50), app=running.partner_app, name="B")
    Campaign.objects.filter(pk=due.pk).update(
        state=CampaignState.SCHEDULED,
        scheduled_at=timezone.now() - timedelta(minutes=1),
    )
    result = tick.campaigns_tick()
    assert (result.started, result.revived) == (1, 1)
    after = dict(SenderSlot.objects.values_list("slot", "token"))
    assert after[0] != before[0] and after[1] == before[1]
    due.refresh_from_db()
    assert due.state == CampaignState.RUNNING
    assert "1 scheduled campaign(s) started, 1 sender(s) revived" in str(result)


def test_the_tick_attaches_callbacks_parked_before_their_send_was_written(
    running: Campaign,
) -> None:
    from campaigns.models import StatusEvent

    row = running.recipients.order_by("pk").first()
    assert row is not None
    StatusEvent.objects.create(
        partner_app=running.partner_app, status="delivered", gs_id="gs-1"
    )
    assert tick.campaigns_tick().matched == 0  # its send is not written yet
    attempt_sent(row, message_id="gs-1")
    assert tick.campaigns_tick().matched == 1
    row.refresh_from_db()
    assert row.status == RecipientStatus.DELIVERED
