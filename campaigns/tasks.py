"""Campaign tasks: thin interfaces that take ids and call one service.

The services import this module to enqueue; each task imports its service in
its body (HackSoft's styleguide pattern), so nothing imports back at load time.
"""

from __future__ import annotations

from django_tasks import task

from gupshup_admin.taskutils import enqueue_later


@task(queue_name="sends")
def send_campaign(campaign_id: int, slot: int, token: str) -> int:
    """One slice of sending as sender `slot`; enqueues the next slice while
    there is work (at once on a backend that cannot defer)."""
    from campaigns.dispatch import recovery, sender

    recovery.recipients_recover_orphans(campaign_id=campaign_id)
    result = sender.sender_run(campaign_id=campaign_id, slot=slot, token=token)
    if result.again_in is not None:
        enqueue_later(send_campaign, result.again_in, campaign_id, slot, token)
    return result.sent


@task()
def start_scheduled_campaign(campaign_id: int) -> bool:
    from campaigns.lifecycle import controls
    from campaigns.models import Campaign

    campaign = Campaign.objects.get(pk=campaign_id)
    return controls.campaign_start_scheduled(campaign=campaign)


@task(queue_name="callbacks")
def drain_webhooks() -> int:
    from campaigns.statuses import receiving

    return receiving.webhooks_drain()
