"""The statements a batch of sends makes, a few per batch rather than per send:
claim the recipients, write their attempts before the requests leave, and mark
the accepted ones submitted once their answers are in."""

# Only table and column names from the models go into the SQL text; every
# value is a parameter.
# ruff: noqa: S608

from __future__ import annotations

import functools
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from campaigns.dispatch.outcomes import requeue
from campaigns.models import (
    AttemptStatus,
    Campaign,
    CampaignState,
    Recipient,
    RecipientStatus,
    SendAttempt,
)
from gupshup_admin.bulk_sql import insert_rows, update_rows


@functools.cache
def _claim_sql(vendor: str) -> str:
    """One statement: up to N due pending rows of a running campaign become
    "sending" under a claim; rows another sender has locked are skipped."""
    q = connection.ops.quote_name
    c = {f.name: q(f.column) for f in Recipient._meta.concrete_fields}
    table, campaigns = q(Recipient._meta.db_table), q(Campaign._meta.db_table)
    state = q(Campaign._meta.get_field("state").column)
    due = f"({c['next_attempt_at']} IS NULL OR {c['next_attempt_at']} <= %s)"
    # PostgreSQL may run an `IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED)` again
    # for every row it updates (a nested-loop semi join, when the statistics
    # make it cheapest): each run skips the rows this statement just locked
    # and returns others, so a claim of 1 took all 12 pending rows
    # (tests/campaigns/test_claim.py). `= ANY(ARRAY(…))` is an InitPlan: the
    # subquery runs once. The (campaign, status, id) index gives the pending
    # rows in id order, so the scan stops after n; with (campaign, status) the
    # database walked the primary key past every row already sent.
    ids, close = (
        (f"{c['id']} = ANY(ARRAY(", " FOR UPDATE SKIP LOCKED))")
        if vendor == "postgresql"
        else (f"{c['id']} IN (", ")")
    )
    return (
        f"UPDATE {table} SET {c['status']} = %s, {c['claimed_at']} = %s, "
        f"{c['claimed_by']} = %s WHERE {ids}"
        f"SELECT {c['id']} FROM {table} WHERE {c['campaign']} = %s "
        f"AND {c['status']} = %s AND {due} ORDER BY {c['id']} LIMIT %s{close} "
        f"AND {c['status']} = %s AND EXISTS (SELECT 1 FROM {campaigns} "
        f"WHERE {q(Campaign._meta.pk.column)} = %s AND {state} = %s) "
        f"RETURNING {', '.join(c[name] for name in _CLAIMED)}"
    )


# What a sender needs of a claimed row, returned by the claim itself.
_CLAIMED = ("id", "campaign", "phone", "params", "attempts", "retries")


def recipients_claim(campaign_id: int, count: int, claim: str) -> list[Recipient]:
    """Claim up to `count` due pending recipients of a running campaign (none
    once it stopped): every row changes once, whatever other senders do."""
    now = timezone.now()
    at = connection.ops.adapt_datetimefield_value(now)
    pending, sending = RecipientStatus.PENDING.value, RecipientStatus.SENDING.value
    params = [sending, at, claim, campaign_id, pending, at, count, pending]
    params += [campaign_id, CampaignState.RUNNING.value]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_claim_sql(connection.vendor), params)
        rows = cursor.fetchall()
    claimed = []
    for pk, campaign, phone, values, attempts, retries in sorted(rows):
        recipient = Recipient(
            pk=pk,
            campaign_id=campaign,
            phone=phone,
            params=json.loads(values) if isinstance(values, str) else values,
            attempts=attempts,
            retries=retries,
            status=RecipientStatus.SENDING,
            claimed_at=now,
            claimed_by=claim,
        )
        recipient._state.adding = False
        claimed.append(recipient)
    return claimed


def attempts_begin(
    recipients: list[Recipient], *, app_id: int, claim: str
) -> list[SendAttempt]:
    """Each claimed recipient's next attempt ("sending"), written in one
    statement before any of their requests leaves."""
    now = timezone.now()
    rows = [
        {
            "recipient_id": recipient.pk,
            "campaign_id": recipient.campaign_id,
            "partner_app_id": app_id,
            "number": recipient.attempts + 1,
            "status": AttemptStatus.SENDING.value,
            "claim": claim,
            "created_at": now,
            "updated_at": now,
        }
        for recipient in recipients
    ]
    made = []
    for pk, row in zip(insert_rows(SendAttempt, rows), rows, strict=True):
        attempt = SendAttempt(pk=pk, **row)
        attempt._state.adding = False
        made.append(attempt)
    return made


def attempts_release(
    pairs: Iterable[tuple[Recipient, SendAttempt]], *, campaign_id: int
) -> int:
    """Give back claimed rows whose requests never left: their attempts go
    (nothing was sent) and the rows are pending again."""
    pairs = list(pairs)
    if not pairs:
        return 0
    with transaction.atomic():
        SendAttempt.objects.filter(
            pk__in=[attempt.pk for _, attempt in pairs], status=AttemptStatus.SENDING
        ).delete()
        return recipients_release([recipient for recipient, _ in pairs], campaign_id)


def recipients_release(recipients: list[Recipient], campaign_id: int) -> int:
    """Give back claimed rows that were never sent (settled ones are not ours)."""
    by_claim: dict[str, list[int]] = defaultdict(list)
    for recipient in recipients:
        by_claim[recipient.claimed_by].append(recipient.pk)
    released = 0
    for claim, ids in by_claim.items():
        rows = Recipient.objects.filter(
            pk__in=ids, status=RecipientStatus.SENDING, claimed_by=claim
        )
        released += requeue(rows, campaign_id=campaign_id)
    return released


@dataclass(frozen=True)
class Accepted:
    """An attempt Gupshup accepted, with what its answer said."""

    recipient: Recipient
    attempt: SendAttempt
    message_id: str
    wa_id: str
    exchange_id: int | None


def attempts_submitted(accepted: list[Accepted]) -> None:
    """Accepted by Gupshup: each attempt keeps its message id and exchange and
    becomes its recipient's latest (a row some other path settled meanwhile is
    left alone). One statement for the attempts, one for their rows."""
    if not accepted:
        return
    now = timezone.now()
    update_rows(
        SendAttempt,
        ["message_id", "wa_id", "exchange"],
        [(a.attempt.pk, a.message_id, a.wa_id, a.exchange_id) for a in accepted],
        same={
            "status": AttemptStatus.SUBMITTED.value,
            "submitted_at": now,
            "updated_at": now,
        },
    )
    update_rows(
        Recipient,
        ["latest_attempt", "attempts"],
        [
            (a.recipient.pk, a.attempt.pk, a.attempt.number, a.recipient.claimed_by)
            for a in accepted
        ],
        same={
            "status": RecipientStatus.SUBMITTED.value,
            "error_code": "",
            "error_message": "",
            "updated_at": now,
        },
        where={"status": RecipientStatus.SENDING.value},
        match=["claimed_by"],
    )
    for item in accepted:
        attempt = item.attempt
        attempt.status = AttemptStatus.SUBMITTED
        attempt.message_id, attempt.wa_id = item.message_id, item.wa_id
        attempt.exchange_id = item.exchange_id
        attempt.submitted_at = attempt.updated_at = now
