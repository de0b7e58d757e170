"""The dispatcher against the real simulator (HTTP), one sender in this process."""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from campaigns.dispatch import batch, sender
from campaigns.lifecycle import controls
from campaigns.models import (
    AttemptStatus,
    Campaign,
    CampaignState,
    Recipient,
    RecipientStatus,
    SendAttempt,
    SenderSlot,
)
from gupshup_admin.models import ApiExchange, SendRateBucket, Template
from gupshup_admin.ratelimit import send_spacing
from gupshup_admin.simulator import DEMO, Simulator, SimulatorConfig
from media_library.models import MediaFile, ProviderMedia
from tests.factories import phones, sim_app, sim_campaign


@pytest.fixture
def sim(settings: Any) -> Iterator[Simulator]:
    with Simulator(SimulatorConfig(hang_seconds=5)) as simulator:
        settings.GUPSHUP_API_BASE = simulator.base_url
        settings.CAMPAIGN_SENDER_SLICE_SECONDS = 5
        settings.CAMPAIGN_RETRY_BACKOFF_SECONDS = 0.01
        settings.PROVIDER_READ_TIMEOUT = 0.5
        yield simulator


def run_senders(campaign: Campaign, rounds: int = 20, *, finish: bool = True) -> None:
    """Run sender slot 0 until it stops, like the task chain would."""
    lease = SenderSlot.objects.get(slot=0)
    for _ in range(rounds):
        result = sender.sender_run(slot=0, token=lease.token)
        if result.again_in is None:
            return
        # The chain would run again after `again_in` (a pause, a retry's
        # backoff): wait for it, or a busy machine spends the rounds too soon.
        time.sleep(min(result.again_in, 1.0))
    assert not finish, "the sender did not finish"


def start(campaign: Campaign, settings: Any) -> None:
    settings.CAMPAIGN_SENDERS = 1
    controls.campaign_start(campaign=campaign, user_id=None)


def statuses(campaign: Campaign) -> dict[str, str]:
    return dict(campaign.recipients.values_list("phone", "status"))


def test_every_recipient_gets_exactly_one_template_send(
    db: None, sim: Simulator, settings: Any
) -> None:
    campaign = sim_campaign(phones=phones(12))
    start(campaign, settings)
    run_senders(campaign)
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.COMPLETED
    assert set(statuses(campaign).values()) == {RecipientStatus.SUBMITTED}
    sent = [r for r in sim.requests("template_msg") if r["accepted"]]
    assert Counter(r["destination"] for r in sent) == Counter(
        p.lstrip("+") for p in phones(12)
    )
    recipient = campaign.recipients.first()
    assert recipient is not None and recipient.attempts == 1
    attempt = recipient.latest_attempt
    assert attempt is not None and attempt.exchange is not None
    assert (attempt.number, attempt.status) == (1, AttemptStatus.SUBMITTED)
    assert attempt.exchange.ref == f"attempt:{attempt.pk}"
    assert attempt.message_id == attempt.exchange.response_body.split('"')[-2]
    assert attempt.submitted_at is not None and attempt.claim


def test_a_timeout_marks_the_recipient_unknown_and_never_resends(
    db: None, sim: Simulator, settings: Any
) -> None:
    hang, dropped = phones(1, suffix="0408")[0], phones(1, start=2, suffix="0502")[0]
    campaign = sim_campaign(phones=[hang, dropped, *phones(2, start=3)])
    start(campaign, settings)
    run_senders(campaign)
    result = statuses(campaign)
    assert result[hang] == result[dropped] == RecipientStatus.UNKNOWN
    assert len(sim.requests("template_msg")) == 4
    unknown = Recipient.objects.get(phone=hang)
    assert "read timeout" in unknown.error_message
    attempt = unknown.latest_attempt
    assert attempt is not None and attempt.exchange is not None
    assert (attempt.status, attempt.message_id) == (AttemptStatus.UNKNOWN, "")


def test_a_500_is_retried_with_backoff_then_fails_with_the_providers_words(
    db: None, sim: Simulator, settings: Any
) -> None:
    settings.CAMPAIGN_SEND_MAX_RETRIES = 2
    broken = phones(1, suffix="0500")[0]
    campaign = sim_campaign(phones=[broken, *phones(2, start=2)])
    start(campaign, settings)
    run_senders(campaign)
    failed = Recipient.objects.get(phone=broken)
    assert failed.status == RecipientStatus.FAILED
    assert failed.error_code == "500"
    assert failed.retries == 3 and failed.attempts == 3
    # Each request is an attempt: two put back in the queue, the last failed.
    tries = failed.send_attempts.order_by("number")
    assert [a.status for a in tries] == ["requeued", "requeued", "failed"]
    assert {a.error_code for a in tries} == {"500"}
    assert all(a.exchange_id for a in tries)
    assert "Gave up after 3 attempts" in failed.error_message
    assert "Internal server error" in failed.error_message
    assert len([r for r in sim.requests("template_msg") if r["status"] == 500]) == 3


def test_a_429_pauses_the_app_and_fails_nobody(
    db: None, sim: Simulator, settings: Any
) -> None:
    settings.CAMPAIGN_THROTTLE_PAUSE_SECONDS = 0.2
    settings.CAMPAIGN_SENDER_SLICE_SECONDS = 0.5
    sim.add_app(dataclasses.replace(DEMO.capi_app, rate_per_minute=3))
    campaign = sim_campaign(phones=phones(5))
    start(campaign, settings)
    run_senders(campaign, rounds=3, finish=False)
    limited = [r for r in sim.requests("template_msg") if r["status"] == 429]
    assert limited, "the simulator should have answered 429"
    assert not campaign.recipients.filter(status=RecipientStatus.FAILED).exists()
    assert campaign.recipients.filter(status=RecipientStatus.SUBMITTED).count() == 3
    bucket = campaign.partner_app.rate_bucket
    assert bucket.throttle_count >= 1 and bucket.slowdown < 1
    sim.add_app(DEMO.capi_app)
    sim.reset()
    run_senders(campaign)
    assert set(statuses(campaign).values()) == {RecipientStatus.SUBMITTED}
    # A 429 was an attempt put back in the queue; a later one went through.
    throttled = SendAttempt.objects.filter(campaign=campaign, error_code="429")
    assert throttled.exists()
    assert set(throttled.values_list("status", flat=True)) == {"requeued"}
    for row in campaign.recipients.select_related("latest_attempt"):
        assert row.latest_attempt is not None
        assert row.latest_attempt.status == AttemptStatus.SUBMITTED
        assert row.attempts == row.send_attempts.count()


def test_repeated_auth_failures_pause_the_campaign_and_say_why(
    db: None, sim: Simulator, settings: Any, mailoutbox: list[Any]
) -> None:
    from django.contrib.auth.models import User

    campaign = sim_campaign(phones=phones(4))
    campaign.created_by = User.objects.create(username="m", email="m@example.com")
    campaign.save()
    app = campaign.partner_app
    app.set_app_token("sk_wrongtoken0000000000000000", source="pasted")
    app.save()
    start(campaign, settings)
    run_senders(campaign)
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.PAUSED
    assert "refused the app token 3 times" in campaign.state_reason
    assert set(statuses(campaign).values()) == {RecipientStatus.PENDING}
    # The refused requests are attempts too, each back in the queue.
    refused = SendAttempt.objects.filter(campaign=campaign)
    assert refused.count() == 3
    assert set(refused.values_list("status", "error_code")) == {("requeued", "401")}
    assert mailoutbox and "Fix the token" in mailoutbox[0].body


def test_a_permanent_error_fails_the_recipient_with_code_and_message(
    db: None, sim: Simulator, settings: Any
) -> None:
    campaign = sim_campaign(phones=phones(1))
    start(campaign, settings)
    # Deleted on Gupshup after the pre-flight passed.
    Template.objects.update(gupshup_id="00000000-dead-4bad-8bad-000000000000")
    run_senders(campaign)
    failed = Recipient.objects.get(phone=phones(1)[0])
    assert failed.status == RecipientStatus.FAILED
    assert failed.error_code == "400"
    assert "Template Does Not Exist" in failed.error_message
    attempt = failed.latest_attempt
    assert attempt is not None and attempt.status == AttemptStatus.FAILED
    assert ApiExchange.objects.filter(ref=attempt.exchange_ref).count() == 1


def test_a_cancel_between_sends_cancels_the_rows_not_yet_sent(
    db: None, sim: Simulator, settings: Any, monkeypatch: Any
) -> None:
    settings.CAMPAIGN_APP_IN_FLIGHT = 1  # one request at a time
    campaign = sim_campaign(phones=phones(3))
    start(campaign, settings)
    real = batch.attempts_submitted

    def settle_then_cancel(accepted: Any) -> None:
        real(accepted)
        if Campaign.objects.get().state == CampaignState.RUNNING:
            controls.campaign_cancel(campaign=Campaign.objects.get(), user_id=None)

    monkeypatch.setattr(batch, "attempts_submitted", settle_then_cancel)
    run_senders(campaign)
    assert [r.status for r in campaign.recipients.order_by("pk")] == [
        RecipientStatus.SUBMITTED,
        RecipientStatus.CANCELLED,
        RecipientStatus.CANCELLED,
    ]
    assert len(sim.requests("template_msg")) == 1


def test_a_pause_with_requests_in_flight_settles_them_and_sends_nothing_new(
    db: None, sim: Simulator, settings: Any, monkeypatch: Any
) -> None:
    """Three requests in flight when the campaign pauses: each is settled by its
    answer, and nothing else is claimed or sent. (The first request of a sender
    goes alone, its slow start; the three go together after it.)"""
    settings.CAMPAIGN_APP_IN_FLIGHT = 3
    sim.config.latency = 0.2  # the three are in flight together
    campaign = sim_campaign(phones=phones(8), app=sim_app(rate_per_minute=60_000))
    start(campaign, settings)
    real = batch.attempts_submitted
    settled: list[int] = []

    def settle_then_pause(accepted: Any) -> None:
        real(accepted)
        settled.append(len(accepted))
        running = Campaign.objects.get().state == CampaignState.RUNNING
        if sum(settled) >= 2 and running:  # the first of the three is back
            controls.campaign_pause(campaign=Campaign.objects.get(), user_id=None)

    monkeypatch.setattr(batch, "attempts_submitted", settle_then_pause)
    run_senders(campaign)
    sent = sim.requests("template_msg")
    assert len(sent) == 4
    assert Counter(statuses(campaign).values()) == {
        RecipientStatus.SUBMITTED: 4,
        RecipientStatus.PENDING: 4,
    }
    assert SendAttempt.objects.count() == 4


def test_a_pause_calls_off_the_sends_taken_ahead_that_have_not_left(
    db: None, sim: Simulator, settings: Any, monkeypatch: Any
) -> None:
    """At 8 a second a sender takes the next half second's sends at once (after
    its first request, which goes alone: its slow start): three or so, an
    eighth of a second apart. A pause after the first of those is answered
    calls the others off before they leave: nothing of them stays behind."""
    campaign = sim_campaign(phones=phones(6), app=sim_app(rate_per_minute=480))
    start(campaign, settings)
    real = batch.attempts_submitted
    real_claim = batch.recipients_claim
    taken: list[int] = []
    settled: list[int] = []

    def count_taken(*args: Any, **kwargs: Any) -> Any:
        rows = real_claim(*args, **kwargs)
        taken.append(len(rows))
        return rows

    def settle_then_pause(accepted: Any) -> None:
        real(accepted)
        settled.append(len(accepted))
        if sum(settled) >= 2 and Campaign.objects.get().state == CampaignState.RUNNING:
            controls.campaign_pause(campaign=Campaign.objects.get(), user_id=None)

    monkeypatch.setattr(batch, "recipients_claim", count_taken)
    monkeypatch.setattr(batch, "attempts_submitted", settle_then_pause)
    run_senders(campaign)
    assert taken[0] == 1 and taken[1] >= 2, "sends due within half a second"
    assert len(sim.requests("template_msg")) == 2
    assert Counter(statuses(campaign).values()) == {
        RecipientStatus.SUBMITTED: 2,
        RecipientStatus.PENDING: 4,
    }
    assert SendAttempt.objects.count() == ApiExchange.objects.count() == 2
    assert (
        not campaign.recipients.exclude(claimed_by="")
        .exclude(status=RecipientStatus.SUBMITTED)
        .exists()
    )


def test_a_slice_that_ends_gives_back_the_sends_it_took_ahead(
    db: None, sim: Simulator, settings: Any
) -> None:
    """A slice ends with sends taken ahead and not yet left: they are called
    off, their rows wait unharmed, and their tokens go back to the bucket, so
    the next slice (another worker, perhaps) sends from there on instead of
    after sends that will never leave."""
    settings.CAMPAIGN_SENDER_SLICE_SECONDS = 0.6
    campaign = sim_campaign(phones=phones(20), app=sim_app(rate_per_minute=480))
    start(campaign, settings)
    lease = SenderSlot.objects.get(slot=0)
    result = sender.sender_run(slot=0, token=lease.token)
    assert result.again_in == 0.0  # more to send: the next slice
    sent = len(sim.requests("template_msg"))
    assert 2 <= sent < 20
    assert Counter(statuses(campaign).values()) == {
        RecipientStatus.SUBMITTED: sent,
        RecipientStatus.PENDING: 20 - sent,
    }
    assert SendAttempt.objects.count() == ApiExchange.objects.count() == sent
    bucket = campaign.partner_app.rate_bucket
    bucket.refresh_from_db()
    # What was reserved and not sent came back: at most the one token that
    # fell due meanwhile is owed, not the half second taken ahead.
    assert bucket.tokens > -1.0


def test_a_callback_that_beat_its_send_is_attached_right_after_the_send(
    db: None, settings: Any
) -> None:
    import json
    import re

    import responses

    from campaigns.models import WebhookEvent, WebhookState
    from campaigns.statuses.callbacks import webhook_event_process
    from tests.payloads import callback

    campaign = sim_campaign(phones=phones(1))
    body = callback("v2-enqueued")
    body["payload"]["id"] = body["payload"]["gsId"] = "gs-early-1"
    early = WebhookEvent.objects.create(
        partner_app=campaign.partner_app, body=json.dumps(body)
    )
    webhook_event_process(event=early)
    assert early.state == WebhookState.PARKED  # the send is not written yet
    start(campaign, settings)
    with responses.RequestsMock() as mock:
        mock.add(
            responses.POST,
            re.compile(r".*/template/msg$"),
            json={"status": "submitted", "messageId": "gs-early-1"},
        )
        run_senders(campaign)
    recipient = campaign.recipients.get()
    assert recipient.latest_attempt is not None
    assert recipient.latest_attempt.message_id == "gs-early-1"
    assert recipient.status == "enqueued"
    early.refresh_from_db()
    assert early.state == WebhookState.PROCESSED


def test_an_image_with_only_a_plain_http_link_is_not_sent_by_it(
    db: None, sim: Simulator, settings: Any
) -> None:
    campaign = sim_campaign(phones=phones(2))
    start(campaign, settings)
    ProviderMedia.objects.filter(media_file=campaign.media_file_id).delete()
    MediaFile.objects.filter(pk=campaign.media_file_id).update(
        public_url="http://cdn.example.com/banner.jpg"
    )
    run_senders(campaign)
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.PAUSED
    assert "no valid media id" in campaign.state_reason
    assert sim.requests("template_msg") == []


def test_a_media_id_that_expired_after_the_start_is_not_sent(
    db: None, sim: Simulator, settings: Any
) -> None:
    """The row still says "ready"; its expiry (margin already taken off) says
    no. Without a public link the campaign pauses rather than send a dead id."""
    campaign = sim_campaign(phones=phones(2))
    start(campaign, settings)
    ProviderMedia.objects.filter(media_file=campaign.media_file_id).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    MediaFile.objects.filter(pk=campaign.media_file_id).update(public_url="")

    run_senders(campaign)

    campaign.refresh_from_db()
    assert campaign.state == CampaignState.PAUSED
    assert "no valid media id" in campaign.state_reason
    assert sim.requests("template_msg") == []


def test_a_slice_that_ends_holds_the_bucket_until_a_spacing_after_its_last_send(
    db: None, sim: Simulator, settings: Any
) -> None:
    """The next slice (another process, a new pacer) sends no sooner than one
    spacing after this slice's last request really left: the bucket knows
    only when the tokens fell due, and late wakes put the sends behind that."""
    settings.CAMPAIGN_SENDER_SLICE_SECONDS = 0.6
    app = sim_app(rate_per_minute=600)
    campaign = sim_campaign(phones=phones(40), app=app)
    start(campaign, settings)
    slot = SenderSlot.objects.get(slot=0)
    result = sender.sender_run(slot=0, token=slot.token)
    assert result.again_in is not None  # the slice ended, the campaign goes on
    last = max(r["time"] for r in sim.requests("template_msg"))
    held = SendRateBucket.objects.get(app=app).not_before
    assert held is not None
    spacing = send_spacing(600)
    # The simulator stamps an arrival a moment after the request left.
    assert last + spacing - 0.05 <= held.timestamp() <= last + spacing + 0.01
