"""The raw-SQL statements every send makes: touch the claim and write the
attempt, then mark the attempt and its recipient submitted."""

# Only table and column names from the models go into the SQL text; every
# value is a parameter.
# ruff: noqa: S608

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.utils import timezone

from campaigns.models import (
    AttemptStatus,
    Campaign,
    CampaignState,
    Recipient,
    RecipientStatus,
    SendAttempt,
)


# The statements every send makes are written in SQL: building them with the
# ORM cost 0.65 ms (the touch's join) and 0.4 ms of CPU per send, against 0.1 ms
# each here; a quarter of a send's cost on two cores (bench/dispatch_rate.py).
# On PostgreSQL each pair runs as one statement (a data-modifying WITH): the
# attempt cost two more statements a send, which took the bench's sends a
# second down by about a tenth.
@dataclass(frozen=True)
class _Statements:
    touch: str
    new_attempt: str
    accepted: str  # the attempt
    latest: str  # its recipient
    # PostgreSQL: each pair above in one statement.
    touch_then_new_attempt: str
    accepted_then_latest: str

    @property
    def one_round_trip(self) -> bool:
        return connection.vendor == "postgresql"


# The columns a new attempt is written with (the others have their defaults).
_MADE = (
    "recipient", "campaign", "partner_app", "number", "status", "claim",
    "message_id", "wamid", "wa_id", "error_code", "error_message", "created_at",
    "updated_at",
)  # fmt: skip


@functools.cache
def _sql() -> _Statements:
    q = connection.ops.quote_name
    c = {f.name: q(f.column) for f in Recipient._meta.concrete_fields}
    a = {f.name: q(f.column) for f in SendAttempt._meta.concrete_fields}
    table, campaigns = q(Recipient._meta.db_table), q(Campaign._meta.db_table)
    attempts = q(SendAttempt._meta.db_table)
    still_claimed = f"{c['id']} = %s AND {c['status']} = %s AND {c['claimed_by']} = %s"
    state = q(Campaign._meta.get_field("state").column)
    running = f"{campaigns} WHERE {q(Campaign._meta.pk.column)} = %s AND {state} = %s"
    touch = (
        f"UPDATE {table} SET {c['claimed_at']} = %s "
        f"WHERE {still_claimed} AND EXISTS (SELECT 1 FROM {running})"
    )
    into = f"INSERT INTO {attempts} ({', '.join(a[name] for name in _MADE)})"
    marks = ", ".join(["%s"] * len(_MADE))
    accepted = (
        f"UPDATE {attempts} SET {a['status']} = %s, {a['message_id']} = %s, "
        f"{a['wa_id']} = %s, {a['exchange']} = %s, {a['submitted_at']} = %s, "
        f"{a['updated_at']} = %s WHERE {a['id']} = %s"
    )
    latest = (
        f"UPDATE {table} SET {c['status']} = %s, {c['latest_attempt']} = %s, "
        f"{c['attempts']} = %s, {c['updated_at']} = %s, "
        f"{c['error_code']} = '', {c['error_message']} = '' WHERE {still_claimed}"
    )
    return _Statements(
        touch=touch,
        new_attempt=f"{into} VALUES ({marks}) RETURNING {a['id']}",
        accepted=accepted,
        latest=latest,
        touch_then_new_attempt=(
            f"WITH touched AS ({touch} RETURNING 1) "
            f"{into} SELECT {marks} FROM touched RETURNING {a['id']}"
        ),
        accepted_then_latest=f"WITH accepted AS ({accepted}) {latest}",
    )


def _execute(sql: str, params: list[Any]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


def _now() -> Any:
    return connection.ops.adapt_datetimefield_value(timezone.now())


def attempt_begin(recipient: Recipient, app_id: int, claim: str) -> SendAttempt | None:
    """Right before the request: touch the claim (still ours, still sending, and
    the campaign still runs; this also keeps recovery away while the request is
    in flight), then write the recipient's next attempt ("sending"). None when
    the claim is no longer ours or the campaign stopped: nothing is written."""
    now = timezone.now()
    at = connection.ops.adapt_datetimefield_value(now)
    still_claimed = [recipient.pk, RecipientStatus.SENDING.value, claim]
    running = [recipient.campaign_id, CampaignState.RUNNING.value]
    touch: list[Any] = [at, *still_claimed, *running]
    number = recipient.attempts + 1
    values: list[Any] = [recipient.pk, recipient.campaign_id, app_id, number]
    values += [AttemptStatus.SENDING.value, claim, "", "", "", "", "", at, at]
    sql = _sql()
    with connection.cursor() as cursor:
        if sql.one_round_trip:
            cursor.execute(sql.touch_then_new_attempt, [*touch, *values])
        else:
            cursor.execute(sql.touch, touch)
            if cursor.rowcount != 1:
                return None
            cursor.execute(sql.new_attempt, values)
        row = cursor.fetchone()
    if row is None:
        return None
    attempt = SendAttempt(
        pk=row[0],
        recipient_id=recipient.pk,
        campaign_id=recipient.campaign_id,
        partner_app_id=app_id,
        number=number,
        status=AttemptStatus.SENDING,
        claim=claim,
        created_at=now,
        updated_at=now,
    )
    attempt._state.adding = False
    return attempt


def submitted(
    recipient: Recipient,
    attempt: SendAttempt,
    claim: str,
    message_id: str,
    wa_id: str,
    exchange_id: int | None,
) -> None:
    """Accepted by Gupshup: the attempt keeps the message id and its exchange,
    and is the recipient's latest."""
    now = _now()
    sql = _sql()
    values = [AttemptStatus.SUBMITTED.value, message_id, wa_id, exchange_id]
    accepted = [*values, now, now, attempt.pk]
    still_claimed = [recipient.pk, RecipientStatus.SENDING.value, claim]
    latest = [
        RecipientStatus.SUBMITTED.value,
        attempt.pk,
        attempt.number,
        now,
        *still_claimed,
    ]
    if sql.one_round_trip:
        _execute(sql.accepted_then_latest, [*accepted, *latest])
    else:
        _execute(sql.accepted, accepted)
        _execute(sql.latest, latest)
    attempt.message_id = message_id
