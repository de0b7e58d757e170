"""Gupshup callback payloads → normalized events.

Two formats arrive on the same URL (API-NOTES.md, "Delivery callbacks"):

- v2 (`"type": "message-event"`): for `enqueued`/`failed` the payload `id` is the
  Gupshup message id; for `sent`/`delivered`/`read` it is the WhatsApp `wamid`
  and `gsId` the Gupshup id, which disappears on events more than ~a week late.
- v3 (Meta shape): `entry[].changes[].value.statuses[]` with `id` (wamid),
  `gs_id`, `status`, `timestamp` (seconds as a string, but **milliseconds as a
  number** for `enqueued`), `recipient_id`, `errors[]`.

Other v2 types (user, template, account, mismatch events) are returned as
`OTHER` events (templates as `TEMPLATE`), never dropped. Anything that is not one
of these shapes raises `EventParseError` with what was wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

STATUS_EVENTS = ("enqueued", "sent", "delivered", "read", "failed", "deleted")
# A number this large is a millisecond timestamp (year 5138 in seconds).
_MS_THRESHOLD = 100_000_000_000


class EventParseError(ValueError):
    """The payload is not a callback shape we know; the message says why."""


class EventKind:
    STATUS = "status"
    TEMPLATE = "template"
    OTHER = "other"


@dataclass(frozen=True)
class DeliveryEvent:
    """One thing a callback said. Status events carry ids to match a send by."""

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


def parse_callback(body: Any) -> list[DeliveryEvent]:
    """Every event in one callback body. Raises EventParseError."""
    if not isinstance(body, dict):
        raise EventParseError(f"expected a JSON object, got {type(body).__name__}")
    if "entry" in body or body.get("object") == "whatsapp_business_account":
        return _v3(body)
    kind = body.get("type")
    if not isinstance(kind, str) or not kind:
        raise EventParseError("neither a v2 'type' nor a v3 'entry' list")
    payload = body.get("payload")
    if kind == "message-event":
        return [_v2_status(_object(payload, "payload"), body)]
    if kind == "template-event":
        return [_v2_template(_object(payload, "payload"))]
    return [DeliveryEvent(kind=EventKind.OTHER, type=kind, timestamp=_ts(body))]


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise EventParseError(f"{where} must be an object")
    return value


def _text(value: Any) -> str:
    return str(value) if isinstance(value, str | int) and value != "" else ""


def _ts(holder: dict[str, Any], *keys: str) -> datetime | None:
    """The first timestamp found under `keys` (default `ts`, then `timestamp`)."""
    for key in keys or ("ts", "timestamp"):
        raw = holder.get(key)
        try:
            number = float(raw)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
        if number > _MS_THRESHOLD:
            number /= 1000
        return datetime.fromtimestamp(number, tz=UTC)
    return None


def _v2_status(payload: dict[str, Any], body: dict[str, Any]) -> DeliveryEvent:
    status = payload.get("type")
    if status not in STATUS_EVENTS:
        raise EventParseError(f"unknown message-event type {status!r}")
    inner = payload.get("payload") if isinstance(payload.get("payload"), dict) else {}
    assert isinstance(inner, dict)
    event_id = _text(payload.get("id"))
    if not event_id:
        raise EventParseError("message-event without payload.id")
    gs_id, wamid = _v2_ids(status, event_id, _text(payload.get("gsId")), inner)
    return DeliveryEvent(
        kind=EventKind.STATUS,
        type=status,
        gs_id=gs_id,
        wamid=wamid,
        destination=_text(payload.get("destination")),
        # WhatsApp's own time first; the envelope is when Gupshup called us.
        timestamp=_ts(inner, "ts") or _ts(payload, "ts") or _ts(body, "timestamp"),
        error_code=_text(inner.get("code")) if status == "failed" else "",
        error_message=_text(inner.get("reason")) if status == "failed" else "",
    )


def _v2_ids(
    status: str, event_id: str, gs_field: str, inner: dict[str, Any]
) -> tuple[str, str]:
    """(Gupshup id, wamid) of a v2 status event (API-NOTES, "Delivery callbacks")."""
    if gs_field == event_id or status == "enqueued":
        # Both name the Gupshup message; the wamid, if known, is inside.
        return gs_field or event_id, _text(inner.get("whatsappMessageId"))
    if status == "failed" and not gs_field:
        # Synchronous: Gupshup refused it before WhatsApp saw it.
        return event_id, _text(inner.get("whatsappMessageId"))
    # DLRs and WhatsApp's asynchronous failures: `id` is the wamid, `gsId`
    # Gupshup's id (missing on events more than ~a week late).
    return gs_field, event_id


def _v2_template(payload: dict[str, Any]) -> DeliveryEvent:
    template_id = _text(payload.get("id"))
    status = _text(payload.get("status") or payload.get("event"))
    if not template_id or not status:
        raise EventParseError("template-event without payload.id and status")
    return DeliveryEvent(
        kind=EventKind.TEMPLATE,
        type="template-event",
        template_id=template_id,
        template_status=status.upper(),
        error_message=_text(payload.get("reason") or payload.get("rejectedReason")),
    )


def _v3(body: dict[str, Any]) -> list[DeliveryEvent]:
    entries = body.get("entry")
    if not isinstance(entries, list):
        raise EventParseError("v3 callback without an 'entry' list")
    events: list[DeliveryEvent] = []
    for entry in entries:
        for change in _object(entry, "entry[]").get("changes") or []:
            value = _object(_object(change, "changes[]").get("value"), "value")
            for status in value.get("statuses") or []:
                events.append(_v3_status(_object(status, "statuses[]")))
            if not value.get("statuses"):
                field = _text(_object(change, "changes[]").get("field")) or "unknown"
                events.append(DeliveryEvent(kind=EventKind.OTHER, type=field))
    if not events:
        raise EventParseError("v3 callback with no changes")
    return events


def _v3_status(status: dict[str, Any]) -> DeliveryEvent:
    kind = status.get("status")
    if kind not in STATUS_EVENTS:
        raise EventParseError(f"unknown v3 status {kind!r}")
    errors = status.get("errors") if isinstance(status.get("errors"), list) else []
    assert isinstance(errors, list)
    first = errors[0] if errors and isinstance(errors[0], dict) else {}
    wamid, gs_id = _text(status.get("id")), _text(status.get("gs_id"))
    if not (wamid or gs_id):
        raise EventParseError("v3 status without id or gs_id")
    return DeliveryEvent(
        kind=EventKind.STATUS,
        type=kind,
        gs_id=gs_id,
        wamid=wamid,
        destination=_text(status.get("recipient_id")),
        timestamp=_ts(status, "timestamp"),
        error_code=_text(first.get("code")),
        error_message=_text(first.get("title") or first.get("message")),
    )
