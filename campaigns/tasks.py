"""Campaign tasks: thin interfaces that take ids and call one service."""

from __future__ import annotations

import time

from django_tasks import task

from campaigns.dispatch import recovery, sender
from campaigns.lifecycle import controls
from campaigns.models import Campaign
from campaigns.statuses import receiving
from gupshup_admin.taskutils import enqueue_later


@task(queue_name="sends")
def send_campaign(campaign_id: int, slot: int, token: str) -> int:
    """One slice of sending; re-enqueues itself while there is work."""
    recovery.recipients_recover_orphans(campaign_id=campaign_id)
    sent = 0
    while True:
        result = sender.sender_run(campaign_id=campaign_id, slot=slot, token=token)
        sent += result.sent
        if result.again_in is None:
            return sent
        if send_campaign.get_backend().supports_defer:
            enqueue_later(send_campaign, result.again_in, campaign_id, slot, token)
            return sent
        # A backend that runs tasks inline cannot defer: keep going here.
        time.sleep(result.again_in)


@task()
def start_scheduled_campaign(campaign_id: int) -> bool:
    campaign = Campaign.objects.get(pk=campaign_id)
    return controls.campaign_start_scheduled(campaign=campaign)


@task()
def campaigns_tick() -> str:
    return str(recovery.campaigns_tick())


@task(queue_name="callbacks")
def drain_webhooks() -> int:
    return receiving.webhooks_drain()
