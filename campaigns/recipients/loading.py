"""Loading recipients into a campaign and keeping a record of each load.

A CSV upload and a pasted list go through the same CSV import, so the rules
(numbers, slots, duplicates) and the rejected-rows report are the same for both.
"""

from __future__ import annotations

import csv
import io
import re
from typing import IO

from django.db import transaction

from audit.models import AuditAction
from audit.services import audit_record
from campaigns.lifecycle.approvals import campaign_approval_void
from campaigns.models import Campaign, RecipientImport
from campaigns.recipients.csv_rows import PHONE_HEADERS, recipients_import_csv
from gupshup_admin.exceptions import ApplicationError

PASTED_NAME = "pasted list"
_SEPARATORS = re.compile(r"[,;\t]")


def recipients_import(
    *,
    campaign: Campaign,
    fileobj: IO[bytes],
    filename: str,
    user_id: int | None,
    region: str | None = None,
) -> RecipientImport:
    """Import a CSV into the campaign and record the outcome.

    The recipients, the record and its audit line are saved together, under the
    campaign's row lock (a start waits for it). Recipients added to an approved
    campaign void its approval. Raises ApplicationError (nothing saved) for a
    file without a phone column or a campaign that no longer takes recipients.
    """
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        report = recipients_import_csv(
            campaign=campaign, fileobj=fileobj, region=region or None
        )
        record = RecipientImport.objects.create(
            campaign=campaign,
            filename=(filename or "upload.csv")[:255],
            accepted=report.accepted,
            duplicates=report.duplicates,
            rejected=len(report.rejected),
            rejected_csv=report.rejected_csv() if report.rejected else "",
            delimiter=report.delimiter,
            phone_column=report.phone_column,
            created_by_id=user_id,
        )
        _audit_import(campaign, record, user_id)
    return record


def _audit_import(
    campaign: Campaign, record: RecipientImport, user_id: int | None
) -> None:
    audit_record(
        actor_id=user_id,
        action=AuditAction.RECIPIENTS_IMPORTED,
        target=campaign,
        summary=f"Loaded {record.filename}: {record.accepted} accepted, "
        f"{record.rejected} rejected, {record.duplicates} duplicate(s).",
        details={"import": record.pk, "accepted": record.accepted},
    )
    if record.accepted:
        campaign_approval_void(
            campaign=campaign,
            user_id=user_id,
            reason=f"{record.accepted} recipient(s) were loaded after the approval",
        )


def recipients_import_pasted(
    *,
    campaign: Campaign,
    text: str,
    user_id: int | None,
    region: str | None = None,
) -> RecipientImport:
    """Import pasted lines: `phone` or `phone,param1,param2`, one per line.

    Values may be separated by commas, semicolons or tabs. Raises
    ApplicationError when nothing was pasted, or as `recipients_import` does.
    """
    data = pasted_to_csv(text)
    return recipients_import(
        campaign=campaign,
        fileobj=io.BytesIO(data.encode("utf-8")),
        filename=PASTED_NAME,
        user_id=user_id,
        region=region,
    )


def pasted_to_csv(text: str) -> str:
    """The pasted lines as a CSV with a `phone,param1,…` header.

    Blank lines are kept as empty rows (the import skips them), so the line
    numbers in the rejected-rows report count from the header. A first line
    that names the phone column is taken as the pasted list's own header.
    """
    rows = [
        [value.strip() for value in _SEPARATORS.split(line)]
        for line in text.strip().splitlines()
    ]
    if rows and rows[0] and rows[0][0].lower().lstrip("#") in PHONE_HEADERS:
        rows = rows[1:]
    if not any(any(row) for row in rows):
        raise ApplicationError(
            "Nothing was pasted: write one phone number per line, optionally "
            "followed by the template's values, e.g. +919876543210,Asha,20%."
        )
    width = max(len(row) for row in rows)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["phone", *(f"param{n}" for n in range(1, width))])
    writer.writerows(row if any(row) else [] for row in rows)
    return out.getvalue()
