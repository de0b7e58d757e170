"""Stored callbacks → what they say applied: delivery statuses to attempts
(`callbacks.status_items_apply`), template changes to the synced templates.

One implementation for any number of callbacks: the drain hands over batches of
up to 200, a replay or a retried callback is a batch of one. Each callback ends
processed, parked (a status waits for its send to be written) or invalid (with
the reason); kinds we do not act on (inbound messages, billing, account events)
are processed and kept.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils import timezone

from campaigns.models import WebhookEvent, WebhookState
from campaigns.statuses.machine import (
    ItemOutcome,
    StatusItem,
    status_items_apply,
    template_status_apply,
)
from gupshup_admin.providers.events import (
    DeliveryEvent,
    EventKind,
    EventParseError,
    parse_callback,
)


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
    """Process one stored callback (a batch of one). Idempotent: replaying a
    stored callback changes nothing that it changed before."""
    return webhook_events_process_batch(events=[event])[event.pk]


def webhook_events_process_batch(
    *, events: Sequence[WebhookEvent]
) -> dict[int, Processed]:
    """Process stored callbacks (locked by the caller), oldest first, and save
    each one's state. Returns what became of each, by primary key."""
    items: dict[int, list[StatusItem]] = defaultdict(list)
    kinds: dict[int, str] = {}
    errors: dict[int, str] = {}
    for event in events:
        try:
            parsed = callback_events(event.body)
        except EventParseError as exc:
            errors[event.pk] = str(exc)
            continue
        kinds[event.pk] = (
            parsed[0].type if len(parsed) == 1 else f"{len(parsed)} events"
        )
        for item in parsed:
            if item.kind == EventKind.STATUS:
                items[event.pk].append(
                    StatusItem(item, event.partner_app_id, webhook_event_id=event.pk)
                )
            elif item.kind == EventKind.TEMPLATE and event.partner_app is not None:
                template_status_apply(event.partner_app, item)
    status_items_apply([item for group in items.values() for item in group])
    results: dict[int, Processed] = {}
    for event in events:
        if event.pk in errors:
            results[event.pk] = Processed(WebhookState.INVALID)
            _set_state(event, WebhookState.INVALID, error=errors[event.pk])
            continue
        outcomes = [item.outcome for item in items.get(event.pk, [])]
        parked = outcomes.count(ItemOutcome.PARKED)
        state = WebhookState.PARKED if parked else WebhookState.PROCESSED
        results[event.pk] = Processed(
            state, outcomes.count(ItemOutcome.APPLIED), parked
        )
        _set_state(event, state, kind=kinds[event.pk])
    _save_states(events)
    return results


def _set_state(
    event: WebhookEvent, state: str, *, error: str = "", kind: str = ""
) -> None:
    event.state, event.error, event.processed_at = state, error, timezone.now()
    event.event_type = kind or event.event_type


def _save_states(events: Sequence[WebhookEvent]) -> None:
    """One UPDATE per (state, error, type): a handful per batch. (`bulk_update`
    builds a CASE per row and field, which cost more CPU than all the rest.)"""
    groups: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for event in events:
        groups[(event.state, event.error, event.event_type)].append(event.pk)
    now = timezone.now()
    for (state, error, kind), pks in groups.items():
        WebhookEvent.objects.filter(pk__in=pks).update(
            state=state, error=error, event_type=kind, processed_at=now
        )
