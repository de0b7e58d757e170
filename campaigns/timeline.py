"""One recipient's history for reviewers (a selector): its requests to the provider
and its delivery statuses, each with the raw callback that brought it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from campaigns.models import Recipient, RecipientStatus, StatusEvent
from gupshup_admin.models import ApiExchange, WebhookEvent
from gupshup_admin.providers.failure_codes import FailureCode, failure_explained

S = RecipientStatus
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime | None
    kind: Literal["exchange", "status"]
    exchange: ApiExchange | None = None
    event: StatusEvent | None = None
    callback: WebhookEvent | None = None
    callback_body: str = ""  # pretty-printed when it is JSON
    request_headers: str = ""
    request_body: str = ""
    response_body: str = ""
    explanation: FailureCode | None = None


def recipient_timeline(*, recipient: Recipient) -> list[TimelineEntry]:
    """The recipient's requests to the provider and its delivery statuses (each
    with the raw callback that brought it), oldest first. Two queries."""
    exchanges = list(
        ApiExchange.objects.filter(ref=f"recipient:{recipient.pk}").order_by(
            "created_at", "pk"
        )
    )
    if recipient.exchange_id and recipient.exchange_id not in {e.pk for e in exchanges}:
        exchanges += ApiExchange.objects.filter(pk=recipient.exchange_id)
    entries = [
        TimelineEntry(
            at=e.created_at,
            kind="exchange",
            exchange=e,
            request_headers=pretty_json_value(e.request_headers),
            request_body=pretty_json_value(e.request_body),
            response_body=pretty_json(e.response_body),
        )
        for e in exchanges
    ]
    for event in recipient.events.select_related("webhook_event"):
        callback = event.webhook_event
        entries.append(
            TimelineEntry(
                at=event.occurred_at or event.received_at,
                kind="status",
                event=event,
                callback=callback,
                callback_body=pretty_json(callback.body) if callback else "",
                explanation=failure_explained(event.error_code)
                if event.status == S.FAILED
                else None,
            )
        )
    return sorted(entries, key=_in_order)


_RANK = {s: n for n, s in enumerate(["enqueued", "sent", "delivered", "read"])}


def _in_order(entry: TimelineEntry) -> tuple[datetime, int, datetime]:
    # Providers stamp statuses to the second, our requests to the microsecond:
    # within one second the request comes first, then statuses in their order.
    at = entry.at or _EPOCH
    status = entry.event.status if entry.event else ""
    rank = -1 if entry.kind == "exchange" else _RANK.get(status, len(_RANK))
    return at.replace(microsecond=0), rank, at


def pretty_json_value(value: object) -> str:
    """A stored JSON value indented; empty when there is none."""
    return json.dumps(value, indent=2, ensure_ascii=False) if value else ""


def pretty_json(text: str) -> str:
    """Indented JSON, or the text as it is when it is not JSON."""
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text
