"""Campaign tasks: thin interfaces that take ids and call one service.

The services import this module to enqueue; each task imports its service in
its body (HackSoft's styleguide pattern), so nothing imports back at load time.
"""

from __future__ import annotations

from django_tasks import task

from gupshup_admin.taskutils import enqueue_later

# Below every other task: a sender re-enqueues itself while campaigns run, and
# django-tasks-db runs the highest priority first, so the other work (callbacks,
# scheduled starts) goes ahead of the next slice instead of waiting behind it.
SENDER_PRIORITY = -10


@task(queue_name="sends", priority=SENDER_PRIORITY)
def run_sender(slot: int, token: str) -> int:
    """One slice of sending as sender `slot`, for the running campaigns of its
    apps. Where the backend can defer, the next slice is enqueued when this one
    stops taking new work, so it starts while this one waits for its last
    answers; elsewhere (the immediate backend) once they are in."""
    from campaigns.dispatch import recovery, sender, slots

    def next_slice() -> None:
        enqueue_later(run_sender, 0.0, slot, token)

    early = run_sender.get_backend().supports_defer
    recovery.recipients_recover_orphans()
    result = sender.sender_run(
        slot=slot, token=token, hand_over=next_slice if early else None
    )
    if result.again_in is not None:
        enqueue_later(run_sender, result.again_in, slot, token)
    elif not result.handed_over:
        slots.sender_retire(slot=slot, token=token)
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
