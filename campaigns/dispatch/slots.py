"""The sender slots: `CAMPAIGN_SENDERS` of them, each a task that serves the
running campaigns of its apps (`sender.app_slots`), however many campaigns and
apps run.

A campaign that starts makes sure every slot serving its app has a live sender;
a sender that serves nothing running retires its slot; the tick replaces a
sender whose heart stopped (its worker died): a new token and a new task, and
the old task, should it still run, stops at its next heartbeat.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from campaigns import tasks
from campaigns.dispatch.recovery import stale_before
from campaigns.dispatch.sender import app_slots
from campaigns.models import Campaign, CampaignState, SenderSlot
from gupshup_admin.models import PartnerApp
from gupshup_admin.taskutils import enqueue_later


def slots_needed() -> set[int]:
    """The slots that serve the apps of running campaigns."""
    running = Campaign.objects.filter(state=CampaignState.RUNNING)
    apps = PartnerApp.objects.filter(pk__in=running.values("partner_app"))
    return {slot for app in apps for slot in app_slots(app, settings.CAMPAIGN_SENDERS)}


def senders_ensure(*, silent_since: datetime | None = None) -> int:
    """Give every slot that serves a running campaign but has no live sender a
    fresh token and a task; a sender is live when its heart beat since
    `silent_since` (by default: within `CAMPAIGN_STALE_SECONDS`). Returns how
    many were started."""
    silent_since = silent_since or stale_before()
    started = 0
    with transaction.atomic():
        slots = {s.slot: s for s in SenderSlot.objects.select_for_update()}
        for slot in sorted(slots_needed()):
            known = slots.get(slot)
            if known is not None and known.heartbeat_at >= silent_since:
                continue
            token = secrets.token_hex(16)
            SenderSlot.objects.update_or_create(
                slot=slot, defaults={"token": token, "heartbeat_at": timezone.now()}
            )
            enqueue_later(tasks.run_sender, 0.0, slot, token)
            started += 1
    return started


def sender_retire(*, slot: int, token: str) -> None:
    """A sender found nothing to do: its slot goes, unless a campaign it serves
    started meanwhile (then the slot gets a new sender, once, whoever notices
    first)."""
    SenderSlot.objects.filter(slot=slot, token=token).delete()
    if slot not in slots_needed():
        return
    token = secrets.token_hex(16)
    try:
        with transaction.atomic():
            SenderSlot.objects.create(
                slot=slot, token=token, heartbeat_at=timezone.now()
            )
            enqueue_later(tasks.run_sender, 0.0, slot, token)
    except IntegrityError:
        pass  # the starting campaign gave the slot its sender


def senders_stop() -> None:
    """Retire every sender (their tasks stop at their next heartbeat)."""
    SenderSlot.objects.all().delete()
