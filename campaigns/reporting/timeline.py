"""One recipient's history for reviewers (a selector): each attempt, with its
requests to the provider and its delivery statuses, each status with the raw
callback that brought it."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from campaigns.models import (
    AttemptStatus,
    Recipient,
    SendAttempt,
    StatusEvent,
    WebhookEvent,
)
from gupshup_admin.models import ApiExchange
from gupshup_admin.providers.failure_codes import FailureCode, failure_explained

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


@dataclass(frozen=True)
class AttemptHistory:
    """One attempt and what happened to it, oldest first."""

    attempt: SendAttempt
    entries: list[TimelineEntry]
    latest: bool
    explanation: FailureCode | None = None


def recipient_timeline(*, recipient: Recipient) -> list[AttemptHistory]:
    """The recipient's attempts, oldest first, each with its requests to the
    provider and its delivery statuses in order. Three queries."""
    attempts = list(SendAttempt.objects.filter(recipient=recipient).order_by("number"))
    refs = {attempt.exchange_ref: attempt.pk for attempt in attempts}
    linked = {attempt.exchange_id: attempt.pk for attempt in attempts}
    exchanges = ApiExchange.objects.filter(ref__in=refs) | ApiExchange.objects.filter(
        pk__in=[pk for pk in linked if pk is not None]
    )
    entries: dict[int, list[TimelineEntry]] = defaultdict(list)
    for exchange in exchanges.order_by("created_at", "pk"):
        owner = refs.get(exchange.ref) or linked.get(exchange.pk)
        if owner is not None:
            entries[owner].append(_exchange_entry(exchange))
    events = StatusEvent.objects.filter(attempt__recipient=recipient).select_related(
        "webhook_event"
    )
    for event in events:
        assert event.attempt_id is not None
        entries[event.attempt_id].append(_status_entry(event))
    return [
        AttemptHistory(
            attempt=attempt,
            entries=sorted(entries[attempt.pk], key=_in_order),
            latest=attempt.pk == recipient.latest_attempt_id,
            explanation=failure_explained(attempt.error_code)
            if attempt.status == AttemptStatus.FAILED
            else None,
        )
        for attempt in attempts
    ]


def _exchange_entry(exchange: ApiExchange) -> TimelineEntry:
    return TimelineEntry(
        at=exchange.created_at,
        kind="exchange",
        exchange=exchange,
        request_headers=pretty_json_value(exchange.request_headers),
        request_body=pretty_json_value(exchange.request_body),
        response_body=pretty_json(exchange.response_body),
    )


def _status_entry(event: StatusEvent) -> TimelineEntry:
    callback = event.webhook_event
    return TimelineEntry(
        at=event.occurred_at or event.received_at,
        kind="status",
        event=event,
        callback=callback,
        callback_body=pretty_json(callback.body) if callback else "",
        explanation=failure_explained(event.error_code)
        if event.status == AttemptStatus.FAILED
        else None,
    )


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
    if not value:
        return ""
    try:
        return json.dumps(value, indent=2, ensure_ascii=False)
    except (ValueError, RecursionError):
        return str(value)


def pretty_json(text: str) -> str:
    """Indented JSON, or the text as it is when it is not JSON (or nested too
    deeply to print: anyone may POST a body, and no page may break on one)."""
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except (ValueError, RecursionError):
        return text
