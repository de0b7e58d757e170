"""Start, schedule, pause, resume, cancel, retry and resolve: one service each."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from campaigns.dispatch import sender, slots
from campaigns.lifecycle import controls, retries
from campaigns.models import (
    AttemptStatus,
    Campaign,
    CampaignState,
    Recipient,
    RecipientStatus,
    SenderSlot,
)
from gupshup_admin.exceptions import ApplicationError
from gupshup_admin.models import HealthStatus, PartnerApp
from media_library import services as media_services
from media_library.models import MediaState, ProviderMedia
from tests.factories import attempt_sent, phones, sim_app, sim_campaign


@pytest.fixture
def draft(db: None, settings: Any) -> Campaign:
    settings.CAMPAIGN_SENDERS = 3
    # 100 a second: every slot serves the app (a 10/s app has one).
    return sim_campaign(phones=phones(5), app=sim_app(rate_per_minute=6000))


def test_start_moves_to_running_and_gives_each_sender_slot_a_task(
    draft: Campaign, monkeypatch: Any
) -> None:
    enqueued: list[tuple[Any, ...]] = []
    monkeypatch.setattr(
        slots, "enqueue_later", lambda task, delay, *a: enqueued.append(a)
    )
    controls.campaign_start(campaign=draft, user_id=None)
    assert draft.state == CampaignState.RUNNING and draft.started_at is not None
    tokens = {lease.slot: lease.token for lease in SenderSlot.objects.all()}
    assert sorted(tokens) == [0, 1, 2]
    assert sorted(enqueued) == sorted(tokens.items())

    # A second campaign shares the live senders: no new task.
    other = sim_campaign(phones=phones(2, start=40), app=draft.partner_app)
    controls.campaign_start(campaign=other, user_id=None)
    assert len(enqueued) == 3
    assert {s.slot: s.token for s in SenderSlot.objects.all()} == tokens


def test_an_app_is_served_by_one_slot_per_25_sends_a_second() -> None:
    slow = [PartnerApp(pk=pk, send_rate_per_minute=600) for pk in range(7, 11)]
    assert [len(sender.app_slots(app, 4)) for app in slow] == [1, 1, 1, 1]
    assert {min(sender.app_slots(app, 4)) for app in slow} == {0, 1, 2, 3}
    fast = PartnerApp(pk=5, send_rate_per_minute=3000)  # 50/s
    assert sender.app_slots(fast, 4) == {1, 2}
    lifted = PartnerApp(pk=5, send_rate_per_minute=60_000)
    assert sender.app_slots(lifted, 4) == {0, 1, 2, 3}


def test_a_sender_with_nothing_to_do_retires_unless_a_campaign_started(
    draft: Campaign, monkeypatch: Any
) -> None:
    enqueued: list[tuple[Any, ...]] = []
    monkeypatch.setattr(
        slots, "enqueue_later", lambda task, delay, *a: enqueued.append(a)
    )
    SenderSlot.objects.create(slot=0, token="a" * 32, heartbeat_at=timezone.now())
    slots.sender_retire(slot=0, token="a" * 32)
    assert not SenderSlot.objects.exists() and not enqueued

    # It found nothing running, but a campaign started before its slot went.
    SenderSlot.objects.create(slot=0, token="b" * 32, heartbeat_at=timezone.now())
    Campaign.objects.filter(pk=draft.pk).update(state=CampaignState.RUNNING)
    slots.sender_retire(slot=0, token="b" * 32)
    (fresh,) = SenderSlot.objects.all()
    assert fresh.token != "b" * 32 and enqueued == [(0, fresh.token)]


def test_start_names_every_failed_check(draft: Campaign) -> None:
    app = draft.partner_app
    app.health_status = HealthStatus.UNHEALTHY
    app.health_message = "App is not live."
    app.save()
    ProviderMedia.objects.update(state=MediaState.EXPIRED)
    draft.recipients.all().delete()
    with pytest.raises(ApplicationError) as caught:
        controls.campaign_start(campaign=draft, user_id=None)
    message = caught.value.message
    assert "load a CSV first" in message
    assert "App is not live." in message
    assert "mirror or refresh it first" in message
    draft.refresh_from_db()
    assert draft.state == CampaignState.DRAFT


def test_media_that_expires_too_soon_is_mirrored_again_at_once(
    draft: Campaign, monkeypatch: Any
) -> None:
    mirrored: list[tuple[Any, ...]] = []
    monkeypatch.setattr(
        media_services, "enqueue_on_commit", lambda task, *a: mirrored.append(a)
    )
    ProviderMedia.objects.update(expires_at=timezone.now() + timedelta(seconds=1))
    with pytest.raises(ApplicationError, match="fresh media id is being made"):
        controls.campaign_start(campaign=draft, user_id=None)
    assert mirrored == [(ProviderMedia.objects.get().pk, None)]


def test_a_future_schedule_waits_and_a_late_one_needs_confirmation(
    draft: Campaign, settings: Any
) -> None:
    draft.scheduled_at = timezone.now() + timedelta(hours=2)
    draft.save()
    controls.campaign_start(campaign=draft, user_id=None)
    assert draft.state == CampaignState.SCHEDULED
    assert not SenderSlot.objects.exists()

    draft.scheduled_at = timezone.now() - timedelta(hours=2)
    draft.save()
    with pytest.raises(ApplicationError, match="due 120 minute"):
        controls.campaign_start(campaign=draft, user_id=None)
    controls.campaign_start(campaign=draft, user_id=None, confirm_late=True)
    assert draft.state == CampaignState.RUNNING


def test_a_schedule_that_came_due_too_late_goes_back_to_draft_with_the_reason(
    draft: Campaign,
) -> None:
    Campaign.objects.filter(pk=draft.pk).update(
        state=CampaignState.SCHEDULED,
        scheduled_at=timezone.now() - timedelta(hours=3),
    )
    draft.refresh_from_db()
    assert controls.campaign_start_scheduled(campaign=draft) is False
    draft.refresh_from_db()
    assert draft.state == CampaignState.DRAFT
    assert draft.state_reason.startswith("Did not start: This campaign was due 180")


def test_pause_resume_and_cancel_follow_the_state_machine(draft: Campaign) -> None:
    with pytest.raises(ApplicationError, match="draft; it cannot be paused"):
        controls.campaign_pause(campaign=draft, user_id=None)
    controls.campaign_start(campaign=draft, user_id=None)
    controls.campaign_pause(campaign=draft, user_id=None)
    assert draft.state == CampaignState.PAUSED
    with pytest.raises(ApplicationError, match="paused; it cannot be started"):
        controls.campaign_start(campaign=draft, user_id=None)
    SenderSlot.objects.all().delete()  # the senders retired meanwhile
    controls.campaign_resume(campaign=draft, user_id=None)
    assert draft.state == CampaignState.RUNNING
    assert SenderSlot.objects.count() == 3, "resuming starts the senders again"
    Recipient.objects.filter(phone=phones(1)[0]).update(
        status=RecipientStatus.SUBMITTED
    )
    assert controls.campaign_cancel(campaign=draft, user_id=None) == 4
    assert draft.state == CampaignState.CANCELLED
    assert draft.recipients.filter(status=RecipientStatus.SUBMITTED).count() == 1
    with pytest.raises(ApplicationError, match="cancelled; it cannot be resumed"):
        controls.campaign_resume(campaign=draft, user_id=None)


def test_resume_rechecks_the_media_and_refuses_when_it_expired(
    draft: Campaign,
) -> None:
    controls.campaign_start(campaign=draft, user_id=None)
    controls.campaign_pause(campaign=draft, user_id=None)
    ProviderMedia.objects.update(state=MediaState.EXPIRED)
    with pytest.raises(ApplicationError, match="no media id"):
        controls.campaign_resume(campaign=draft, user_id=None)
    assert draft.state == CampaignState.PAUSED


def failed_with(campaign: Campaign, codes: list[str]) -> None:
    for recipient, code in zip(campaign.recipients.order_by("pk"), codes, strict=False):
        recipient.status = RecipientStatus.FAILED
        recipient.error_code = code
        recipient.error_message = f"error {code}"
        recipient.save()


def test_retry_failed_by_code_previews_then_sends_again_a_completed_campaign(
    draft: Campaign,
) -> None:
    Campaign.objects.filter(pk=draft.pk).update(state=CampaignState.COMPLETED)
    draft.refresh_from_db()
    draft.recipients.update(status=RecipientStatus.SUBMITTED)
    failed_with(draft, ["500", "500", "1002"])
    assert retries.campaign_retry_preview(campaign=draft, codes=["500"]).will_send == 2
    everything = retries.campaign_retry_preview(campaign=draft)
    # 1002 (not on WhatsApp) failed for good: left out unless included.
    assert (everything.will_send, everything.permanent) == (2, 1)
    assert str(everything) == (
        "2 recipients will be sent again, 1 left out (not on WhatsApp: 1)."
    )
    count = retries.campaign_retry_failed(campaign=draft, codes=["500"], user_id=None)
    assert count == 2
    assert draft.state == CampaignState.RUNNING
    assert draft.recipients.filter(status=RecipientStatus.PENDING).count() == 2
    still = draft.recipients.get(status=RecipientStatus.FAILED)
    assert still.error_code == "1002"


def test_retry_is_refused_for_a_cancelled_campaign(draft: Campaign) -> None:
    controls.campaign_cancel(campaign=draft, user_id=None)
    with pytest.raises(ApplicationError, match="cannot be retried"):
        retries.campaign_retry_failed(campaign=draft, user_id=None)


def test_an_operator_resolves_unknown_recipients(draft: Campaign) -> None:
    Campaign.objects.filter(pk=draft.pk).update(state=CampaignState.COMPLETED)
    draft.refresh_from_db()
    rows = list(draft.recipients.order_by("pk"))
    unknown = [attempt_sent(row, status=AttemptStatus.UNKNOWN) for row in rows]
    resolve = retries.recipients_resolve_unknown
    qs = Recipient.objects.filter
    assert resolve(recipients=qs(pk=rows[0].pk), outcome="submitted", user_id=1) == 1
    assert resolve(recipients=qs(pk=rows[1].pk), outcome="failed", user_id=1) == 1
    assert resolve(recipients=qs(pk=rows[2].pk), outcome="resend", user_id=1) == 1
    statuses = [r.status for r in draft.recipients.order_by("pk")]
    assert statuses[:3] == ["submitted", "failed", "pending"]
    # The verdict is the attempt's too; a resend will be a new attempt.
    for attempt in unknown:
        attempt.refresh_from_db()
    assert [a.status for a in unknown[:3]] == ["submitted", "failed", "unknown"]
    assert unknown[0].submitted_at == unknown[0].created_at
    assert unknown[1].failed_at is not None and unknown[1].error_code == "operator"
    draft.refresh_from_db()
    assert draft.state == CampaignState.RUNNING, "a resend runs the campaign again"
    # Only unknown rows are touched.
    assert resolve(recipients=qs(pk=rows[0].pk), outcome="failed", user_id=1) == 0
    with pytest.raises(ApplicationError):
        resolve(recipients=qs(pk=rows[3].pk), outcome="maybe", user_id=1)


def test_unknown_rows_of_a_cancelled_campaign_cannot_be_sent_again(
    draft: Campaign,
) -> None:
    controls.campaign_cancel(campaign=draft, user_id=None)
    draft.recipients.update(status=RecipientStatus.UNKNOWN)
    with pytest.raises(ApplicationError, match="cancelled: nothing would send"):
        retries.recipients_resolve_unknown(
            recipients=draft.recipients.all(), outcome="resend", user_id=None
        )
    assert draft.recipients.filter(status=RecipientStatus.UNKNOWN).count() == 5
