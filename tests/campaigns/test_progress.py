"""What the campaign page shows while it runs: counts, rate, ETA, failures."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from campaigns.models import Campaign, CampaignState, RecipientStatus, SendAttempt
from campaigns.reporting.progress import campaign_progress
from tests.factories import attempt_sent, phones, sim_campaign


def test_progress_counts_each_status_and_estimates_from_the_recent_rate(
    db: None,
) -> None:
    campaign = sim_campaign(phones=phones(10))
    Campaign.objects.filter(pk=campaign.pk).update(state=CampaignState.RUNNING)
    campaign.refresh_from_db()
    now = timezone.now()
    rows = list(campaign.recipients.order_by("pk"))
    for row in rows[:4]:
        attempt_sent(row)
    rows[4].status, rows[4].error_code = RecipientStatus.FAILED, "1002"
    rows[4].error_message = "Number Does Not Exists On WhatsApp"
    rows[4].save()
    rows[5].status, rows[5].error_code = RecipientStatus.FAILED, "1002"
    rows[5].save()
    rows[6].status, rows[6].error_code = RecipientStatus.FAILED, "500"
    rows[6].save()
    old = now - timedelta(minutes=5)
    SendAttempt.objects.filter(pk=attempt_sent(rows[7]).pk).update(submitted_at=old)

    progress = campaign_progress(campaign=campaign, now=now)

    assert progress.total == 10
    assert progress.counts[RecipientStatus.SUBMITTED] == 5
    assert progress.counts[RecipientStatus.PENDING] == 2
    assert progress.counts[RecipientStatus.UNKNOWN] == 0
    assert (progress.settled, progress.percent) == (8, 80)
    assert progress.rate_per_minute == 4.0  # the old send is outside the minute
    assert progress.eta_seconds == 30  # 2 waiting at 4 per minute
    assert [(f.code, f.count) for f in progress.failures] == [("1002", 2), ("500", 1)]
    assert progress.failures[0].message == "Number Does Not Exists On WhatsApp"
    data = progress.as_json()
    assert data["percent"] == 80 and data["state"] == "running"


def test_a_campaign_that_is_not_running_has_no_eta(db: None) -> None:
    campaign = sim_campaign(phones=phones(3))
    progress = campaign_progress(campaign=campaign)
    assert progress.eta_seconds is None and progress.percent == 0


def test_in_the_first_minute_the_rate_counts_only_the_time_since_the_start(
    db: None,
) -> None:
    campaign = sim_campaign(phones=phones(20))
    now = timezone.now()
    Campaign.objects.filter(pk=campaign.pk).update(
        state=CampaignState.RUNNING, started_at=now - timedelta(seconds=10)
    )
    campaign.refresh_from_db()
    for row in campaign.recipients.order_by("pk")[:10]:
        attempt_sent(row)
    SendAttempt.objects.update(submitted_at=now)
    progress = campaign_progress(campaign=campaign, now=now)
    assert progress.rate_per_minute == 60.0  # 10 in 10 s, not 10 in a minute
    assert progress.eta_seconds == 10
