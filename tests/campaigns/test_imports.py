"""Loading recipients: each CSV or pasted list leaves a record with its counts and
its rejected rows."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth.models import User

from campaigns.models import Campaign, CampaignState, RecipientImport
from campaigns.recipients.loading import (
    pasted_to_csv,
    recipients_import,
    recipients_import_pasted,
)
from gupshup_admin.exceptions import ApplicationError

GOOD_AND_BAD = (
    "phone,name,discount\n"
    "+919876543210,Asha,20%\n"
    "12345,Bob,10%\n"  # not a number
    "+919876543211,Ravi,\n"  # {{2}} empty
    "+919876543210,Asha again,30%\n"  # duplicate
    "+919876543212,Meera,15%\n"
)


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_an_upload_is_recorded_with_its_counts_rejected_rows_and_uploader(
    campaign: Campaign, alice: User
) -> None:
    record = recipients_import(
        campaign=campaign,
        fileobj=io.BytesIO(GOOD_AND_BAD.encode()),
        filename="spring.csv",
        user_id=alice.pk,
    )
    record.refresh_from_db()
    assert (record.accepted, record.rejected, record.duplicates) == (2, 2, 1)
    assert (record.filename, record.phone_column, record.delimiter) == (
        "spring.csv",
        "phone",
        ",",
    )
    assert record.created_by == alice
    rejected = _rows(record.rejected_csv)
    assert rejected[0] == ["line", "reason", "values"]
    assert [row[0] for row in rejected[1:]] == ["3", "4"]
    assert "'12345' is not a valid number" in rejected[1][1]
    assert "{{2}} is empty" in rejected[2][1]
    assert sorted(campaign.recipients.values_list("phone", flat=True)) == [
        "+919876543210",
        "+919876543212",
    ]


def test_a_clean_upload_keeps_no_rejected_csv(campaign: Campaign) -> None:
    record = recipients_import(
        campaign=campaign,
        fileobj=io.BytesIO(b"phone;a;b\n+919876543210;Asha;20%\n"),
        filename="clean.csv",
        user_id=None,
    )
    assert (record.accepted, record.rejected, record.rejected_csv) == (1, 0, "")
    assert record.delimiter == ";"


def test_a_file_without_a_phone_column_is_refused_and_nothing_is_recorded(
    campaign: Campaign,
) -> None:
    with pytest.raises(ApplicationError, match="No phone column found"):
        recipients_import(
            campaign=campaign,
            fileobj=io.BytesIO(b"name,discount\nAsha,20%\n"),
            filename="nophone.csv",
            user_id=None,
        )
    assert not RecipientImport.objects.exists()
    assert not campaign.recipients.exists()


def test_a_running_campaign_refuses_an_import_with_the_services_words(
    campaign: Campaign,
) -> None:
    Campaign.objects.filter(pk=campaign.pk).update(state=CampaignState.RUNNING)
    campaign.refresh_from_db()
    with pytest.raises(ApplicationError, match="only be added to a draft"):
        recipients_import_pasted(
            campaign=campaign, text="+919876543210,Asha,20%", user_id=None
        )
    assert not RecipientImport.objects.exists()


def test_pasted_lines_with_commas_semicolons_and_tabs_become_recipients(
    campaign: Campaign, alice: User
) -> None:
    text = (
        "+919876543210,Asha,20%\n\n+91 98765 43211; Ravi; 10%\n9876543212\tMeera\t15%\n"
    )
    record = recipients_import_pasted(campaign=campaign, text=text, user_id=alice.pk)
    assert (record.filename, record.accepted, record.rejected) == ("pasted list", 3, 0)
    assert dict(campaign.recipients.values_list("phone", "params")) == {
        "+919876543210": ["Asha", "20%"],
        "+919876543211": ["Ravi", "10%"],
        "+919876543212": ["Meera", "15%"],
    }


def test_a_pasted_line_missing_a_value_is_rejected_with_the_reason(
    campaign: Campaign,
) -> None:
    text = "+919876543210,Asha,20%\n+919876543211,Ravi"
    record = recipients_import_pasted(campaign=campaign, text=text, user_id=None)
    assert (record.accepted, record.rejected) == (1, 1)
    assert "{{2}} is empty" in record.rejected_csv
    assert "+919876543211" in record.rejected_csv


def test_a_pasted_header_line_is_not_taken_for_a_recipient() -> None:
    assert pasted_to_csv("phone,name\n+919876543210,Asha\n") == (
        "phone,param1\n+919876543210,Asha\n"
    )


def test_pasted_values_with_quotes_survive_the_csv_round_trip() -> None:
    text = '+919876543210,Say "hi",20%'
    assert _rows(pasted_to_csv(text))[1] == ["+919876543210", 'Say "hi"', "20%"]


@pytest.mark.parametrize("text", ["", "   \n\n  ", "phone\n"])
def test_pasting_nothing_is_refused_with_an_example(
    campaign: Campaign, text: str
) -> None:
    with pytest.raises(ApplicationError, match="one phone number per line"):
        recipients_import_pasted(campaign=campaign, text=text, user_id=None)
    assert not RecipientImport.objects.exists()


def test_numbers_without_a_country_code_are_read_in_the_given_region(
    campaign: Campaign,
) -> None:
    record = recipients_import_pasted(
        campaign=campaign, text="020 7946 0958,Asha,20%", user_id=None, region="GB"
    )
    assert record.accepted == 1
    assert campaign.recipients.get().phone == "+442079460958"
