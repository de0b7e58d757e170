"""A campaign's recipients for reviewers (selectors): filtered by status, error
code and a search, and exported as CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator

from django.db.models import Q, QuerySet

from campaigns.models import Campaign, Recipient, RecipientStatus, SendAttempt
from gupshup_admin.spreadsheets import spreadsheet_safe

# The export's columns, and the fields they come from, in order.
# The ids and the submission time are those of the latest attempt.
EXPORT = [
    ("phone", "phone"), ("status", "status"),
    ("message_id", "latest_attempt__message_id"),
    ("wamid", "latest_attempt__wamid"), ("wa_id", "latest_attempt__wa_id"),
    ("error_code", "error_code"), ("error_message", "error_message"),
    ("submitted_at", "latest_attempt__submitted_at"),
    ("last_update", "updated_at"), ("attempts", "attempts"), ("params", "params"),
]  # fmt: skip
EXPORT_COLUMNS = [column for column, _ in EXPORT]


def recipients_filtered(
    *, campaign: Campaign, status: str = "", query: str = "", code: str | None = None
) -> QuerySet[Recipient]:
    """A campaign's recipients by status, error code and a search: part of a
    number (with or without +, spaces, dashes) or a whole message id or wamid of
    any of its attempts."""
    rows = Recipient.objects.filter(campaign=campaign)
    if status in RecipientStatus.values:
        rows = rows.filter(status=status)
    if code is not None:
        rows = rows.filter(error_code=code)
    return rows.filter(recipient_search(query)) if query.strip() else rows


def recipient_search(query: str) -> Q:
    """The search condition: ids match whole (they are indexed); numbers match
    any part, with LIKE (PostgreSQL answers it from a trigram index)."""
    query = query.strip()
    digits = "".join(ch for ch in query if ch not in " -().")
    if digits and digits.lstrip("+").isdigit():
        return Q(phone__contains=digits)
    # Any attempt's ids find the recipient, not only the latest's.
    attempts = SendAttempt.objects.filter(Q(message_id=query) | Q(wamid=query))
    return Q(pk__in=attempts.values("recipient_id"))


def recipients_csv_lines(*, recipients: QuerySet[Recipient]) -> Iterator[str]:
    """The recipients as CSV text, a header then one line per row, read from
    the database in chunks (a million rows never sit in memory)."""
    yield "\ufeff" + _csv_line(EXPORT_COLUMNS)  # the BOM: spreadsheets read UTF-8
    fields = [name for _, name in EXPORT]
    rows = recipients.order_by("pk").values_list(*fields)
    for row in rows.iterator(chunk_size=2000):
        *head, submitted, updated, attempts, params = row
        yield _csv_line(
            [
                *(_cell(value or "") for value in head),
                submitted.isoformat() if submitted else "",
                updated.isoformat() if updated else "",
                str(attempts),
                _cell(json.dumps(params, ensure_ascii=False) if params else ""),
            ]
        )


def _cell(value: str) -> str:
    return spreadsheet_safe(value)  # phones are E.164: a leading + stays


def _csv_line(cells: Iterable[str]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(cells)
    return out.getvalue()
