"""The sender: claims recipients within the app's rate and sends each exactly once.

The rules that make double sends impossible:

- A recipient is claimed (pending → sending, tagged with this sender's claim id)
  before its request, and only the claimant sends it. Right before the request
  the claim is touched again, which also checks that the campaign still runs.
- Each request is a `SendAttempt`, written (with the claim) before the request,
  and its `ApiExchange` row (ref `attempt:<pk>`) is written before the request
  leaves. A row left in "sending" by a dead worker is settled by those rows: no
  exchange means nothing left (pending again); an exchange means Gupshup may
  have it (unknown). See `recovery.py`.
- An answer that may have been lost (read timeout, dropped connection) makes the
  recipient unknown; it is never re-sent blindly.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Min, Q
from django.utils import timezone

from campaigns.dispatch import outcomes, send_sql
from campaigns.dispatch.outcomes import NotSent, requeue
from campaigns.dispatch.pauses import campaign_pause_for
from campaigns.models import (
    Campaign,
    CampaignKind,
    CampaignState,
    Recipient,
    RecipientStatus,
    SendAttempt,
    SenderLease,
)
from campaigns.statuses.machine import parked_events_exist, status_events_match_parked
from gupshup_admin import services as app_services
from gupshup_admin.exceptions import ApplicationError
from gupshup_admin.providers.errors import ProviderError
from gupshup_admin.providers.gupshup import GupshupAppClient
from gupshup_admin.ratelimit import rate_refund, rate_take_many
from media_library import selectors as media_selectors

HEARTBEAT_SECONDS = 2.0
# Senders take about this many seconds of the app's rate at once (one send below
# 10/s): waking for every single send cost a core at 50/s (bench/dispatch_rate.py).
GATHER_SECONDS = 0.1


@dataclass(frozen=True)
class SliceResult:
    sent: int
    again_in: float | None  # seconds until this sender should run again; None: stop


@dataclass(frozen=True)
class ImageToSend:
    media_id: str = ""
    link: str = ""


def sender_run(*, campaign_id: int, slot: int, token: str) -> SliceResult:
    """Send for one slice of time as sender `slot` holding lease `token`."""
    deadline = time.monotonic() + settings.CAMPAIGN_SENDER_SLICE_SECONDS
    sent = 0
    while True:
        if not _lease_beat(campaign_id, slot, token):
            return SliceResult(sent, None)
        campaign = Campaign.objects.select_related(
            "partner_app", "template", "media_file"
        ).get(pk=campaign_id)
        if campaign.state != CampaignState.RUNNING:
            return SliceResult(sent, None)
        left = deadline - time.monotonic()
        if left <= 0:
            return SliceResult(sent, 0.0)
        image = _image(campaign)
        if image is None:
            return SliceResult(sent, None)
        granted, wait = rate_take_many(
            app=campaign.partner_app,
            want=settings.CAMPAIGN_SEND_BATCH,
            gather_seconds=GATHER_SECONDS,
        )
        if not granted:
            if wait >= left:
                return SliceResult(sent, wait)
            time.sleep(min(wait, HEARTBEAT_SECONDS))
            continue
        claim = f"{token[:16]}-{secrets.token_hex(6)}"
        batch = _claim(campaign, granted, claim)
        if len(batch) < granted:
            rate_refund(app=campaign.partner_app, count=granted - len(batch))
        if not batch:
            return SliceResult(sent, _idle_delay(campaign))
        accepted = []
        for index, recipient in enumerate(batch):
            outcome = _send_claimed(campaign, recipient, claim, image)
            if isinstance(outcome, SendAttempt):
                accepted.append(outcome.message_id)
            if outcome is NotSent.STOP_BATCH:
                _release(campaign, batch[index:], claim)
                break
        sent += len(accepted)
        _attach_early_callbacks(accepted)


def _attach_early_callbacks(message_ids: list[str]) -> None:
    """A callback can beat the write of its send's message id: it was parked.
    Attach such events now rather than at the next tick (one cheap query
    when, as usual, nothing is parked)."""
    if message_ids and parked_events_exist():
        status_events_match_parked(message_ids=message_ids)


def _lease_beat(campaign_id: int, slot: int, token: str) -> bool:
    """Beat the lease's heart; False when this sender was replaced or retired."""
    return bool(
        SenderLease.objects.filter(
            campaign_id=campaign_id, slot=slot, token=token
        ).update(heartbeat_at=timezone.now())
    )


def _image(campaign: Campaign) -> ImageToSend | None:
    """The image to send: the app's media id, else the file's public link
    (https only: what an approver approved, and what Gupshup fetches safely).

    Pauses the campaign (and returns None) when there is neither.
    """
    media_id = media_selectors.media_id_usable_until(
        media_file=campaign.media_file,
        partner_app=campaign.partner_app,
        until=timezone.now(),
    )
    if media_id:
        return ImageToSend(media_id=media_id)
    if campaign.media_file.public_url.startswith("https://"):
        return ImageToSend(link=campaign.media_file.public_url)
    campaign_pause_for(
        campaign,
        f"The image {campaign.media_file} has no valid media id for "
        f"{campaign.partner_app} (it expired or was never mirrored). Mirror it on "
        "the media page, then resume.",
    )
    return None


def _claim(campaign: Campaign, count: int, claim: str) -> list[Recipient]:
    """Claim up to `count` due pending recipients; every row changes once."""
    now = timezone.now()
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    with transaction.atomic():
        ids = list(
            Recipient.objects.select_for_update(skip_locked=True)
            .filter(due, campaign=campaign, status=RecipientStatus.PENDING)
            .order_by("pk")
            .values_list("pk", flat=True)[:count]
        )
        if not ids:
            return []
        Recipient.objects.filter(pk__in=ids, status=RecipientStatus.PENDING).update(
            status=RecipientStatus.SENDING, claimed_at=now, claimed_by=claim
        )
    return list(Recipient.objects.filter(pk__in=ids, claimed_by=claim).order_by("pk"))


def _release(campaign: Campaign, recipients: list[Recipient], claim: str) -> None:
    """Give back claimed rows that were never sent (settled ones are not ours)."""
    rows = Recipient.objects.filter(
        pk__in=[r.pk for r in recipients],
        status=RecipientStatus.SENDING,
        claimed_by=claim,
    )
    requeue(rows, campaign_id=campaign.pk)


def _idle_delay(campaign: Campaign) -> float | None:
    """Nothing to claim now: when to look again, or None when the campaign is done."""
    rows = Recipient.objects.filter(campaign=campaign)
    pending = rows.filter(status=RecipientStatus.PENDING)
    if pending.filter(next_attempt_at__isnull=True).exists():
        return HEARTBEAT_SECONDS / 4  # locked by another sender's claim just now
    retry_at: datetime | None = pending.aggregate(at=Min("next_attempt_at"))["at"]
    if retry_at is not None:
        return max((retry_at - timezone.now()).total_seconds(), 0.0)
    if rows.filter(status=RecipientStatus.SENDING).exists():
        return HEARTBEAT_SECONDS  # others are sending, or a dead worker's rows
    campaign_complete(campaign)
    return None


def campaign_complete(campaign: Campaign) -> bool:
    """Running → completed once nothing is pending or sending."""
    open_rows = Recipient.objects.filter(
        campaign=campaign,
        status__in=[RecipientStatus.PENDING, RecipientStatus.SENDING],
    )
    if open_rows.exists():
        return False
    done = Campaign.objects.filter(pk=campaign.pk, state=CampaignState.RUNNING).update(
        state=CampaignState.COMPLETED, finished_at=timezone.now(), state_reason=""
    )
    SenderLease.objects.filter(campaign=campaign).delete()
    return bool(done)


def _send_claimed(
    campaign: Campaign, recipient: Recipient, claim: str, image: ImageToSend
) -> NotSent | SendAttempt:
    """Send one claimed recipient. Returns the accepted attempt, or how it was
    settled otherwise."""
    attempt = send_sql.attempt_begin(recipient, campaign.partner_app_id, claim)
    if attempt is None:
        return NotSent.STOP_BATCH
    try:
        message_id, wa_id, exchange_id = _request(campaign, recipient, attempt, image)
    except (ProviderError, ApplicationError) as exc:
        claimed = Recipient.objects.filter(
            pk=recipient.pk, status=RecipientStatus.SENDING, claimed_by=claim
        )
        return outcomes.not_sent(campaign, recipient, attempt, claimed, exc)
    send_sql.submitted(recipient, attempt, claim, message_id, wa_id, exchange_id)
    if campaign.auth_failures:
        Campaign.objects.filter(pk=campaign.pk).update(auth_failures=0)
        campaign.auth_failures = 0
    return attempt


def _request(
    campaign: Campaign, recipient: Recipient, attempt: SendAttempt, image: ImageToSend
) -> tuple[str, str, int | None]:
    """Make the one request. Returns (message id, wa_id, exchange id)."""
    app = campaign.partner_app

    def template(client: GupshupAppClient) -> tuple[str, str, int | None]:
        assert campaign.template is not None
        reply = client.send_template_image(
            source=app.source_number,
            destination=recipient.phone,
            src_name=app.app_name,
            template_id=campaign.template.gupshup_id,
            params=[str(p) for p in recipient.params],
            image_id=image.media_id,
            image_link=image.link,
        )
        return reply.message_id, "", reply.exchange_id

    def direct(client: GupshupAppClient) -> tuple[str, str, int | None]:
        reply = client.send_v3_image(
            to=recipient.phone,
            image_id=image.media_id,
            image_link=image.link,
            caption=campaign.caption,
        )
        return reply.message_id, reply.wa_id, reply.exchange_id

    return app_services.with_app_client(
        app=app,
        user_id=campaign.started_by_id,
        call=template if campaign.kind == CampaignKind.TEMPLATE else direct,
        ref=attempt.exchange_ref,
    )
