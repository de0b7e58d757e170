"""Recipients from a CSV upload: keep the good rows, report the rest with reasons.

A phone column plus one column per template param, in order. Numbers are read with
an explicit default region (no silent country guess), stored E.164, de-duplicated;
each row must fill exactly the template's `{{n}}` slots with non-empty values.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

from django.conf import settings
from django.db import connection, transaction

from campaigns.models import Campaign, CampaignState, Recipient
from gupshup_admin.exceptions import ApplicationError
from gupshup_admin.phones import InvalidPhoneNumber, to_e164
from gupshup_admin.spreadsheets import spreadsheet_safe

PHONE_HEADERS = ("phone", "mobile", "number", "msisdn", "destination", "whatsapp", "to")
DELIMITERS = ",;\t|"
BATCH = 5_000


@dataclass
class RejectedRow:
    line: int
    values: list[str]
    reason: str


@dataclass
class ImportReport:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)
    delimiter: str = ","
    phone_column: str = ""

    def summary(self) -> str:
        return (
            f"{self.accepted} accepted, {len(self.rejected)} rejected, "
            f"{self.duplicates} duplicate(s) dropped"
        )

    def rejected_csv(self) -> str:
        """The rejected rows with their reasons, for the marketer to fix and re-load."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["line", "reason", "values"])
        for row in self.rejected:
            # NUL cannot be stored (PostgreSQL text); shown as the replacement mark.
            cells = [row.reason, *(v.replace("\x00", "\ufffd") for v in row.values)]
            writer.writerow([row.line, *(spreadsheet_safe(c) for c in cells)])
        return out.getvalue()


def _text(fileobj: IO[bytes]) -> Iterator[str]:
    # utf-8-sig drops a BOM; a byte that is not UTF-8 is replaced, so that row is
    # reported instead of the whole file failing.
    encoding = _encoding(fileobj)
    text = io.TextIOWrapper(fileobj, encoding=encoding, errors="replace", newline="")
    try:
        yield from text
    finally:
        text.detach()  # the caller owns the file


def _encoding(fileobj: IO[bytes]) -> str:
    """UTF-16 when the file starts with its byte-order mark (what spreadsheets
    save as "Unicode text"), else UTF-8."""
    if not fileobj.seekable():
        return "utf-8-sig"
    start = fileobj.read(2)
    fileobj.seek(0)
    utf16 = start in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    return "utf-16" if utf16 else "utf-8-sig"


def _dialect(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","


def _phone_index(header: list[str]) -> int | None:
    names = [h.strip().lower().lstrip("#") for h in header]
    for wanted in PHONE_HEADERS:
        if wanted in names:
            return names.index(wanted)
    return None


def recipients_import_csv(
    *, campaign: Campaign, fileobj: IO[bytes], region: str | None = None
) -> ImportReport:
    """Add recipients from CSV bytes. Raises ApplicationError for a file that has
    no usable phone column or a campaign that is no longer a draft."""
    if campaign.state not in (CampaignState.DRAFT, CampaignState.SCHEDULED):
        raise ApplicationError(
            f"{campaign} is {campaign.get_state_display().lower()}: recipients can "
            "only be added to a draft or scheduled campaign."
        )
    lines = _text(fileobj)
    head = [line for _, line in zip(range(20), lines, strict=False)]
    report = ImportReport(delimiter=_dialect("".join(head)))
    rows = _readable(csv.reader(_chain(head, lines), delimiter=report.delimiter))
    header = next(rows, None)
    if isinstance(header, csv.Error):
        raise ApplicationError(
            f"The first row could not be read as CSV ({header}). It should name "
            f"the columns, one of them {', '.join(PHONE_HEADERS)}."
        )
    phone_at = _phone_index(header or [])
    if header is None or phone_at is None:
        raise ApplicationError(
            "No phone column found. The first row must name the columns, one of "
            f"them {', '.join(PHONE_HEADERS)} "
            f"(found: {', '.join(header or []) or 'nothing'}); the file looked "
            f"{_delimiter_name(report.delimiter)}-separated."
        )
    report.phone_column = header[phone_at].strip()
    _load(campaign, rows, phone_at, report, region or settings.PHONE_DEFAULT_REGION)
    return report


def _readable(reader: Iterator[list[str]]) -> Iterator[list[str] | csv.Error]:
    """The reader's rows; a row it cannot read (a value longer than the csv
    module's field limit, 128 KiB) comes as its error, and reading goes on at
    the next line: one bad line is that row's problem, not the file's."""
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield exc


def _chain(head: list[str], rest: Iterator[str]) -> Iterator[str]:
    yield from head
    yield from rest


def _delimiter_name(delimiter: str) -> str:
    return {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe"}[delimiter]


def _load(
    campaign: Campaign,
    rows: Iterator[list[str] | csv.Error],
    phone_at: int,
    report: ImportReport,
    region: str,
) -> None:
    slots = campaign.slot_count
    seen = set(campaign.recipients.values_list("phone", flat=True))
    batch: list[Recipient] = []
    with transaction.atomic():
        for line, values in enumerate(rows, start=2):
            if isinstance(values, csv.Error):
                reason = f"The row could not be read as CSV ({values})."
                report.rejected.append(RejectedRow(line, [], reason))
                continue
            if not any(v.strip() for v in values):
                continue  # blank lines are not recipients
            recipient = _recipient(campaign, values, phone_at, slots, region, line)
            if isinstance(recipient, str):
                report.rejected.append(RejectedRow(line, values, recipient))
            elif recipient.phone in seen:
                report.duplicates += 1
            else:
                seen.add(recipient.phone)
                batch.append(recipient)
                if len(batch) >= BATCH:
                    report.accepted += _insert(campaign, batch)
                    batch = []
        report.accepted += _insert(campaign, batch)


def _insert(campaign: Campaign, batch: list[Recipient]) -> int:
    """Insert rows with one executemany: only phone, params and line vary, so the
    other columns are prepared once instead of per row (bulk_create spent most of
    a 100,000-row import preparing identical defaults)."""
    if not batch:
        return 0
    fields = [f for f in Recipient._meta.concrete_fields if not f.primary_key]
    varying = {"phone", "params", "source_line"}
    constant = {
        f.attname: f.get_db_prep_save(f.pre_save(batch[0], add=True), connection)
        for f in fields
        if f.name not in varying
    }
    params = Recipient._meta.get_field("params")
    rows = []
    for recipient in batch:
        values = {
            **constant,
            "phone": recipient.phone,
            "params": params.get_db_prep_save(recipient.params, connection),
            "source_line": recipient.source_line,
        }
        rows.append([values[f.attname] for f in fields])
    quote = connection.ops.quote_name
    # Only quoted model identifiers are formatted in; every value is a parameter.
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608
        quote(Recipient._meta.db_table),
        ", ".join(quote(f.column) for f in fields),
        ", ".join(["%s"] * len(fields)),
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
    return len(batch)


def _recipient(
    campaign: Campaign,
    values: list[str],
    phone_at: int,
    slots: int,
    region: str,
    line: int,
) -> Recipient | str:
    """A Recipient, or the reason the row is refused."""
    if phone_at >= len(values):
        return "The phone column is missing on this row."
    if any("\ufffd" in v for v in values):
        return "The row has bytes that are not UTF-8; save the file as UTF-8 CSV."
    if any("\x00" in v for v in values):
        # PostgreSQL cannot store a NUL character in text: it is not a value.
        return "The row has a NUL byte; save the file as UTF-8 CSV."
    try:
        phone = to_e164(values[phone_at], region=region)
    except InvalidPhoneNumber as exc:
        return str(exc)
    params = [v.strip() for i, v in enumerate(values) if i != phone_at][:slots]
    if len(params) < slots or not all(params):
        missing = [
            f"{{{{{n}}}}}"
            for n in range(1, slots + 1)
            if n > len(params) or not params[n - 1]
        ]
        return (
            f"The template needs {slots} value(s) after the phone number; "
            f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} empty."
        )
    return Recipient(campaign=campaign, phone=phone, params=params, source_line=line)
