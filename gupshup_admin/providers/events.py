"""Gupshup callback payloads → normalized events.

Two formats arrive on the same URL (API-NOTES.md, "Delivery callbacks"):

- v2 (`{"app", "timestamp" (ms), "version": 2, "type", "payload"}`). A
  `message-event` is a status: `enqueued` and a synchronous `failed` (refused
  by Gupshup, no `gsId`) name the Gupshup message by `id`; DLRs (`sent`,
  `delivered`, `read`, `deleted`) and an asynchronous `failed` (WhatsApp's
  verdict after `enqueued`) name the wamid by `id` and Gupshup's by `gsId`,
  which disappears on events more than ~a week late. WhatsApp's own time is the
  inner `payload.payload.ts` (seconds). The other types are `user-event`
  (consent), `message` (inbound), `billing-event`, `template-event` and
  `account-event`.
- v3 (Meta shape): `entry[].changes[].value.statuses[]` with `id` (wamid),
  `gs_id`, `status`, `timestamp` (seconds as a string, but **milliseconds as a
  number** for `enqueued`), `recipient_id`, `errors[]` or `code`/`reason` on
  the status, `pricing{}` on `sent`; and `value.messages[]` (inbound).

Every event keeps its kind (`EventKind`). A well-formed callback of a kind or
status we do not know becomes an `OTHER` event, never an error; only a body
that is not a callback at all (not an object, no type, a status without ids)
raises `EventParseError` saying what was wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

STATUS_EVENTS = ("enqueued", "sent", "delivered", "read", "failed", "deleted")
# A number this large is a millisecond timestamp (year 5138 in seconds).
_MS_THRESHOLD = 100_000_000_000


class EventParseError(ValueError):
    """The payload is not a callback shape we know; the message says why."""


class EventKind:
    STATUS = "status"  # a send moved: enqueued, sent, delivered, read, failed…
    TEMPLATE = "template"  # a template's status or category changed
    USER = "user"  # consent: opted-in, opted-out, sandbox-start
    INBOUND = "inbound"  # a message from a WhatsApp user (replies, STOP…)
    BILLING = "billing"  # what a send cost (v2 billing-event)
    ACCOUNT = "account"  # the number or account changed (tier-event…)
    OTHER = "other"  # well formed, of a kind we do not use (stored, not an error)


@dataclass(frozen=True)
class DeliveryEvent:
    """One thing a callback said. Status events carry ids to match a send by.

    `subtype` is the event's own sub-type where it has one: the consent change of
    a user-event (opted-in | opted-out | sandbox-start), an inbound message's type
    (text, image, button_reply…), a template-event's (status-update,
    category-update; "" for the older shape), an account-event's (tier-event…).
    `billable` is None when the callback does not say.
    """

    kind: str
    type: str  # a status (sent, read…) or the raw event type (user-event…)
    gs_id: str = ""
    wamid: str = ""
    destination: str = ""
    timestamp: datetime | None = None
    error_code: str = ""
    error_message: str = ""
    template_id: str = ""
    template_status: str = ""
    subtype: str = ""
    # The WhatsApp user of a user-event or inbound message.
    phone: str = ""
    sender_name: str = ""
    # An inbound message: its own id, its text (text, button and list replies)
    # and the business message it answers (context).
    message_id: str = ""
    text: str = ""
    context_wamid: str = ""
    context_gs_id: str = ""
    # Pricing: v2 sent `pricing{policy, category, type}`, v3 sent
    # `pricing{billable, category, pricing_model, type}`, billing-event
    # `deductions{type, model, billable, category}`.
    billable: bool | None = None
    pricing_category: str = ""
    pricing_model: str = ""
    pricing_type: str = ""
    conversation_id: str = ""
    template_name: str = ""
    template_language: str = ""
    template_category: str = ""
    template_old_category: str = ""
    # account-event tier-event: payload{event, oldLimit, currentLimit}.
    account_event: str = ""
    old_limit: str = ""
    current_limit: str = ""


def parse_callback(body: Any) -> list[DeliveryEvent]:
    """Every event in one callback body. Raises EventParseError."""
    if not isinstance(body, dict):
        raise EventParseError(f"expected a JSON object, got {type(body).__name__}")
    if "entry" in body or body.get("object") == "whatsapp_business_account":
        return _v3(body)
    kind = body.get("type")
    if not isinstance(kind, str) or not kind:
        raise EventParseError("neither a v2 'type' nor a v3 'entry' list")
    parser = _V2_PARSERS.get(kind)
    if parser is None:
        return [DeliveryEvent(kind=EventKind.OTHER, type=kind, timestamp=_ts(body))]
    return [parser(_object(body.get("payload"), "payload"), body)]


# --- reading values --------------------------------------------------------------


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise EventParseError(f"{where} must be an object")
    return value


def _dict(value: Any) -> dict[str, Any]:
    """`value` if it is an object, else an empty one (for optional parts)."""
    return value if isinstance(value, dict) else {}


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise EventParseError(f"{where} must be a list")
    return value


def _text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return ""
    return str(value)


def _first_text(holder: dict[str, Any], *keys: str) -> str:
    for key in keys:
        text = _text(holder.get(key))
        if text:
            return text
    return ""


def _bool(value: Any) -> bool | None:
    """A JSON boolean, or the "true"/"false" strings older docs show."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _ts(holder: dict[str, Any], *keys: str) -> datetime | None:
    """The first timestamp found under `keys` (default `ts`, then `timestamp`):
    seconds or milliseconds, a number or a numeric string. A value that is not a
    time (text, a boolean, out of range) is skipped."""
    for key in keys or ("ts", "timestamp"):
        raw = holder.get(key)
        if isinstance(raw, bool) or not isinstance(raw, str | int | float):
            continue
        try:
            number = float(raw)
            if number > _MS_THRESHOLD:
                number /= 1000
            return datetime.fromtimestamp(number, tz=UTC)
        except (ValueError, OverflowError, OSError):
            continue
    return None


# --- v2 ----------------------------------------------------------------------------


def _v2_message_event(payload: dict[str, Any], body: dict[str, Any]) -> DeliveryEvent:
    status = payload.get("type")
    if not isinstance(status, str) or not status:
        raise EventParseError("message-event without payload.type")
    inner = _dict(payload.get("payload"))
    event_id, gs_field = _text(payload.get("id")), _text(payload.get("gsId"))
    # WhatsApp's own time first; the envelope is when Gupshup called us.
    when = _ts(inner, "ts") or _ts(payload, "ts") or _ts(body, "timestamp")
    destination = _text(payload.get("destination"))
    if status not in STATUS_EVENTS:
        # e.g. `mismatch`: kept, with whatever id it names.
        return DeliveryEvent(
            kind=EventKind.OTHER,
            type=status,
            gs_id=gs_field or event_id,
            destination=destination,
            timestamp=when,
        )
    if not event_id:
        raise EventParseError("message-event without payload.id")
    gs_id, wamid = _v2_ids(status, event_id, gs_field, inner)
    failed = status == "failed"
    conversation, pricing = _dict(payload.get("conversation")), payload.get("pricing")
    return DeliveryEvent(
        kind=EventKind.STATUS,
        type=status,
        gs_id=gs_id,
        wamid=wamid,
        destination=destination,
        timestamp=when,
        error_code=_text(inner.get("code")) if failed else "",
        error_message=_text(inner.get("reason")) if failed else "",
        conversation_id=_text(conversation.get("id")),
        **_pricing(_dict(pricing), model_key="policy"),
    )


_GUPSHUP_ID = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE
)


def _v2_ids(
    status: str, event_id: str, gs_field: str, inner: dict[str, Any]
) -> tuple[str, str]:
    """(Gupshup id, wamid) of a v2 status event (API-NOTES, "Delivery callbacks")."""
    if gs_field == event_id or status == "enqueued":
        # Both name the Gupshup message; the wamid, if known, is inside.
        return gs_field or event_id, _text(inner.get("whatsappMessageId"))
    if status == "failed" and not gs_field and _GUPSHUP_ID.match(event_id):
        # Synchronous: Gupshup refused it before WhatsApp saw it.
        return event_id, _text(inner.get("whatsappMessageId"))
    # DLRs and WhatsApp's asynchronous failures: `id` is the wamid, `gsId`
    # Gupshup's id (missing on events more than ~a week late; Gupshup's ids are
    # UUIDs, wamids are not, so such a late failure is still told apart).
    return gs_field, event_id


def _pricing(pricing: dict[str, Any], *, model_key: str) -> dict[str, Any]:
    """The pricing fields of a v2/v3 `pricing` or a billing `deductions` object."""
    return {
        "billable": _bool(pricing.get("billable")),
        "pricing_category": _text(pricing.get("category")),
        "pricing_model": _text(pricing.get(model_key)),
        "pricing_type": _text(pricing.get("type")),
    }


def _v2_user_event(payload: dict[str, Any], body: dict[str, Any]) -> DeliveryEvent:
    return DeliveryEvent(
        kind=EventKind.USER,
        type="user-event",
        subtype=_text(payload.get("type")),
        phone=_text(payload.get("phone")),
        timestamp=_ts(body, "timestamp"),
    )


def _v2_inbound(payload: dict[str, Any], body: dict[str, Any]) -> DeliveryEvent:
    sender, context = _dict(payload.get("sender")), _dict(payload.get("context"))
    content = _dict(payload.get("payload"))
    return DeliveryEvent(
        kind=EventKind.INBOUND,
        type="message",
        subtype=_text(payload.get("type")),
        phone=_text(sender.get("phone")) or _text(payload.get("source")),
        sender_name=_text(sender.get("name")),
        message_id=_text(payload.get("id")),
        # text: its text; quick_reply: the button's text; button/list_reply: title.
        text=_first_text(content, "text", "title"),
        context_wamid=_text(context.get("id")),
        context_gs_id=_text(context.get("gsId")),
        timestamp=_ts(body, "timestamp"),
    )


def _v2_billing(payload: dict[str, Any], body: dict[str, Any]) -> DeliveryEvent:
    deductions = _dict(payload.get("deductions"))
    references = _dict(payload.get("references"))
    return DeliveryEvent(
        kind=EventKind.BILLING,
        type="billing-event",
        gs_id=_text(references.get("gsId")),
        wamid=_text(references.get("id")),
        destination=_text(references.get("destination")),
        conversation_id=_text(references.get("conversationId")),
        timestamp=_ts(body, "timestamp"),
        **_pricing(deductions, model_key="model"),
    )


def _v2_template(payload: dict[str, Any], body: dict[str, Any]) -> DeliveryEvent:
    """All three shapes: `status-update`, the older one without a `type`
    (status + rejectedReason) and `category-update` (no status)."""
    template_id = _text(payload.get("id"))
    if not template_id:
        raise EventParseError("template-event without payload.id")
    status = _first_text(payload, "status", "event")
    return DeliveryEvent(
        kind=EventKind.TEMPLATE,
        type="template-event",
        subtype=_text(payload.get("type")),
        template_id=template_id,
        template_status=status.upper(),
        # A pause's end is only in this free text ("paused for 3 hours until …").
        error_message=_first_text(payload, "description", "rejectedReason", "reason"),
        template_name=_text(payload.get("elementName")),
        template_language=_text(payload.get("languageCode")),
        template_category=_first_text(
            payload, "newCategory", "correctCategory", "category"
        ),
        template_old_category=_first_text(payload, "oldCategory", "previousCategory"),
        timestamp=_ts(body, "timestamp"),
    )


def _v2_account(payload: dict[str, Any], body: dict[str, Any]) -> DeliveryEvent:
    inner = _dict(payload.get("payload"))
    return DeliveryEvent(
        kind=EventKind.ACCOUNT,
        type="account-event",
        subtype=_text(payload.get("type")),
        account_event=_text(inner.get("event")),
        old_limit=_text(inner.get("oldLimit")),
        current_limit=_text(inner.get("currentLimit")),
        timestamp=_ts(body, "timestamp"),
    )


_V2_PARSERS = {
    "message-event": _v2_message_event,
    "user-event": _v2_user_event,
    "message": _v2_inbound,
    "billing-event": _v2_billing,
    "template-event": _v2_template,
    "account-event": _v2_account,
}


# --- v3 ----------------------------------------------------------------------------


def _v3(body: dict[str, Any]) -> list[DeliveryEvent]:
    entries = body.get("entry")
    if not isinstance(entries, list):
        raise EventParseError("v3 callback without an 'entry' list")
    events: list[DeliveryEvent] = []
    for entry in entries:
        for change in _list(_object(entry, "entry[]").get("changes"), "changes"):
            events.extend(_v3_change(_object(change, "changes[]")))
    if not events:
        raise EventParseError("v3 callback with no changes")
    return events


def _v3_change(change: dict[str, Any]) -> list[DeliveryEvent]:
    field = _text(change.get("field")) or "unknown"
    if field not in ("messages", "unknown"):
        return [DeliveryEvent(kind=EventKind.OTHER, type=field)]
    value = _object(change.get("value"), "value")
    statuses = _list(value.get("statuses"), "statuses")
    messages = _list(value.get("messages"), "messages")
    names = _v3_contact_names(_list(value.get("contacts"), "contacts"))
    events = [_v3_status(_object(s, "statuses[]")) for s in statuses]
    events += [_v3_message(_object(m, "messages[]"), names) for m in messages]
    return events or [DeliveryEvent(kind=EventKind.OTHER, type=field)]


def _v3_status(status: dict[str, Any]) -> DeliveryEvent:
    word = status.get("status")
    if not isinstance(word, str) or not word:
        raise EventParseError("v3 status without a 'status' word")
    wamid, gs_id = _text(status.get("id")), _text(status.get("gs_id"))
    if not (wamid or gs_id):
        raise EventParseError("v3 status without id or gs_id")
    if wamid == gs_id:
        wamid = ""  # only the Gupshup id is known
    timestamp = _ts(status, "timestamp")
    destination = _text(status.get("recipient_id"))
    if word not in STATUS_EVENTS:
        return DeliveryEvent(
            kind=EventKind.OTHER,
            type=word,
            gs_id=gs_id,
            wamid=wamid,
            destination=destination,
            timestamp=timestamp,
        )
    errors = status.get("errors")
    first = _dict(errors[0]) if isinstance(errors, list) and errors else {}
    return DeliveryEvent(
        kind=EventKind.STATUS,
        type=word,
        gs_id=gs_id,
        wamid=wamid,
        destination=destination,
        timestamp=timestamp,
        # Meta's errors[], or (the passthrough sample) code/reason on the status.
        error_code=_text(first.get("code")) or _text(status.get("code")),
        error_message=_first_text(first, "title", "message")
        or _text(status.get("reason")),
        conversation_id=_text(_dict(status.get("conversation")).get("id")),
        **_pricing(_dict(status.get("pricing")), model_key="pricing_model"),
    )


def _v3_contact_names(contacts: list[Any]) -> dict[str, str]:
    """wa_id → profile name, from a v3 `contacts` list."""
    names: dict[str, str] = {}
    for contact in contacts:
        contact = _dict(contact)
        name = _text(_dict(contact.get("profile")).get("name"))
        names.setdefault(_text(contact.get("wa_id")), name)
    return names


def _v3_message(message: dict[str, Any], names: dict[str, str]) -> DeliveryEvent:
    sender, message_id = _text(message.get("from")), _text(message.get("id"))
    if not (sender or message_id):
        raise EventParseError("v3 message without from or id")
    interactive = _dict(message.get("interactive"))
    reply = _dict(interactive.get("button_reply")) or _dict(
        interactive.get("list_reply")
    )
    context = _dict(message.get("context"))
    return DeliveryEvent(
        kind=EventKind.INBOUND,
        type="message",
        subtype=_text(message.get("type")),
        phone=sender,
        # The contact for this sender, else the only one given.
        sender_name=names.get(sender) or next(iter(names.values()), ""),
        message_id=message_id,
        text=_text(_dict(message.get("text")).get("body"))
        or _text(_dict(message.get("button")).get("text"))
        or _text(reply.get("title")),
        context_wamid=_text(context.get("id")),
        context_gs_id=_text(context.get("gs_id")),
        timestamp=_ts(message, "timestamp"),
    )
