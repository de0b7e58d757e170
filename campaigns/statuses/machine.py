"""Delivery statuses → attempts and recipients: the status machine.

An attempt moves queued < submitted < enqueued < sent < delivered < read; failed
is terminal; a status never moves backwards; a duplicate changes nothing (one
timeline row per attempt and status). A status finds its attempt by Gupshup's
message id, else by WhatsApp's id (remembered once seen, since `gsId`
disappears after about a week), else, for a send whose answer was lost, by the
number it went to. A status whose attempt is not written yet is parked and
attached when the attempt appears.

A recipient mirrors its latest attempt: a status of an earlier attempt (a retry
was sent since) goes on that attempt's timeline and leaves the recipient alone.
One exception keeps a number from getting the message twice: an unknown send
that an operator asked to send again, and that a callback then shows arrived,
is not sent again.

There is one implementation, `status_items_apply`, for any number of statuses:
the drain's batches, a single stored callback replayed, and parked statuses
whose attempt appeared all go through it, in a handful of queries per batch.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from django.db import connection
from django.db.models import DateTimeField, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from campaigns.models import (
    AttemptStatus,
    Recipient,
    RecipientStatus,
    SendAttempt,
    StatusEvent,
    WebhookEvent,
    WebhookState,
)
from gupshup_admin.models import PartnerApp, Template
from gupshup_admin.providers.events import DeliveryEvent, EventKind

logger = logging.getLogger(__name__)

# The statuses each event may move an attempt from (forward only).
_ACCEPTED: list[str] = [AttemptStatus.SUBMITTED, AttemptStatus.UNKNOWN]
MOVES_FROM: dict[str, list[str]] = {
    "enqueued": _ACCEPTED,
    "sent": [*_ACCEPTED, AttemptStatus.ENQUEUED],
    "delivered": [*_ACCEPTED, AttemptStatus.ENQUEUED, AttemptStatus.SENT],
    "read": [*_ACCEPTED, AttemptStatus.ENQUEUED, AttemptStatus.SENT, "delivered"],
    "failed": [*_ACCEPTED, AttemptStatus.ENQUEUED, AttemptStatus.SENT],
}
_REACHED_DELIVERY = ["delivered", "read"]
_AT: DateTimeField[Any, Any] = DateTimeField()
# The most moves any status can make: how often a batch tries again when
# someone else moved its attempts meanwhile.
_MOST_MOVES = len(MOVES_FROM) + 1

# Whether any status may be parked: a drain checks once per batch, so the usual
# case (nothing parked) costs no lookup per status. Unset means "maybe".
parked_may_exist: ContextVar[bool] = ContextVar("parked_may_exist", default=True)


def parked_events_exist() -> bool:
    return StatusEvent.objects.filter(attempt=None).exists()


class ItemOutcome(StrEnum):
    APPLIED = "applied"  # on its attempt's timeline now
    DUPLICATE = "duplicate"  # the attempt had this status already
    PARKED = "parked"  # no attempt yet: kept until one appears
    WAITING = "waiting"  # a parked status that still has no attempt


@dataclass(eq=False)
class StatusItem:
    """One delivery status to apply, and (after `status_items_apply`) what
    became of it."""

    event: DeliveryEvent
    app_id: int | None
    webhook_event_id: int | None = None
    # A parked status being matched: its row, and when it was received.
    parked_pk: int | None = None
    received_at: datetime | None = None
    outcome: ItemOutcome = ItemOutcome.WAITING


def status_items_apply(items: Sequence[StatusItem], *, park: bool = True) -> set[str]:
    """Put each status on its attempt's timeline and move the attempt (and the
    recipient, when it is the latest attempt) forward, in arrival order.

    A status with no attempt yet is parked (`park`) or left waiting. Sets each
    item's `outcome`; returns the wamids of the attempts it touched.
    """
    if not items:
        return set()
    attempts = _Attempts(items)
    unmatched = []
    for item in items:
        found = attempts.find(item)
        if found is None:
            unmatched.append(item)
        else:
            found.items.append(item)
    attempts.apply()
    if park:
        _park(unmatched)
    if park and parked_may_exist.get() and attempts.touched:
        # These statuses may have revealed the ids that earlier ones were
        # parked under (a wamid learned, an unknown send's message id).
        status_events_match_parked(
            message_ids=attempts.message_ids(), wamids=attempts.wamids()
        )
    return set(attempts.wamids())


def status_event_fields(item: DeliveryEvent) -> dict[str, Any]:
    """What a delivery status puts on its timeline row."""
    return {
        "status": item.type,
        "gs_id": item.gs_id,
        "wamid": item.wamid,
        "destination": item.destination,
        "occurred_at": item.timestamp,
        "error_code": item.error_code,
        "error_message": item.error_message,
    }


def template_status_apply(app: PartnerApp, item: DeliveryEvent) -> None:
    """A template's new status (approved, paused, disabled…). A template event
    without one (a category update) leaves the status as it is."""
    if not item.template_status:
        return
    Template.objects.filter(app=app, gupshup_id=item.template_id).update(
        status=item.template_status,
        rejected_reason=item.error_message,
        synced_at=timezone.now(),
    )


# --- finding the attempts -------------------------------------------------------


@dataclass(eq=False)
class _Attempt:
    """What a batch needs to know of one attempt."""

    pk: int
    recipient_id: int
    app_id: int
    message_id: str
    wamid: str
    status: str
    learned_wamid: str = ""
    items: list[StatusItem] = field(default_factory=list)
    # The items not on the timeline before this batch: the ones that move it.
    fresh: list[StatusItem] = field(default_factory=list)


_Index = dict[str, list[_Attempt]]
_FIELDS = ("pk", "recipient_id", "partner_app_id", "message_id", "wamid", "status")


class _Attempts:
    """The attempts a batch's statuses belong to, found in a few queries."""

    def __init__(self, items: Sequence[StatusItem]) -> None:
        self.by_gs_id: _Index = defaultdict(list)
        self.by_wamid: _Index = defaultdict(list)
        self.rows: dict[int, _Attempt] = {}
        gs_ids = {item.event.gs_id for item in items if item.event.gs_id}
        if gs_ids:
            self._load(Q(message_id__in=gs_ids))
        # Learn wamids from statuses that carry both ids, then look up the rest.
        for item in items:
            found = self._by(self.by_gs_id, item.event.gs_id, item.app_id)
            if found is not None and item.event.wamid and not found.wamid:
                found.learned_wamid = found.learned_wamid or item.event.wamid
                self.by_wamid[item.event.wamid].append(found)
        wamids = {
            item.event.wamid
            for item in items
            if item.event.wamid and self.find(item) is None
        }
        if wamids:
            self._load(Q(wamid__in=wamids))
        self._by_number([item for item in items if self.find(item) is None])

    def _load(self, ids: Q) -> None:
        for values in SendAttempt.objects.filter(ids).values_list(*_FIELDS):
            self._add(_Attempt(*values))

    def _add(self, row: _Attempt) -> _Attempt:
        row = self.rows.setdefault(row.pk, row)
        if row.message_id and row not in self.by_gs_id[row.message_id]:
            self.by_gs_id[row.message_id].append(row)
        if row.wamid and row not in self.by_wamid[row.wamid]:
            self.by_wamid[row.wamid].append(row)
        return row

    def _by_number(self, items: Sequence[StatusItem]) -> None:
        """An unknown send (its answer was lost) has no message id: the number it
        went to tells, and the first status with a Gupshup id names it."""
        wanted: dict[tuple[int | None, str], list[str]] = defaultdict(list)
        for item in items:
            if item.event.gs_id and item.event.destination:
                key = (item.app_id, f"+{item.event.destination}")
                if item.event.gs_id not in wanted[key]:
                    wanted[key].append(item.event.gs_id)
        if not wanted:
            return
        candidates = list(
            SendAttempt.objects.filter(
                status=AttemptStatus.UNKNOWN,
                message_id="",
                recipient__phone__in={phone for _, phone in wanted},
            )
            .order_by("-created_at", "-pk")
            .values_list(*_FIELDS, "recipient__phone")
        )
        taken: set[int] = set()
        for (app_id, phone), gs_ids in wanted.items():
            for gs_id in gs_ids:
                for *values, number in candidates:
                    row = _Attempt(*values)
                    if number != phone or row.pk in taken:
                        continue
                    if app_id is not None and row.app_id != app_id:
                        continue
                    taken.add(row.pk)
                    claimed = SendAttempt.objects.filter(
                        pk=row.pk, message_id=""
                    ).update(message_id=gs_id)
                    if claimed:
                        row.message_id = gs_id
                        self._add(row)
                        break

    def _by(self, index: _Index, key: str, app_id: int | None) -> _Attempt | None:
        for row in index.get(key, []) if key else []:
            if app_id is None or row.app_id == app_id:
                return row
        return None

    def find(self, item: StatusItem) -> _Attempt | None:
        found = self._by(self.by_gs_id, item.event.gs_id, item.app_id)
        return found or self._by(self.by_wamid, item.event.wamid, item.app_id)

    @property
    def touched(self) -> list[_Attempt]:
        return [row for row in self.rows.values() if row.items]

    def message_ids(self) -> list[str]:
        return [row.message_id for row in self.touched if row.message_id]

    def wamids(self) -> list[str]:
        return [
            wamid
            for row in self.touched
            for wamid in (row.wamid, row.learned_wamid)
            if wamid
        ]

    # --- applying ---------------------------------------------------------------

    def apply(self) -> None:
        """The timeline rows, then the moves, then the wamids learned."""
        touched = self.touched
        if not touched:
            return
        seen = set(
            StatusEvent.objects.filter(
                attempt_id__in=[row.pk for row in touched]
            ).values_list("attempt_id", "status")
        )
        new_rows: list[StatusEvent] = []
        consumed_parked: list[int] = []
        for row in touched:
            for item in row.items:
                if item.parked_pk is not None:
                    consumed_parked.append(item.parked_pk)
                if (row.pk, item.event.type) in seen:
                    item.outcome = ItemOutcome.DUPLICATE
                    continue
                seen.add((row.pk, item.event.type))
                item.outcome = ItemOutcome.APPLIED
                row.fresh.append(item)
                new_rows.append(_timeline_row(row, item))
        StatusEvent.objects.bulk_create(new_rows, ignore_conflicts=True)
        if consumed_parked:
            StatusEvent.objects.filter(pk__in=consumed_parked, attempt=None).delete()
        _moves_apply([row for row in touched if row.fresh])
        _milestones_set([row for row in touched if row.fresh])
        _remember_wamids({row.pk: row.learned_wamid for row in touched})


def _timeline_row(row: _Attempt, item: StatusItem) -> StatusEvent:
    timeline = StatusEvent(
        attempt_id=row.pk,
        partner_app_id=item.app_id,
        webhook_event_id=item.webhook_event_id,
        **status_event_fields(item.event),
    )
    if item.received_at is not None:
        timeline.received_at = item.received_at
    return timeline


# --- moving forward ---------------------------------------------------------------


@dataclass(frozen=True)
class _Move:
    """Where an attempt's status goes; attempts with equal moves share one
    UPDATE, and so do their recipients."""

    from_status: str
    to_status: str
    error_code: str = ""
    error_message: str = ""

    def attempt_changes(self) -> dict[str, Any]:
        changes: dict[str, Any] = {**self._status(), "updated_at": timezone.now()}
        if self.from_status == AttemptStatus.UNKNOWN:
            # Its answer was lost, but a callback shows Gupshup accepted it.
            changes["submitted_at"] = Coalesce(F("submitted_at"), F("created_at"))
        if self.to_status == AttemptStatus.FAILED:
            changes["failed_at"] = Coalesce(
                _first_at(["failed"]), Value(timezone.now()), output_field=_AT
            )
        return changes

    def recipient_changes(self) -> dict[str, Any]:
        return {**self._status(), "updated_at": timezone.now()}

    def recipient_from(self) -> list[str]:
        """The recipient statuses that mirror an attempt in `from_status`. A
        recipient waiting to be sent again after an unknown send is one too: a
        callback that shows the first send arrived keeps it from a second."""
        if (
            self.from_status == AttemptStatus.UNKNOWN
            and self.to_status != AttemptStatus.FAILED
        ):
            return [self.from_status, RecipientStatus.PENDING]
        return [self.from_status]

    def _status(self) -> dict[str, Any]:
        changes: dict[str, Any] = {"status": self.to_status}
        if (
            self.to_status == AttemptStatus.FAILED
            or self.from_status == AttemptStatus.UNKNOWN
        ):
            # A failure keeps the provider's words; a resolved unknown loses
            # the "outcome unknown" note.
            changes.update(error_code=self.error_code, error_message=self.error_message)
        return changes


def _first_at(statuses: list[str]) -> Subquery:
    """When the attempt's timeline first shows one of `statuses` (the
    provider's time, else when it was received)."""
    at = Coalesce("occurred_at", "received_at", output_field=_AT)
    return Subquery(
        StatusEvent.objects.filter(attempt_id=OuterRef("pk"), status__in=statuses)
        .annotate(at=at)
        .order_by("at")
        .values("at")[:1]
    )


def _final_move(status: str, items: Iterable[StatusItem]) -> _Move | None:
    """The move these statuses make, applied in order; None when none moves."""
    current, failure = status, ("", "")
    for item in items:
        if current in MOVES_FROM.get(item.event.type, ()):
            current = item.event.type
            if current == AttemptStatus.FAILED:
                failure = (item.event.error_code, item.event.error_message)
    if current == status:
        return None
    return _Move(status, current, *failure)


def _moves_apply(rows: list[_Attempt]) -> None:
    """One conditional UPDATE per kind of move for the attempts, one for their
    recipients. Attempts someone else moved meanwhile are read again and their
    fresh statuses applied to what is there now (each move is conditional, so
    the result is the same whoever came first)."""
    for _ in range(_MOST_MOVES):
        moves: dict[_Move, list[_Attempt]] = defaultdict(list)
        for row in rows:
            move = _final_move(row.status, row.fresh)
            if move is not None:
                moves[move].append(row)
        again: list[_Attempt] = []
        for move, group in moves.items():
            pks = [row.pk for row in group]
            moved = SendAttempt.objects.filter(
                pk__in=pks, status=move.from_status
            ).update(**move.attempt_changes())
            Recipient.objects.filter(
                latest_attempt_id__in=pks,
                latest_attempt__status=move.to_status,
                status__in=move.recipient_from(),
            ).update(**move.recipient_changes())
            if moved != len(group):
                again += group
        if not again:
            return
        now = dict(
            SendAttempt.objects.filter(pk__in=[row.pk for row in again]).values_list(
                "pk", "status"
            )
        )
        for row in again:
            row.status = now.get(row.pk, row.status)
        rows = again
    logger.error("Statuses of attempts %s kept moving under us", [r.pk for r in rows])


def _milestones_set(rows: list[_Attempt]) -> None:
    """When each attempt was first delivered (or read) and read, from its
    timeline: what the report's chart counts."""
    pks = [
        row.pk
        for row in rows
        if any(item.event.type in _REACHED_DELIVERY for item in row.fresh)
    ]
    if pks:
        SendAttempt.objects.filter(pk__in=pks).update(
            delivered_at=_first_at(_REACHED_DELIVERY), read_at=_first_at(["read"])
        )


def _remember_wamids(wamids: dict[int, str]) -> None:
    """Set each attempt's first-seen wamid in one statement. Raw SQL because
    Django's `bulk_update` spends milliseconds building the same CASE
    (bench/callback_ingest.py); names come from the model, values are
    parameters."""
    wamids = {pk: wamid for pk, wamid in wamids.items() if wamid}
    if not wamids:
        return
    table = connection.ops.quote_name(SendAttempt._meta.db_table)
    pk = connection.ops.quote_name(SendAttempt._meta.pk.column)
    column = connection.ops.quote_name(SendAttempt._meta.get_field("wamid").column)
    cases = " ".join(["WHEN %s THEN %s"] * len(wamids))
    marks = ", ".join(["%s"] * len(wamids))
    params: list[int | str] = [v for pair in wamids.items() for v in pair]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {column} = CASE {pk} {cases} END "  # noqa: S608
            f"WHERE {pk} IN ({marks}) AND {column} = ''",
            [*params, *wamids],
        )


# --- parked statuses ----------------------------------------------------------------


def _park(items: Sequence[StatusItem]) -> None:
    """Keep statuses whose attempt is not known yet (once each)."""
    if not items:
        return
    same = Q()
    for item in items:
        same |= Q(
            partner_app_id=item.app_id,
            status=item.event.type,
            gs_id=item.event.gs_id,
            wamid=item.event.wamid,
        )
    there: set[tuple[int | None, str, str, str]] = set(
        StatusEvent.objects.filter(same, attempt=None).values_list(
            "partner_app_id", "status", "gs_id", "wamid"
        )
    )
    rows = []
    for item in items:
        item.outcome = ItemOutcome.PARKED
        key = (item.app_id, item.event.type, item.event.gs_id, item.event.wamid)
        if key not in there:
            there.add(key)
            rows.append(
                StatusEvent(
                    partner_app_id=item.app_id,
                    webhook_event_id=item.webhook_event_id,
                    **status_event_fields(item.event),
                )
            )
    StatusEvent.objects.bulk_create(rows)
    parked_may_exist.set(True)


PARKED_BATCH = 500


def status_events_match_parked(
    *,
    message_ids: list[str] | None = None,
    wamids: list[str] | None = None,
    older_than: datetime | None = None,
) -> int:
    """Attach parked statuses whose attempt has appeared (all of them, or those
    with these ids). Returns how many went on a timeline.

    A status attached may reveal the wamid that later ones were parked under:
    those are looked for again, until nothing more attaches.
    """
    attached = 0
    while True:
        found, learned = _match_parked(message_ids, wamids, older_than)
        attached += found
        if not found:
            return attached
        if message_ids is not None or wamids is not None:
            new = learned - set(wamids or [])
            if not new:
                return attached
            message_ids, wamids = [], sorted(new)


def _match_parked(
    message_ids: list[str] | None,
    wamids: list[str] | None,
    older_than: datetime | None,
) -> tuple[int, set[str]]:
    """One pass over the parked statuses: (how many attached, wamids seen)."""
    parked = StatusEvent.objects.filter(attempt=None)
    if message_ids is not None or wamids is not None:
        if not (message_ids or wamids):
            return 0, set()
        parked = parked.filter(
            Q(gs_id__in=message_ids or []) | Q(wamid__in=wamids or [])
        )
    if older_than is not None:
        parked = parked.filter(received_at__lt=older_than)
    attached, after = 0, 0
    learned: set[str] = set()
    while True:
        rows = list(parked.filter(pk__gt=after).order_by("pk")[:PARKED_BATCH])
        if not rows:
            return attached, learned
        after = rows[-1].pk
        rows.sort(key=lambda row: (row.occurred_at or row.received_at, row.pk))
        items = [_parked_item(row) for row in rows]
        learned |= status_items_apply(items, park=False)
        attached += sum(item.outcome == ItemOutcome.APPLIED for item in items)
        _unpark_callbacks(
            {item.webhook_event_id for item in items if item.webhook_event_id}
        )


def _parked_item(row: StatusEvent) -> StatusItem:
    return StatusItem(
        event=DeliveryEvent(
            kind=EventKind.STATUS,
            type=row.status,
            gs_id=row.gs_id,
            wamid=row.wamid,
            destination=row.destination,
            timestamp=row.occurred_at,
            error_code=row.error_code,
            error_message=row.error_message,
        ),
        app_id=row.partner_app_id,
        webhook_event_id=row.webhook_event_id,
        parked_pk=row.pk,
        received_at=row.received_at,
    )


def _unpark_callbacks(webhook_event_ids: set[int]) -> None:
    """Callbacks none of whose statuses wait any more are processed."""
    if not webhook_event_ids:
        return
    still = StatusEvent.objects.filter(
        webhook_event_id__in=webhook_event_ids, attempt=None
    ).values_list("webhook_event_id", flat=True)
    done = webhook_event_ids - set(still)
    WebhookEvent.objects.filter(pk__in=done, state=WebhookState.PARKED).update(
        state=WebhookState.PROCESSED
    )
