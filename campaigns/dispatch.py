"""The sender: claims recipients within the app's rate and sends each exactly once.

The rules that make double sends impossible:

- A recipient is claimed (pending → sending, tagged with this sender's claim id)
  before its request, and only the claimant sends it. Right before the request
  the claim is touched again, which also checks that the campaign still runs.
- The request's `ApiExchange` row (ref `recipient:<pk>`) is written before the
  request leaves. A row left in "sending" by a dead worker is settled by that
  row: no exchange means nothing left (pending again); an exchange means Gupshup
  may have it (unknown). See `recovery.py`.
- An answer that may have been lost (read timeout, dropped connection) makes the
  recipient unknown; it is never re-sent blindly.
"""

from __future__ import annotations

import functools
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Min, Q, QuerySet
from django.utils import timezone

from campaigns.callbacks import parked_events_exist, status_events_match_parked
from campaigns.models import (
    Campaign,
    CampaignKind,
    CampaignState,
    Recipient,
    RecipientStatus,
    SenderLease,
)
from campaigns.notify import campaign_pause_for
from gupshup_admin import services as app_services
from gupshup_admin.exceptions import ApplicationError
from gupshup_admin.providers.errors import (
    AuthenticationError,
    ProviderError,
    RateLimitedError,
)
from gupshup_admin.providers.gupshup import GupshupAppClient
from gupshup_admin.ratelimit import rate_refund, rate_take_many, rate_throttled
from media_library import selectors as media_selectors
from media_library.models import MediaState

logger = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 2.0
# Senders take about this many seconds of the app's rate at once (one send below
# 10/s): waking for every single send cost a core at 50/s (bench/dispatch_rate.py).
GATHER_SECONDS = 0.1


class Outcome(Enum):
    SENT = "sent"
    DONE = "done"  # settled without success: failed, unknown, retry later
    STOP = "stop"  # stop this batch: throttled, auth trouble, campaign stopped


@dataclass(frozen=True)
class SliceResult:
    sent: int
    again_in: float | None  # seconds until this sender should run again; None: stop


@dataclass(frozen=True)
class Image:
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
            if outcome is Outcome.SENT:
                accepted.append(recipient.message_id)
            if outcome is Outcome.STOP:
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


def _image(campaign: Campaign) -> Image | None:
    """The image to send: the app's media id, else the file's public link.

    Pauses the campaign (and returns None) when there is neither.
    """
    row = media_selectors.provider_media_for_app(
        media_file=campaign.media_file, partner_app=campaign.partner_app
    )
    now = timezone.now()
    if (
        row is not None
        and row.state == MediaState.READY
        and row.expires_at is not None
        and row.expires_at > now
    ):
        return Image(media_id=row.media_id)
    if campaign.media_file.public_url:
        return Image(link=campaign.media_file.public_url)
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


def requeue(rows: QuerySet[Recipient], *, campaign_id: int, **changes: Any) -> int:
    """Put claimed rows back in the queue; cancelled instead when the campaign was
    cancelled meanwhile (its cancel only cancels the rows pending at that moment)."""
    now = timezone.now()
    count = rows.update(
        status=RecipientStatus.PENDING,
        claimed_at=None,
        claimed_by="",
        updated_at=now,
        **changes,
    )
    cancelled = Campaign.objects.filter(pk=campaign_id, state=CampaignState.CANCELLED)
    if count and cancelled.exists():
        Recipient.objects.filter(
            campaign_id=campaign_id, status=RecipientStatus.PENDING
        ).update(status=RecipientStatus.CANCELLED, updated_at=now)
    return count


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
    campaign: Campaign, recipient: Recipient, claim: str, image: Image
) -> Outcome:
    # Touch the claim right before the request: proves we still hold it, that the
    # campaign still runs, and keeps recovery away while the request is in flight.
    if not _touch(recipient, claim):
        return Outcome.STOP
    try:
        message_id, wa_id, exchange_id = _request(campaign, recipient, image)
    except (ProviderError, ApplicationError) as exc:
        mine = Recipient.objects.filter(
            pk=recipient.pk, status=RecipientStatus.SENDING, claimed_by=claim
        )
        return _not_sent(campaign, recipient, mine, exc)
    _submitted(recipient, claim, message_id, wa_id, exchange_id)
    if campaign.auth_failures:
        Campaign.objects.filter(pk=campaign.pk).update(auth_failures=0)
        campaign.auth_failures = 0
    return Outcome.SENT


def _not_sent(
    campaign: Campaign,
    recipient: Recipient,
    mine: QuerySet[Recipient],
    exc: ProviderError | ApplicationError,
) -> Outcome:
    """Settle a send that did not succeed, by what went wrong."""
    if isinstance(exc, RateLimitedError):
        _throttled(campaign, mine, exc)
    elif isinstance(exc, AuthenticationError):
        _auth_failed(campaign, mine, exc)
    elif isinstance(exc, ApplicationError):
        requeue(mine, campaign_id=campaign.pk)
        campaign_pause_for(campaign, exc.message)
    else:
        _failed(recipient, mine, exc)
        return Outcome.DONE
    return Outcome.STOP


# The two statements every send makes are written in SQL: building them with the
# ORM cost 0.65 ms (the touch's join) and 0.4 ms of CPU per send, against 0.1 ms
# each here; a quarter of a send's cost on two cores (bench/dispatch_rate.py).
# Only table and column names from the models go into the text (hence the noqa).
@functools.cache
def _sql() -> tuple[str, str]:
    """(touch, submitted) statements, parameterized."""
    q = connection.ops.quote_name
    c = {f.name: q(f.column) for f in Recipient._meta.concrete_fields}
    table, campaigns = q(Recipient._meta.db_table), q(Campaign._meta.db_table)
    mine = f"{c['id']} = %s AND {c['status']} = %s AND {c['claimed_by']} = %s"
    state = q(Campaign._meta.get_field("state").column)
    running = f"{campaigns} WHERE {q(Campaign._meta.pk.column)} = %s AND {state} = %s"
    touch = (
        f"UPDATE {table} SET {c['claimed_at']} = %s "  # noqa: S608
        f"WHERE {mine} AND EXISTS (SELECT 1 FROM {running})"
    )
    submitted = (
        f"UPDATE {table} SET {c['status']} = %s, {c['message_id']} = %s, "  # noqa: S608
        f"{c['wa_id']} = %s, {c['exchange']} = %s, {c['submitted_at']} = %s, "
        f"{c['updated_at']} = %s, {c['attempts']} = {c['attempts']} + 1, "
        f"{c['error_code']} = '', {c['error_message']} = '' WHERE {mine}"
    )
    return touch, submitted


def _execute(sql: str, params: list[Any]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


def _now() -> Any:
    return connection.ops.adapt_datetimefield_value(timezone.now())


def _touch(recipient: Recipient, claim: str) -> bool:
    """Still ours, still sending, and the campaign still runs: then claimed now."""
    mine = [recipient.pk, RecipientStatus.SENDING.value, claim]
    running = [recipient.campaign_id, CampaignState.RUNNING.value]
    return _execute(_sql()[0], [_now(), *mine, *running]) == 1


def _submitted(
    recipient: Recipient,
    claim: str,
    message_id: str,
    wa_id: str,
    exchange_id: int | None,
) -> None:
    """Accepted by Gupshup: the row keeps the message id and its exchange."""
    now = _now()
    values = [RecipientStatus.SUBMITTED.value, message_id, wa_id, exchange_id]
    mine = [recipient.pk, RecipientStatus.SENDING.value, claim]
    _execute(_sql()[1], [*values, now, now, *mine])
    recipient.message_id = message_id


def _request(
    campaign: Campaign, recipient: Recipient, image: Image
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
        ref=f"recipient:{recipient.pk}",
    )


def _throttled(
    campaign: Campaign, mine: QuerySet[Recipient], exc: RateLimitedError
) -> None:
    """A 429: the app pauses and slows down; the recipient waits, unharmed."""
    pause = exc.retry_after or settings.CAMPAIGN_THROTTLE_PAUSE_SECONDS
    rate_throttled(app=campaign.partner_app, pause_seconds=pause)
    _requeue(campaign, mine, exc)
    logger.warning("%s: rate limited by Gupshup; pausing %.0f s", campaign, pause)


def _auth_failed(
    campaign: Campaign, mine: QuerySet[Recipient], exc: AuthenticationError
) -> None:
    _requeue(campaign, mine, exc)
    Campaign.objects.filter(pk=campaign.pk).update(auth_failures=F("auth_failures") + 1)
    campaign.refresh_from_db(fields=["auth_failures"])
    if campaign.auth_failures >= settings.CAMPAIGN_AUTH_FAILURES_TO_PAUSE:
        campaign_pause_for(
            campaign,
            f"Gupshup refused the app token {campaign.auth_failures} times in a row "
            f"({exc.message}). Fix the token of {campaign.partner_app} (paste a new "
            "one or fetch it), run 'Check health', then resume.",
        )


def _requeue(campaign: Campaign, mine: QuerySet[Recipient], exc: ProviderError) -> None:
    """Back to pending without counting against the recipient's retries."""
    requeue(
        mine,
        campaign_id=campaign.pk,
        attempts=F("attempts") + 1,
        exchange_id=exc.exchange_id,
    )


def _failed(
    recipient: Recipient, mine: QuerySet[Recipient], exc: ProviderError
) -> None:
    """Unknown, retry later, or failed, by what the error says."""
    code = exc.provider_code or (str(exc.status_code) if exc.status_code else "")
    common: dict[str, Any] = {
        "attempts": F("attempts") + 1,
        "exchange_id": exc.exchange_id,
        "error_code": code or type(exc).__name__,
        "error_message": str(exc),
    }
    settled = {**common, "claimed_by": "", "updated_at": timezone.now()}
    if exc.outcome_unknown:
        mine.update(status=RecipientStatus.UNKNOWN, **settled)
        return
    retries = recipient.retries + 1
    if not exc.permanent and retries <= settings.CAMPAIGN_SEND_MAX_RETRIES:
        backoff = settings.CAMPAIGN_RETRY_BACKOFF_SECONDS * 2 ** (retries - 1)
        requeue(
            mine,
            campaign_id=recipient.campaign_id,
            retries=retries,
            next_attempt_at=timezone.now() + timedelta(seconds=min(backoff, 3600)),
            **common,
        )
        return
    if not exc.permanent:
        settled["error_message"] = f"Gave up after {retries} attempts: {exc}"
    mine.update(status=RecipientStatus.FAILED, retries=retries, **settled)
