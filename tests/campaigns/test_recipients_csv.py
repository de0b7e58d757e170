"""Recipients from CSV: good rows kept, bad rows reported with reasons."""

from __future__ import annotations

import csv
import io

import pytest

from campaigns.models import Campaign, CampaignState, Recipient
from campaigns.recipients.csv_rows import recipients_import_csv
from gupshup_admin.exceptions import ApplicationError


def load(campaign: Campaign, text: str | bytes, **kwargs):
    data = text.encode() if isinstance(text, str) else text
    return recipients_import_csv(campaign=campaign, fileobj=io.BytesIO(data), **kwargs)


def test_good_rows_are_stored_in_e164_with_their_params_frozen(
    campaign: Campaign,
) -> None:
    report = load(
        campaign, "phone,name,discount\n+919876543210,Asha,20%\n9876543211,Ravi,10%\n"
    )
    assert report.accepted == 2
    rows = list(
        Recipient.objects.order_by("source_line").values_list("phone", "params")
    )
    assert rows == [
        ("+919876543210", ["Asha", "20%"]),
        ("+919876543211", ["Ravi", "10%"]),
    ]


def test_a_bom_and_semicolons_are_understood(campaign: Campaign) -> None:
    data = "\ufeffMobile;name;discount\r\n+919876543210;Asha;20%\r\n".encode()
    report = load(campaign, data)
    assert (report.accepted, report.delimiter, report.phone_column) == (
        1,
        ";",
        "Mobile",
    )


def test_bad_numbers_and_missing_params_are_reported_and_the_rest_kept(
    campaign: Campaign,
) -> None:
    report = load(
        campaign,
        "phone,name,discount\n12345,Asha,20%\n+919876543210,,5%\n+919876543211,Ravi\n"
        "+919876543212,Mira,15%\n",
    )
    assert report.accepted == 1
    reasons = {row.line: row.reason for row in report.rejected}
    assert "not a valid number" in reasons[2]
    assert "{{1}} is empty" in reasons[3]
    assert "{{2}} is empty" in reasons[4]
    assert "line,reason,values" in report.rejected_csv()
    assert "12345" in report.rejected_csv()


def test_duplicates_in_the_file_and_against_earlier_imports_are_dropped(
    campaign: Campaign,
) -> None:
    load(campaign, "phone,a,b\n+919876543210,x,y\n")
    report = load(
        campaign, "phone,a,b\n+919876543210,x,y\n919876543210,x,y\n+919876543213,x,y\n"
    )
    assert (report.accepted, report.duplicates) == (1, 2)
    assert Recipient.objects.count() == 2


def test_a_file_without_a_phone_column_says_which_columns_it_found(
    campaign: Campaign,
) -> None:
    with pytest.raises(
        ApplicationError, match=r"No phone column found.*found: name, city"
    ):
        load(campaign, "name,city\nAsha,Pune\n")
    assert Recipient.objects.count() == 0


def test_numbers_without_a_country_code_use_the_explicit_region(
    campaign: Campaign,
) -> None:
    report = load(campaign, "phone,a,b\n(415) 555-2671,x,y\n", region="US")
    assert report.accepted == 1
    assert Recipient.objects.get().phone == "+14155552671"


def test_bytes_that_are_not_utf8_reject_only_their_row(campaign: Campaign) -> None:
    report = load(campaign, b"phone,a,b\n+919876543210,Jos\xe9,y\n+919876543211,x,y\n")
    assert report.accepted == 1
    assert "not UTF-8" in report.rejected[0].reason


def test_a_running_campaign_takes_no_new_recipients(campaign: Campaign) -> None:
    campaign.state = CampaignState.RUNNING
    campaign.save()
    with pytest.raises(ApplicationError, match="only be added to a draft"):
        load(campaign, "phone,a,b\n+919876543210,x,y\n")


def test_a_line_too_long_to_read_is_one_rejected_row_and_the_rest_load(
    campaign: Campaign,
) -> None:
    huge = "x" * 200_000  # over the csv module's 128 KiB field limit
    report = load(
        campaign, f"phone,name,discount\n+919876543210,{huge},1%\n+919876543211,R,2%\n"
    )
    assert report.accepted == 1
    [row] = report.rejected
    assert (row.line, row.values) == (2, [])
    assert "could not be read as CSV (field larger than field limit" in row.reason


def test_a_utf16_file_as_spreadsheets_save_unicode_text_is_read(
    campaign: Campaign,
) -> None:
    text = "phone\tname\tdiscount\r\n+919876543210\tJosé\t20%\r\n"
    report = load(campaign, text.encode("utf-16"))
    assert (report.accepted, report.delimiter) == (1, "\t")
    assert Recipient.objects.get().params == ["José", "20%"]


def test_rejected_cells_that_look_like_formulas_cannot_run_in_a_spreadsheet(
    campaign: Campaign,
) -> None:
    report = load(campaign, "phone,name,discount\n=cmd|' /C calc'!A0,@SUM(1),-2+3\n")
    row = next(csv.reader(io.StringIO(report.rejected_csv().splitlines()[1])))
    assert row[2:] == ["'=cmd|' /C calc'!A0", "'@SUM(1)", "'-2+3"]
    assert row[1].startswith('"=cmd') and "is not a phone number" in row[1]


def test_a_nul_byte_rejects_its_row_and_stays_out_of_the_stored_report(
    campaign: Campaign,
) -> None:
    report = load(campaign, b"phone,name,discount\n+919876543210,A\x00,1%\n\x00,,\n")
    assert report.accepted == 0
    assert {row.reason for row in report.rejected} == {
        "The row has a NUL byte; save the file as UTF-8 CSV."
    }
    assert "\x00" not in report.rejected_csv()
