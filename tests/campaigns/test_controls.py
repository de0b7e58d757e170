"""Start, schedule, pause, resume, cancel, retry and resolve: one service each."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from campaigns.lifecycle import controls, retries
from campaigns.models import (
    AttemptStatus,
    Campaign,
    CampaignState,
    Recipient,
    RecipientStatus,
    SenderLease,
)
from gupshup_admin.exceptions import ApplicationError
from gupshup_admin.models import HealthStatus
from media_library import services as media_services
from media_library.models import MediaState, ProviderMedia
from tests.factories import attempt_sent, phones, sim_campaign


@pytest.fixture
def draft(db: None, settings: Any) -> Campaign:
    settings.CAMPAIGN_SENDERS = 3
    return sim_campaign(phones=phones(5))


def test_start_moves_to_running_and_gives_each_sender_slot_a_lease(
    draft: Campaign, monkeypatch: Any
) -> None:
    enqueued: list[tuple[Any, ...]] = []
    monkeypatch.setattr(
        controls, "enqueue_on_commit", lambda task, *a: enqueued.append(a)
    )
    controls.campaign_start(campaign=draft, user_id=None)
    assert draft.state == CampaignState.RUNNING and draft.started_at is not None
    leases = {lease.slot: lease.token for lease in SenderLease.objects.all()}
    assert sorted(leases) == [0, 1, 2]
    assert sorted(enqueued) == sorted((draft.pk, s, t) for s, t in leases.items())


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
    assert not SenderLease.objects.exists()

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
    old_tokens = set(SenderLease.objects.values_list("token", flat=True))
    controls.campaign_resume(campaign=draft, user_id=None)
    assert draft.state == CampaignState.RUNNING
    new_tokens = set(SenderLease.objects.values_list("token", flat=True))
    assert not old_tokens & new_tokens, "resumed senders replace the old ones"
    Recipient.objects.filter(phone=phones(1)[0]).update(
        status=RecipientStatus.SUBMITTED
    )
    assert controls.campaign_cancel(campaign=draft, user_id=None) == 4
    assert draft.state == CampaignState.CANCELLED
    assert not SenderLease.objects.exists()
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
