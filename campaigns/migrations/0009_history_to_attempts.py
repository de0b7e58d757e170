"""Send attempts, step 2 of 3: today's history becomes attempts, nothing lost.

Every request that left for a recipient was an `ApiExchange` filed under
`recipient:<pk>`; each becomes an attempt, in order, filed under its attempt
from now on. The last one (the recipient's `exchange`) carries what the
recipient knew: its message id, WhatsApp ids, submission time, status and error.
Earlier ones get their status from their answer (accepted, refused for good, or
put back in the queue after a 429, a 401 or a 5xx). A recipient that was settled
without any exchange (by an operator, or before exchanges were filed) gets one
attempt from its own fields. Each timeline row goes to the attempt whose ids it
carries, else to the latest; the milestone times come from the timeline.

Runs in batches of recipients, so a million rows never sit in memory.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from django.db import migrations
from django.db.models import Q

BATCH = 2000
QUEUED = ("pending", "cancelled")
ACCEPTED = ("submitted", "enqueued", "sent", "delivered", "read")


def _refused_status(status_code: int | None) -> str:
    """What became of an earlier request, from its answer."""
    if status_code is not None and 200 <= status_code < 300:
        return "submitted"
    if status_code is None or status_code in (401, 429) or status_code >= 500:
        return "requeued"
    return "failed"


def _message_id(response_body: str) -> str:
    """The Gupshup id an accepted earlier request was given, when its answer
    says (template/msg: messageId; v3: messages[0].id)."""
    try:
        body = json.loads(response_body)
    except (ValueError, TypeError, RecursionError):
        return ""
    if not isinstance(body, dict):
        return ""
    if isinstance(body.get("messageId"), str):
        return str(body["messageId"])
    messages = body.get("messages")
    if isinstance(messages, list) and messages and isinstance(messages[0], dict):
        return str(messages[0].get("id") or "")
    return ""


def _at(event: Any) -> Any:
    return event.occurred_at or event.received_at


def history_to_attempts(apps: Any, schema_editor: Any) -> None:
    Recipient = apps.get_model("campaigns", "Recipient")
    SendAttempt = apps.get_model("campaigns", "SendAttempt")
    StatusEvent = apps.get_model("campaigns", "StatusEvent")
    ApiExchange = apps.get_model("gupshup_admin", "ApiExchange")
    db = schema_editor.connection.alias
    after = 0
    while True:
        batch = list(
            Recipient.objects.using(db)
            .filter(pk__gt=after)
            .select_related("campaign")
            .order_by("pk")[:BATCH]
        )
        if not batch:
            return
        after = batch[-1].pk
        _migrate_batch(batch, SendAttempt, StatusEvent, ApiExchange, db)


def _migrate_batch(
    batch: list[Any], SendAttempt: Any, StatusEvent: Any, ApiExchange: Any, db: str
) -> None:
    by_pk = {r.pk: r for r in batch}
    refs = {f"recipient:{pk}": pk for pk in by_pk}
    linked = {r.exchange_id for r in batch if r.exchange_id}
    exchanges: dict[int, list[Any]] = defaultdict(list)
    rows = ApiExchange.objects.using(db).filter(Q(ref__in=refs) | Q(pk__in=linked))
    owner_of_linked = {r.exchange_id: r.pk for r in batch if r.exchange_id}
    for exchange in rows.order_by("created_at", "pk"):
        owner = refs.get(exchange.ref) or owner_of_linked.get(exchange.pk)
        if owner is not None:
            exchanges[owner].append(exchange)
    events: dict[int, list[Any]] = defaultdict(list)
    for event in StatusEvent.objects.using(db).filter(recipient_id__in=by_pk):
        events[event.recipient_id].append(event)

    planned: list[tuple[Any, list[tuple[Any, Any]]]] = []
    for recipient in batch:
        own = exchanges.get(recipient.pk, [])
        if not own and not recipient.message_id and recipient.status in QUEUED:
            continue  # never sent
        planned.append((recipient, _attempts_for(recipient, own, SendAttempt)))

    SendAttempt.objects.using(db).bulk_create(
        [attempt for _, attempts in planned for attempt, _ in attempts]
    )
    changed_events = []
    for recipient, attempts in planned:
        latest = attempts[-1][0]
        for event in events.get(recipient.pk, []):
            event.attempt_id = _owner(event, attempts).pk
            changed_events.append(event)
        _milestones(attempts, events.get(recipient.pk, []), recipient)
        recipient.latest_attempt_id = latest.pk
        recipient.attempts = len(attempts)
    SendAttempt.objects.using(db).bulk_update(
        [attempt for _, attempts in planned for attempt, _ in attempts],
        ["delivered_at", "read_at", "failed_at", "submitted_at"],
        batch_size=1000,
    )
    type(batch[0]).objects.using(db).bulk_update(
        [recipient for recipient, _ in planned],
        ["latest_attempt", "attempts"],
        batch_size=1000,
    )
    StatusEvent.objects.using(db).bulk_update(
        changed_events, ["attempt"], batch_size=1000
    )
    # From now on a request is filed under its attempt.
    filed = []
    for _, attempts in planned:
        for attempt, exchange in attempts:
            if exchange is not None:
                exchange.ref = f"attempt:{attempt.pk}"
                filed.append(exchange)
    ApiExchange.objects.using(db).bulk_update(filed, ["ref"], batch_size=1000)


def _attempts_for(
    recipient: Any, exchanges: list[Any], SendAttempt: Any
) -> list[tuple[Any, Any]]:
    """(attempt, its exchange) pairs, oldest first; the last is the latest."""
    final = next(
        (e for e in exchanges if e.pk == recipient.exchange_id),
        exchanges[-1] if exchanges else None,
    )
    common = {
        "recipient_id": recipient.pk,
        "campaign_id": recipient.campaign_id,
        "partner_app_id": recipient.campaign.partner_app_id,
    }
    pairs = []
    earlier = [e for e in exchanges if e is not final]
    if final is not None:
        earlier = [e for e in earlier if e.created_at <= final.created_at] + [
            e for e in earlier if e.created_at > final.created_at
        ]
    for exchange in earlier:
        status = _refused_status(exchange.status_code)
        code = str(exchange.status_code) if exchange.status_code else ""
        attempt = SendAttempt(
            **common,
            number=len(pairs) + 1,
            status=status,
            message_id=_message_id(exchange.response_body)
            if status == "submitted"
            else "",
            exchange_id=exchange.pk,
            error_code="" if status == "submitted" else code or exchange.error_class,
            error_message="" if status == "submitted" else exchange.error_message,
            created_at=exchange.created_at,
            submitted_at=exchange.created_at if status == "submitted" else None,
        )
        pairs.append((attempt, exchange))
    pairs.append((_latest(recipient, final, common, len(pairs) + 1, SendAttempt), final))
    return pairs


def _latest(
    recipient: Any, exchange: Any, common: dict[str, Any], number: int, SendAttempt: Any
) -> Any:
    """The attempt that carries what the recipient knew."""
    status = recipient.status
    if status in QUEUED:
        # Sent, then put back (a retry, a 429) or cancelled before the next.
        status = _refused_status(exchange.status_code if exchange else None)
        if status == "failed" and recipient.status == "pending":
            status = "requeued"
    made = (
        exchange.created_at
        if exchange is not None
        else recipient.submitted_at or recipient.claimed_at or recipient.updated_at
    )
    accepted = status in ACCEPTED or (status == "failed" and recipient.submitted_at)
    return SendAttempt(
        **common,
        number=number,
        status=status,
        claim=recipient.claimed_by if status == "sending" else "",
        message_id=recipient.message_id,
        wamid=recipient.wamid,
        wa_id=recipient.wa_id,
        exchange_id=exchange.pk if exchange is not None else None,
        error_code=recipient.error_code,
        error_message=recipient.error_message,
        created_at=made,
        submitted_at=(recipient.submitted_at or made) if accepted else None,
    )


def _owner(event: Any, attempts: list[tuple[Any, Any]]) -> Any:
    """The attempt whose ids a timeline row carries, else the latest."""
    for attempt, _ in reversed(attempts):
        if event.gs_id and attempt.message_id == event.gs_id:
            return attempt
        if event.wamid and attempt.wamid == event.wamid:
            return attempt
    return attempts[-1][0]


def _milestones(
    attempts: list[tuple[Any, Any]], events: list[Any], recipient: Any
) -> None:
    mine: dict[int, list[Any]] = defaultdict(list)
    for event in events:
        mine[event.attempt_id].append(event)
    for attempt, _ in attempts:
        timeline = sorted(mine.get(attempt.pk, []), key=_at)
        delivered = [e for e in timeline if e.status in ("delivered", "read")]
        read = [e for e in timeline if e.status == "read"]
        failed = [e for e in timeline if e.status == "failed"]
        attempt.delivered_at = _at(delivered[0]) if delivered else None
        attempt.read_at = _at(read[0]) if read else None
        if attempt.status == "failed":
            attempt.failed_at = _at(failed[0]) if failed else recipient.updated_at
        if attempt.submitted_at is None and attempt.status in ACCEPTED:
            attempt.submitted_at = attempt.created_at


def attempts_to_history(apps: Any, schema_editor: Any) -> None:
    """Back: each recipient takes its latest attempt's ids again, and each
    timeline row its attempt's recipient."""
    Recipient = apps.get_model("campaigns", "Recipient")
    StatusEvent = apps.get_model("campaigns", "StatusEvent")
    db = schema_editor.connection.alias
    rows = Recipient.objects.using(db).exclude(latest_attempt=None)
    for recipient in rows.select_related("latest_attempt").iterator(BATCH):
        latest = recipient.latest_attempt
        recipient.message_id, recipient.wamid = latest.message_id, latest.wamid
        recipient.wa_id, recipient.exchange_id = latest.wa_id, latest.exchange_id
        recipient.submitted_at = latest.submitted_at
        recipient.save(
            update_fields=["message_id", "wamid", "wa_id", "exchange", "submitted_at"]
        )
    for event in StatusEvent.objects.using(db).exclude(attempt=None).iterator(BATCH):
        event.recipient_id = event.attempt.recipient_id
        event.save(update_fields=["recipient"])


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0008_send_attempts"),
        ("gupshup_admin", "0006_webhook_event_moves_to_campaigns"),
    ]

    operations = [
        migrations.RunPython(history_to_attempts, attempts_to_history),
    ]
