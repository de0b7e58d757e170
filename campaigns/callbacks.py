"""Delivery callbacks → recipient statuses: the status machine.

queued < submitted < enqueued < sent < delivered < read; failed is terminal; a
status never moves backwards; a duplicate changes nothing (one timeline row per
recipient and status). An event is matched to its send by the Gupshup message
id, else by the WhatsApp id (remembered once seen, since `gsId` disappears after
about a week), else — for a send whose answer was lost — by the number it went
to. An event for a send not written yet is parked and attached when it appears.
"""

from __future__ import annotations

import json
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from campaigns.models import Recipient, RecipientStatus, StatusEvent
from gupshup_admin.models import PartnerApp, Template, WebhookEvent, WebhookState
from gupshup_admin.providers.events import (
    DeliveryEvent,
    EventKind,
    EventParseError,
    parse_callback,
)

S = RecipientStatus
# The statuses each event may move a recipient from (forward only).
_SETTLED: list[str] = [S.SUBMITTED, S.UNKNOWN]
MOVES_FROM: dict[str, list[str]] = {
    "enqueued": _SETTLED,
    "sent": [*_SETTLED, S.ENQUEUED],
    "delivered": [*_SETTLED, S.ENQUEUED, S.SENT],
    "read": [*_SETTLED, S.ENQUEUED, S.SENT, S.DELIVERED],
    "failed": [*_SETTLED, S.ENQUEUED, S.SENT],
}


# Whether any event may be parked: a drain checks once per batch, so the usual
# case (nothing parked) costs no lookup per event. Unset means "maybe".
parked_may_exist: ContextVar[bool] = ContextVar("parked_may_exist", default=True)


def parked_events_exist() -> bool:
    return StatusEvent.objects.filter(recipient=None).exists()


@dataclass(frozen=True)
class Processed:
    state: str
    applied: int = 0
    parked: int = 0


def callback_events(body: str) -> list[DeliveryEvent]:
    """The events in a stored callback body. Raises EventParseError saying
    what is wrong with it."""
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise EventParseError(f"not JSON: {exc}") from exc
    except RecursionError as exc:
        raise EventParseError("not a callback: the JSON is nested too deeply") from exc
    return parse_callback(data)


def webhook_event_process(*, event: WebhookEvent) -> Processed:
    """Normalize one stored callback and apply it. Idempotent: replaying a
    stored event changes nothing that it changed before."""
    try:
        events = callback_events(event.body)
    except EventParseError as exc:
        return _finish(event, Processed(WebhookState.INVALID), error=str(exc))
    applied = parked = 0
    for item in events:
        if item.kind == EventKind.STATUS:
            outcome = status_event_apply(app=event.partner_app, item=item, source=event)
            applied += outcome == "applied"
            parked += outcome == "parked"
        elif item.kind == EventKind.TEMPLATE and event.partner_app is not None:
            template_status_apply(event.partner_app, item)
    state = WebhookState.PARKED if parked else WebhookState.PROCESSED
    kind = events[0].type if len(events) == 1 else f"{len(events)} events"
    return _finish(event, Processed(state, applied, parked), kind=kind)


def _finish(
    event: WebhookEvent, result: Processed, *, error: str = "", kind: str = ""
) -> Processed:
    event.state, event.error, event.processed_at = result.state, error, timezone.now()
    event.event_type = kind or event.event_type
    event.save(update_fields=["state", "error", "processed_at", "event_type"])
    return result


def template_status_apply(app: PartnerApp, item: DeliveryEvent) -> None:
    Template.objects.filter(app=app, gupshup_id=item.template_id).update(
        status=item.template_status,
        rejected_reason=item.error_message,
        synced_at=timezone.now(),
    )


def status_event_apply(
    *, app: PartnerApp | None, item: DeliveryEvent, source: WebhookEvent | None
) -> str:
    """Attach one status event to its recipient, or park it. Returns "applied",
    "duplicate" or "parked"."""
    recipient = _find(app, item)
    if recipient is None:
        _park(app, item, source)
        return "parked"
    return _attach(recipient, _row(app, item, source))


def _row(
    app: PartnerApp | None, item: DeliveryEvent, source: WebhookEvent | None
) -> StatusEvent:
    return StatusEvent(
        partner_app=app, webhook_event=source, **status_event_fields(item)
    )


def status_event_fields(item: DeliveryEvent) -> dict[str, Any]:
    """What a delivery event puts on its timeline row (here and in the drain)."""
    return {
        "status": item.type,
        "gs_id": item.gs_id,
        "wamid": item.wamid,
        "destination": item.destination,
        "occurred_at": item.timestamp,
        "error_code": item.error_code,
        "error_message": item.error_message,
    }


def _find(app: PartnerApp | None, item: DeliveryEvent) -> Recipient | None:
    rows = Recipient.objects.all()
    if app is not None:
        rows = rows.filter(campaign__partner_app=app)
    if item.gs_id:
        found = rows.filter(message_id=item.gs_id).first()
        if found is not None:
            return found
    if item.wamid:
        found = rows.filter(wamid=item.wamid).first()
        if found is not None:
            return found
    if item.destination and item.gs_id:
        # A send whose answer was lost has no message id: the number tells.
        found = (
            rows.filter(status=S.UNKNOWN, phone=f"+{item.destination}", message_id="")
            .order_by("-claimed_at")
            .first()
        )
        if found is not None:
            Recipient.objects.filter(pk=found.pk, message_id="").update(
                message_id=item.gs_id
            )
            return found
    return None


def _park(
    app: PartnerApp | None, item: DeliveryEvent, source: WebhookEvent | None
) -> None:
    same = StatusEvent.objects.filter(
        recipient=None,
        partner_app=app,
        status=item.type,
        gs_id=item.gs_id,
        wamid=item.wamid,
    )
    if not same.exists():
        _row(app, item, source).save()
        parked_may_exist.set(True)


def _attach(recipient: Recipient, row: StatusEvent) -> str:
    row.recipient = recipient
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        # Nothing moves, but a repeat may still be the first to tell the wamid.
        _remember_wamid(recipient, row.wamid)
        return "duplicate"
    _remember_wamid(recipient, row.wamid)
    recipient_status_move(recipient, row)
    # This event may have revealed the wamid that earlier, gsId-less events
    # were parked under.
    if parked_may_exist.get():
        status_events_match_parked(
            message_ids=[recipient.message_id] if recipient.message_id else [],
            wamids=[w for w in {recipient.wamid, row.wamid} if w],
        )
    return "applied"


def _remember_wamid(recipient: Recipient, wamid: str) -> None:
    if wamid and not recipient.wamid:
        Recipient.objects.filter(pk=recipient.pk, wamid="").update(wamid=wamid)


def recipient_status_move(recipient: Recipient, row: StatusEvent) -> None:
    allowed = MOVES_FROM.get(row.status)
    if allowed is None:
        return  # e.g. "deleted": on the timeline only
    changes: dict[str, object] = {"status": row.status, "updated_at": timezone.now()}
    if row.status == S.FAILED:
        changes.update(error_code=row.error_code, error_message=row.error_message)
    elif recipient.status == S.UNKNOWN:
        changes.update(error_code="", error_message="")
    Recipient.objects.filter(pk=recipient.pk, status__in=allowed).update(**changes)


def status_events_match_parked(
    *,
    message_ids: list[str] | None = None,
    wamids: list[str] | None = None,
    older_than: datetime | None = None,
) -> int:
    """Attach parked events whose send has appeared (all of them, or those with
    these ids). Returns how many."""
    parked = StatusEvent.objects.filter(recipient=None)
    if message_ids is not None or wamids is not None:
        ids = Q(gs_id__in=message_ids or []) | Q(wamid__in=wamids or [])
        if not (message_ids or wamids):
            return 0
        parked = parked.filter(ids)
    if older_than is not None:
        parked = parked.filter(received_at__lt=older_than)
    attached = 0
    for row in parked.order_by("occurred_at", "pk"):
        item = DeliveryEvent(
            kind=EventKind.STATUS,
            type=row.status,
            gs_id=row.gs_id,
            wamid=row.wamid,
            destination=row.destination,
        )
        recipient = _find(row.partner_app, item)
        if recipient is None:
            continue
        claimed = StatusEvent.objects.filter(pk=row.pk, recipient=None)
        if _attach_parked(recipient, row, claimed):
            attached += 1
    return attached


def _attach_parked(
    recipient: Recipient, row: StatusEvent, claimed: QuerySet[StatusEvent]
) -> bool:
    try:
        with transaction.atomic():
            if not claimed.update(recipient=recipient):
                return False
    except IntegrityError:
        # The same status came again meanwhile and is on the timeline already.
        StatusEvent.objects.filter(pk=row.pk).delete()
        return False
    _remember_wamid(recipient, row.wamid)
    recipient_status_move(recipient, row)
    if row.webhook_event_id:
        still = StatusEvent.objects.filter(
            webhook_event_id=row.webhook_event_id, recipient=None
        )
        if not still.exists():
            WebhookEvent.objects.filter(
                pk=row.webhook_event_id, state=WebhookState.PARKED
            ).update(state=WebhookState.PROCESSED)
    return True
