"""A batch of stored callbacks processed at once: the drain's fast path.

The outcome is the one `webhook_event_process` gives event by event in arrival
order (statuses only move forward, failed is terminal, one timeline row per
recipient and status), in a handful of queries per batch instead of several per
event: one lookup of the sends by Gupshup id, one by WhatsApp id, one read of
the timeline rows already there, one bulk insert, one conditional UPDATE per
kind of move, and one write of the events' states.

Only the common case is batched: events whose send is found by its ids. An
event that needs the number fallback (a send whose answer was lost) or must be
parked takes the event-by-event path, after the batched ones.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from campaigns.callbacks import (
    MOVES_FROM,
    callback_events,
    parked_may_exist,
    recipient_status_move,
    status_event_apply,
    status_event_fields,
    status_events_match_parked,
    template_status_apply,
)
from campaigns.models import Recipient, RecipientStatus, StatusEvent
from gupshup_admin.models import WebhookEvent, WebhookState
from gupshup_admin.providers.events import (
    DeliveryEvent,
    EventKind,
    EventParseError,
)

S = RecipientStatus


@dataclass
class _Send:
    """What the batch needs to know of one recipient row."""

    pk: int
    message_id: str
    wamid: str
    status: str
    learned_wamid: str = ""
    items: list[tuple[WebhookEvent, DeliveryEvent]] = field(default_factory=list)
    # The items not on the timeline before this batch: the ones that move it.
    fresh: list[DeliveryEvent] = field(default_factory=list)


def webhook_events_process_batch(*, events: Sequence[WebhookEvent]) -> None:
    """Process stored callbacks (locked by the caller), oldest first."""
    parsed: list[tuple[WebhookEvent, list[DeliveryEvent]]] = []
    for event in events:
        try:
            parsed.append((event, callback_events(event.body)))
        except EventParseError as exc:
            _set_state(event, WebhookState.INVALID, error=str(exc))
    sends = _Sends(parsed)
    slow: dict[int, list[DeliveryEvent]] = defaultdict(list)
    for event, items in parsed:
        for item in items:
            if item.kind == EventKind.STATUS:
                if not sends.attach(event, item):
                    slow[event.pk].append(item)
            elif item.kind == EventKind.TEMPLATE and event.partner_app is not None:
                template_status_apply(event.partner_app, item)
    sends.apply()
    for event, items in parsed:
        parked = 0
        for item in slow.get(event.pk, []):
            outcome = status_event_apply(app=event.partner_app, item=item, source=event)
            parked += outcome == "parked"
        kind = items[0].type if len(items) == 1 else f"{len(items)} events"
        state = WebhookState.PARKED if parked else WebhookState.PROCESSED
        _set_state(event, state, kind=kind)
    _save_states(events)


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


def _remember_wamids(wamids: dict[int, str]) -> None:
    """Set each recipient's first-seen wamid in one statement. Raw SQL because
    Django's `bulk_update` spends milliseconds building the same CASE; names
    come from the model, values are parameters."""
    if not wamids:
        return
    table = connection.ops.quote_name(Recipient._meta.db_table)
    pk = connection.ops.quote_name(Recipient._meta.pk.column)
    column = connection.ops.quote_name(Recipient._meta.get_field("wamid").column)
    cases = " ".join(["WHEN %s THEN %s"] * len(wamids))
    marks = ", ".join(["%s"] * len(wamids))
    params: list[int | str] = [v for pair in wamids.items() for v in pair]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {column} = CASE {pk} {cases} END "  # noqa: S608
            f"WHERE {pk} IN ({marks}) AND {column} = ''",
            [*params, *wamids],
        )


class _Sends:
    """The recipient rows this batch's status events belong to."""

    def __init__(self, parsed: Iterable[tuple[WebhookEvent, list[DeliveryEvent]]]):
        statuses = [
            (event.partner_app_id, item)
            for event, items in parsed
            for item in items
            if item.kind == EventKind.STATUS
        ]
        self.by_gs_id: dict[str, list[tuple[int | None, _Send]]] = defaultdict(list)
        self.by_wamid: dict[str, list[tuple[int | None, _Send]]] = defaultdict(list)
        self.sends: dict[int, _Send] = {}
        self._load(Q(message_id__in={i.gs_id for _, i in statuses if i.gs_id}))
        # Learn wamids from events that carry both ids, then look up the rest.
        for app_id, item in statuses:
            send = self._by(self.by_gs_id, item.gs_id, app_id)
            if send is not None and item.wamid and not send.wamid:
                send.learned_wamid = send.learned_wamid or item.wamid
                self.by_wamid[item.wamid].append((app_id, send))
        unknown = {
            i.wamid
            for app_id, i in statuses
            if i.wamid and self.find(app_id, i) is None
        }
        if unknown:
            self._load(Q(wamid__in=unknown))

    def _load(self, ids: Q) -> None:
        rows = Recipient.objects.filter(ids).values_list(
            "pk", "message_id", "wamid", "status", "campaign__partner_app_id"
        )
        for pk, message_id, wamid, status, app_id in rows:
            send = self.sends.setdefault(pk, _Send(pk, message_id, wamid, status))
            if message_id:
                self.by_gs_id[message_id].append((app_id, send))
            if wamid:
                self.by_wamid[wamid].append((app_id, send))

    @staticmethod
    def _by(
        index: dict[str, list[tuple[int | None, _Send]]], key: str, app_id: int | None
    ) -> _Send | None:
        for owner, send in index.get(key, []) if key else []:
            if app_id is None or owner == app_id:
                return send
        return None

    def find(self, app_id: int | None, item: DeliveryEvent) -> _Send | None:
        found = self._by(self.by_gs_id, item.gs_id, app_id)
        return found or self._by(self.by_wamid, item.wamid, app_id)

    def attach(self, event: WebhookEvent, item: DeliveryEvent) -> bool:
        send = self.find(event.partner_app_id, item)
        if send is None:
            return False
        send.items.append((event, item))
        return True

    def apply(self) -> None:
        touched = [send for send in self.sends.values() if send.items]
        if not touched:
            return
        seen = set(
            StatusEvent.objects.filter(
                recipient_id__in=[send.pk for send in touched]
            ).values_list("recipient_id", "status")
        )
        new_rows: list[StatusEvent] = []
        moves: dict[_Move, list[_Send]] = defaultdict(list)
        for send in touched:
            for event, item in send.items:
                if (send.pk, item.type) not in seen:
                    seen.add((send.pk, item.type))
                    send.fresh.append(item)
                    new_rows.append(_timeline_row(send, event, item))
            move = _final_move(send.status, send.fresh)
            if move is not None:
                moves[move].append(send)
        StatusEvent.objects.bulk_create(new_rows, ignore_conflicts=True)
        for move, group in moves.items():
            _update(move, group)
        _remember_wamids({s.pk: s.learned_wamid for s in touched if s.learned_wamid})
        if parked_may_exist.get():
            status_events_match_parked(
                message_ids=[s.message_id for s in touched if s.message_id],
                wamids=[w for s in touched for w in (s.wamid, s.learned_wamid) if w],
            )


def _timeline_row(send: _Send, event: WebhookEvent, item: DeliveryEvent) -> StatusEvent:
    return StatusEvent(
        recipient_id=send.pk,
        partner_app_id=event.partner_app_id,
        webhook_event=event,
        **status_event_fields(item),
    )


@dataclass(frozen=True)
class _Move:
    """Where a recipient's status goes; recipients with equal moves share one
    UPDATE."""

    from_status: str
    to_status: str
    error_code: str = ""
    error_message: str = ""

    def changes(self) -> dict[str, object]:
        changes: dict[str, object] = {
            "status": self.to_status,
            "updated_at": timezone.now(),
        }
        if self.to_status == S.FAILED or self.from_status == S.UNKNOWN:
            # A failure keeps the provider's words; a resolved unknown loses
            # the "outcome unknown" note.
            changes.update(error_code=self.error_code, error_message=self.error_message)
        return changes


def _final_move(status: str, items: list[DeliveryEvent]) -> _Move | None:
    """The move these events make, applied in order; None when none moves."""
    current, failure = status, ("", "")
    for item in items:
        if current in MOVES_FROM.get(item.type, ()):
            current = item.type
            if current == S.FAILED:
                failure = (item.error_code, item.error_message)
    if current == status:
        return None
    return _Move(status, current, *failure)


def _update(move: _Move, group: list[_Send]) -> None:
    pks = [send.pk for send in group]
    moved = Recipient.objects.filter(pk__in=pks, status=move.from_status).update(
        **move.changes()
    )
    if moved != len(pks):
        # Someone else moved some of them meanwhile: replay their events one by
        # one against what is there now (each move is conditional, so the ones
        # already moved stay as they are).
        _replay_moves(group)


def _replay_moves(group: list[_Send]) -> None:
    for send in group:
        for item in send.fresh:
            recipient = Recipient.objects.filter(pk=send.pk).first()
            if recipient is not None:
                row = StatusEvent(**status_event_fields(item))
                recipient_status_move(recipient, row)
