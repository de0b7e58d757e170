"""The marketer pages under /campaigns/, as a staff member uses them.

Tests run inside a transaction, so senders enqueued at commit never run here: the
pages and the services are tested, not the sending (see test_dispatch.py).
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditAction, AuditEvent
from campaigns.models import (
    Campaign,
    CampaignKind,
    CampaignState,
    Recipient,
    RecipientImport,
    RecipientStatus,
    SendAttempt,
    SenderSlot,
)
from gupshup_admin.models import ApiExchange, PartnerApp, Template
from tests.factories import (
    attempt_sent,
    phones,
    ready_media,
    sim_app,
    sim_campaign,
    sim_template,
)


@pytest.fixture
def client(client: Client, alice: User) -> Client:
    client.force_login(alice)
    return client


def url(name: str, campaign: Campaign, **query: str) -> str:
    path = reverse(f"campaigns:{name}", args=[campaign.pk])
    return path + (
        "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
    )


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def set_state(campaign: Campaign, state: str) -> Campaign:
    Campaign.objects.filter(pk=campaign.pk).update(state=state)
    campaign.refresh_from_db()
    return campaign


def fail(campaign: Campaign, code: str, count: int, message: str = "") -> None:
    rows = campaign.recipients.filter(status=RecipientStatus.PENDING)[:count]
    Recipient.objects.filter(pk__in=[r.pk for r in rows]).update(
        status=RecipientStatus.FAILED,
        error_code=code,
        error_message=message or f"error {code}",
    )


# --- the list --------------------------------------------------------------------


def test_the_list_shows_each_campaign_with_app_kind_state_and_progress(
    client: Client,
) -> None:
    campaign = sim_campaign(phones=phones(4))
    Recipient.objects.filter(pk__in=campaign.recipients.values("pk")[:1]).update(
        status=RecipientStatus.SUBMITTED
    )
    response = client.get(reverse("campaigns:list"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Spring sale" in html and "Demo shop" in html and "Template image" in html
    assert '<span class="badge b-draft">Draft</span>' in html
    assert "25%" in html  # 1 of 4 settled
    assert reverse("campaigns:create") in html


def test_the_list_filters_by_state_and_searches_by_name(client: Client) -> None:
    app = sim_app()
    sim_campaign(phones=[], app=app, name="Spring sale")
    summer = sim_campaign(phones=[], app=app, name="Summer preview")
    set_state(summer, CampaignState.PAUSED)

    paused = client.get(reverse("campaigns:list"), {"state": "paused"})
    assert [c.name for c in paused.context["page"]] == ["Summer preview"]
    found = client.get(reverse("campaigns:list"), {"q": "spring"})
    assert [c.name for c in found.context["page"]] == ["Spring sale"]


# --- the new campaign form -----------------------------------------------------


def form_data(
    app: PartnerApp, chosen: Template | None, **overrides: Any
) -> dict[str, Any]:
    data = {
        "name": "Diwali",
        "partner_app": str(app.pk),
        "kind": CampaignKind.TEMPLATE,
        "template": str(chosen.pk) if chosen else "",
        "media_file": str(ready_media(app).pk),
        "caption": "",
        "scheduled_at": "",
    }
    data.update(overrides)
    return data


def test_a_new_campaign_is_saved_with_its_creator_and_opens_its_page(
    client: Client, alice: User
) -> None:
    app = sim_app()
    template = sim_template(app)
    response = client.post(reverse("campaigns:create"), form_data(app, template))
    campaign = Campaign.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("detail", campaign) + "#recipients"
    assert (campaign.name, campaign.template, campaign.created_by) == (
        "Diwali",
        template,
        alice,
    )
    assert campaign.state == CampaignState.DRAFT


def test_a_template_of_another_app_is_refused_on_the_template_field(
    client: Client,
) -> None:
    app = sim_app()
    other = PartnerApp.objects.create(
        name="Other shop",
        app_id="0d3e5f6a-1b2c-4d5e-8f90-a1b2c3d4e5f6",
        app_name="othershop",
        source_number="+919643874845",
    )
    foreign = Template.objects.create(
        app=other,
        gupshup_id="other-template",
        element_name="other_sale",
        status="APPROVED",
        header_type="IMAGE",
        slot_count=1,
    )
    response = client.post(reverse("campaigns:create"), form_data(app, foreign))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["template"] == [
        "other_sale () belongs to Other shop, not to Demo shop: choose one of "
        "Demo shop's templates."
    ]
    assert not Campaign.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"template": ""}, "template", "Choose an approved image template."),
        ({"scheduled_at": "2001-01-01T10:00"}, "scheduled_at", "already passed"),
        ({"name": ""}, "name", "This field is required."),
    ],
)
def test_an_incomplete_form_names_the_field_and_what_is_wrong(
    client: Client, overrides: dict[str, str], field: str, words: str
) -> None:
    app = sim_app()
    data = form_data(app, sim_template(app), **overrides)
    response = client.post(reverse("campaigns:create"), data)
    assert response.status_code == 200
    assert words in " ".join(response.context["form"].errors[field])
    assert "Please correct the error" in response.content.decode()
    assert not Campaign.objects.exists()


def test_a_direct_campaign_keeps_its_caption_and_needs_no_template(
    client: Client,
) -> None:
    app = sim_app()
    data = form_data(
        app, sim_template(app), kind=CampaignKind.DIRECT, caption="Spring is here"
    )
    client.post(reverse("campaigns:create"), data)
    campaign = Campaign.objects.get()
    assert (campaign.kind, campaign.template, campaign.caption) == (
        CampaignKind.DIRECT,
        None,
        "Spring is here",
    )


def test_a_direct_campaign_on_an_app_that_is_not_capi_is_refused(
    client: Client,
) -> None:
    app = sim_app()
    PartnerApp.objects.filter(pk=app.pk).update(is_capi=False)
    data = form_data(app, None, kind=CampaignKind.DIRECT)
    response = client.post(reverse("campaigns:create"), data)
    assert "not a Cloud API (CAPI) app" in response.context["form"].errors["kind"][0]


def test_the_form_offers_only_approved_image_templates_and_marks_ready_images(
    client: Client,
) -> None:
    app = sim_app()
    approved = sim_template(app)
    for name, status, header in [
        ("summer_preview_image", "PENDING", "IMAGE"),
        ("order_update_text", "APPROVED", "TEXT"),
    ]:
        Template.objects.create(
            app=app, gupshup_id=name, element_name=name, status=status,
            header_type=header,
        )  # fmt: skip
    form_data(app, approved)  # makes a ready image
    response = client.get(reverse("campaigns:create"))
    html = response.content.decode()
    assert list(response.context["form"].fields["template"].queryset) == [approved]
    assert f'data-app="{app.pk}"' in html
    assert f'data-ready-apps="{app.pk}"' in html
    assert "media id ready for: Demo shop" in html


# --- loading recipients --------------------------------------------------------

CSV_WITH_A_BAD_ROW = (
    b"phone,name,discount\n"
    b"+919876543210,Asha,20%\n"
    b"+919876543211,Ravi,10%\n"
    b"+919876543210,Asha,20%\n"
    b"not-a-number,Bob,5%\n"
)


def upload(client: Client, campaign: Campaign, data: bytes, **extra: str) -> Any:
    file = SimpleUploadedFile("spring.csv", data, content_type="text/csv")
    return client.post(url("upload", campaign), {"file": file, **extra}, follow=True)


def test_a_csv_upload_keeps_the_good_rows_and_shows_the_counts(
    client: Client, campaign: Campaign
) -> None:
    response = upload(client, campaign, CSV_WITH_A_BAD_ROW)
    assert response.redirect_chain == [(url("detail", campaign) + "#recipients", 302)]
    assert messages_of(response) == [
        "Loaded spring.csv: 2 accepted, 1 rejected, 1 duplicate(s) dropped."
    ]
    html = response.content.decode()
    assert '<span class="n ok-text" data-count="accepted">2</span>' in html
    assert '<span class="n bad-text" data-count="rejected">1</span>' in html
    assert '<span class="n" data-count="duplicates">1</span>' in html
    record = RecipientImport.objects.get()
    assert reverse("campaigns:rejected_csv", args=[campaign.pk, record.pk]) in html
    assert campaign.recipients.count() == 2


def test_an_upload_spooled_to_a_temporary_file_is_read_the_same(
    client: Client, campaign: Campaign, settings: Any
) -> None:
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 10  # every upload goes to disk
    response = upload(client, campaign, CSV_WITH_A_BAD_ROW)
    assert messages_of(response) == [
        "Loaded spring.csv: 2 accepted, 1 rejected, 1 duplicate(s) dropped."
    ]


def test_the_rejected_rows_download_as_csv_with_their_reasons(
    client: Client, campaign: Campaign
) -> None:
    upload(client, campaign, CSV_WITH_A_BAD_ROW)
    record = RecipientImport.objects.get()
    response = client.get(
        reverse("campaigns:rejected_csv", args=[campaign.pk, record.pk])
    )
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["line", "reason", "values"]
    assert rows[1][0] == "5"
    assert "'not-a-number' is not a phone number" in rows[1][1]
    assert rows[1][2:] == ["not-a-number", "Bob", "5%"]


def test_a_rejected_csv_of_another_campaign_is_not_found(
    client: Client, campaign: Campaign
) -> None:
    upload(client, campaign, CSV_WITH_A_BAD_ROW)
    record = RecipientImport.objects.get()
    other = sim_campaign(phones=[])
    path = reverse("campaigns:rejected_csv", args=[other.pk, record.pk])
    assert client.get(path).status_code == 404


def test_a_file_without_a_phone_column_is_refused_with_the_reason(
    client: Client, campaign: Campaign
) -> None:
    response = upload(client, campaign, b"name,discount\nAsha,20%\n")
    assert "No phone column found" in messages_of(response)[0]
    assert "found: name, discount" in messages_of(response)[0]
    assert not RecipientImport.objects.exists()


def test_an_upload_without_a_file_or_with_a_bad_region_says_so(
    client: Client, campaign: Campaign
) -> None:
    response = client.post(url("upload", campaign), {}, follow=True)
    assert messages_of(response) == ["CSV file: This field is required."]
    response = upload(client, campaign, CSV_WITH_A_BAD_ROW, region="XX")
    assert "'XX' is not a country code" in messages_of(response)[0]
    assert not RecipientImport.objects.exists()


def test_pasted_numbers_are_added_and_reported_like_an_upload(
    client: Client, campaign: Campaign
) -> None:
    text = "+919876543210,Asha,20%\n9876543211;Ravi;10%\n12345,Bob,5%"
    response = client.post(
        url("paste", campaign), {"numbers": text, "region": "in"}, follow=True
    )
    assert messages_of(response) == [
        "Loaded pasted list: 2 accepted, 1 rejected, 0 duplicate(s) dropped."
    ]
    assert sorted(campaign.recipients.values_list("phone", flat=True)) == [
        "+919876543210",
        "+919876543211",
    ]


def test_the_page_explains_the_columns_from_the_templates_slots(
    client: Client, campaign: Campaign
) -> None:
    html = client.get(url("detail", campaign)).content.decode()
    assert (
        "Columns: <code>phone</code>, then <code>{{1}}</code>, <code>{{2}}</code>"
        in html
    )


def test_a_running_campaign_offers_no_upload_and_refuses_one(
    client: Client, campaign: Campaign
) -> None:
    set_state(campaign, CampaignState.RUNNING)
    assert (
        'id="upload-form"' not in client.get(url("detail", campaign)).content.decode()
    )
    response = upload(client, campaign, CSV_WITH_A_BAD_ROW)
    assert (
        "can only be added to a draft or scheduled campaign"
        in (messages_of(response)[0])
    )


# --- start, pause, resume, cancel -------------------------------------------------


def test_start_is_refused_with_every_failed_preflight_reason_shown(
    client: Client, campaign: Campaign
) -> None:
    page = client.get(url("detail", campaign)).content.decode()
    assert 'class="check-failed" data-check="recipients"' in page
    response = client.post(url("start", campaign), follow=True)
    [message] = messages_of(response)
    assert message.startswith("The campaign cannot start:")
    assert "No recipients are waiting: load a CSV first." in message
    assert "Spring shop is not checked: run 'Check health' on the app first." in message
    assert "The image has no media id for Spring shop" in message
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.DRAFT


def test_a_ready_campaign_starts_and_its_senders_are_queued(
    client: Client, alice: User, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.CAMPAIGN_SENDERS = 2
    # 100 a second: both slots serve the app (a 10/s app has one).
    campaign = sim_campaign(phones=phones(3), app=sim_app(rate_per_minute=6000))
    page = client.get(url("detail", campaign)).content.decode()
    assert 'data-action="start">Start</button>' in page
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(url("start", campaign), follow=True)
    assert messages_of(response) == ["Spring sale started."]
    campaign.refresh_from_db()
    assert (campaign.state, campaign.started_by) == (CampaignState.RUNNING, alice)
    assert SenderSlot.objects.count() == 2
    assert len(queued) == 2
    assert 'data-poll="2000"' in response.content.decode()


def test_a_future_schedule_turns_start_into_schedule(client: Client) -> None:
    campaign = sim_campaign(phones=phones(2))
    when = timezone.now() + timedelta(hours=2)
    Campaign.objects.filter(pk=campaign.pk).update(scheduled_at=when)
    page = client.get(url("detail", campaign)).content.decode()
    assert "Schedule for" in page
    response = client.post(url("start", campaign), follow=True)
    local = timezone.localtime(when)
    # One date format everywhere, and one period at the end.
    assert messages_of(response)[0] == (
        f"Spring sale is scheduled to start at {local:%Y-%m-%d %H:%M}."
    )
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.SCHEDULED


def test_a_late_campaign_asks_for_confirmation_then_starts_with_it(
    client: Client,
) -> None:
    campaign = sim_campaign(phones=phones(2))
    when = timezone.now() - timedelta(hours=3)
    Campaign.objects.filter(pk=campaign.pk).update(scheduled_at=when)
    page = client.get(url("detail", campaign)).content.decode()
    assert 'name="confirm_late" value="1"' in page and "Start anyway" in page
    refused = client.post(url("start", campaign), follow=True)
    assert "confirm that it should still go out now" in messages_of(refused)[0]
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.DRAFT
    client.post(url("start", campaign), {"confirm_late": "1"})
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.RUNNING


@pytest.mark.parametrize(
    ("before", "button", "after", "said"),
    [
        (CampaignState.RUNNING, "pause", CampaignState.PAUSED, "paused"),
        (CampaignState.PAUSED, "resume", CampaignState.RUNNING, "resumed"),
        (CampaignState.RUNNING, "cancel", CampaignState.CANCELLED, "cancelled"),
    ],
)
def test_pause_resume_and_cancel_buttons_move_the_campaign(
    client: Client, before: str, button: str, after: str, said: str
) -> None:
    campaign = set_state(sim_campaign(phones=phones(3)), before)
    page = client.get(url("detail", campaign)).content.decode()
    assert f'data-action="{button}"' in page
    response = client.post(url(button, campaign), follow=True)
    assert response.redirect_chain == [(url("detail", campaign), 302)]
    assert said in messages_of(response)[0]
    campaign.refresh_from_db()
    assert campaign.state == after


def test_cancel_asks_for_a_confirmation_in_the_page(
    client: Client, campaign: Campaign
) -> None:
    page = client.get(url("detail", campaign)).content.decode()
    assert 'data-confirm="Cancel “Spring” for good?' in page


@pytest.mark.parametrize(
    ("state", "button", "words"),
    [
        (CampaignState.DRAFT, "pause", "Spring is draft; it cannot be paused."),
        (CampaignState.RUNNING, "resume", "Spring is running; it cannot be resumed."),
        (
            CampaignState.COMPLETED,
            "cancel",
            "Spring is completed; it cannot be cancelled.",
        ),
        (
            CampaignState.CANCELLED,
            "start",
            "Spring is cancelled; it cannot be started.",
        ),
    ],
)
def test_a_button_pressed_in_the_wrong_state_shows_why(
    client: Client, campaign: Campaign, state: str, button: str, words: str
) -> None:
    set_state(campaign, state)
    response = client.post(url(button, campaign), follow=True)
    assert messages_of(response) == [words]
    assert response.context["messages"]._loaded_messages[0].tags == "error"
    campaign.refresh_from_db()
    assert campaign.state == state


# --- progress and retry ------------------------------------------------------------


def test_the_progress_json_has_counts_percent_rate_eta_and_failures(
    client: Client,
) -> None:
    campaign = set_state(sim_campaign(phones=phones(4)), CampaignState.RUNNING)
    first = campaign.recipients.order_by("pk").first()
    assert first is not None
    attempt_sent(first)
    fail(campaign, "1002", 1, "Number Does Not Exists On WhatsApp")
    data = client.get(url("progress", campaign)).json()
    assert data["state"] == "running" and data["state_label"] == "Running"
    assert data["counts"]["submitted"] == 1 and data["counts"]["pending"] == 2
    assert set(data["counts"]) == set(RecipientStatus.values)
    assert (data["total"], data["settled"], data["percent"]) == (4, 2, 50)
    assert data["rate_per_minute"] == 1.0
    assert data["eta_seconds"] == 120  # 2 waiting at 1 a minute
    assert data["failures"] == [
        {
            "code": "1002",
            "count": 1,
            "message": "Number Does Not Exists On WhatsApp",
            "permanent": True,
            "label": "not on WhatsApp",
        }
    ]
    assert data["state_reason"] == ""


def test_the_retry_preview_counts_the_failed_recipients_of_the_ticked_codes(
    client: Client,
) -> None:
    campaign = set_state(sim_campaign(phones=phones(6)), CampaignState.COMPLETED)
    fail(campaign, "1002", 2)
    fail(campaign, "131049", 3)
    path = reverse("campaigns:retry_preview", args=[campaign.pk])
    one = client.get(path, {"code": "131049"}).json()
    both = client.get(path + "?code=131049&code=1002").json()
    none = client.get(path).json()
    assert (one["count"], one["text"]) == (3, "3 recipients will be sent again.")
    # 1002 (not on WhatsApp) is permanent: left out unless included.
    assert (both["count"], both["left_out"], none["count"]) == (3, 2, 0)
    assert both["text"] == (
        "3 recipients will be sent again, 2 left out (not on WhatsApp: 2)."
    )
    included = client.get(path + "?code=1002&code=131049&include_permanent=1").json()
    assert included["count"] == 5
    assert included["text"] == (
        "5 recipients will be sent again, including 2 that failed for good "
        "(not on WhatsApp: 2)."
    )
    page = client.get(url("detail", campaign)).content.decode()
    assert 'name="code" value="131049"' in page and "3 recipients" in page
    assert "failed for good: not on WhatsApp" in page
    assert 'name="include_permanent"' in page


def test_retry_sends_the_ticked_failures_again(client: Client) -> None:
    campaign = set_state(sim_campaign(phones=phones(6)), CampaignState.COMPLETED)
    fail(campaign, "1002", 2)
    fail(campaign, "131049", 3)
    response = client.post(url("retry", campaign), {"code": ["131049"]}, follow=True)
    assert messages_of(response) == ["3 recipients will be sent again."]
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.RUNNING
    assert campaign.recipients.filter(status=RecipientStatus.FAILED).count() == 2


def test_retry_leaves_out_permanent_failures_and_says_so(client: Client) -> None:
    campaign = set_state(sim_campaign(phones=phones(6)), CampaignState.COMPLETED)
    fail(campaign, "1012", 2)
    fail(campaign, "131049", 3)
    response = client.post(
        url("retry", campaign), {"code": ["131049", "1012"]}, follow=True
    )
    assert messages_of(response) == [
        "3 recipients will be sent again. 2 left out, failed for good (opted out: 2)."
    ]
    assert campaign.recipients.filter(status=RecipientStatus.FAILED).count() == 2


def test_an_approver_includes_permanent_failures_only_after_a_confirmation(
    client: Client,
) -> None:
    campaign = set_state(sim_campaign(phones=phones(6)), CampaignState.COMPLETED)
    fail(campaign, "1012", 2)
    fail(campaign, "131049", 1)
    asked = client.post(
        url("retry", campaign),
        {"code": ["131049", "1012"], "include_permanent": "1"},
    )
    page = asked.content.decode()
    assert asked.status_code == 200, "a confirmation page, nothing sent yet"
    assert "Send again to 2 recipients that failed for good?" in page
    assert "opted out" in page and 'name="confirm_permanent" value="2"' in page
    assert campaign.recipients.filter(status=RecipientStatus.FAILED).count() == 3
    # A confirmation of another number (the failures changed meanwhile) is refused.
    stale = client.post(
        url("retry", campaign),
        {"code": ["1012"], "include_permanent": "1", "confirm_permanent": "5"},
        follow=True,
    )
    assert "2 of these recipients failed for good now, not 5" in messages_of(stale)[0]
    done = client.post(
        url("retry", campaign),
        {
            "code": ["131049", "1012"],
            "include_permanent": "1",
            "confirm_permanent": "2",
        },
        follow=True,
    )
    assert messages_of(done) == ["3 recipients will be sent again."]
    assert not campaign.recipients.filter(status=RecipientStatus.FAILED).exists()
    audit = AuditEvent.objects.filter(action=AuditAction.CAMPAIGN_RETRIED).get()
    assert "Included after confirmation: 2 that failed for good" in audit.summary


def test_who_may_not_approve_cannot_include_permanent_failures(
    client: Client, db: None
) -> None:
    campaign = set_state(sim_campaign(phones=phones(3)), CampaignState.COMPLETED)
    fail(campaign, "1012", 2)
    sender = User.objects.create(username="sender-only", is_staff=True)
    sender.user_permissions.add(
        *Permission.objects.filter(codename__in=["send_campaign", "view_campaign"])
    )
    client.force_login(sender)
    response = client.post(
        url("retry", campaign),
        {"code": ["1012"], "include_permanent": "1", "confirm_permanent": "2"},
        follow=True,
    )
    assert "Only an approver may" in messages_of(response)[0]
    assert campaign.recipients.filter(status=RecipientStatus.FAILED).count() == 2


def test_retry_without_a_ticked_error_sends_nobody(client: Client) -> None:
    campaign = set_state(sim_campaign(phones=phones(3)), CampaignState.COMPLETED)
    fail(campaign, "1002", 2)
    response = client.post(url("retry", campaign), {}, follow=True)
    assert messages_of(response) == [
        "Tick at least one error to send its recipients again."
    ]
    assert campaign.recipients.filter(status=RecipientStatus.FAILED).count() == 2


# --- the recipients table ----------------------------------------------------------


def test_the_recipients_table_pages_by_50_filters_by_status_and_searches_phones(
    client: Client,
) -> None:
    campaign = sim_campaign(phones=phones(55))
    exchange = ApiExchange.objects.create(
        provider="gupshup", endpoint="template_msg", method="POST", url="https://x"
    )
    last = campaign.recipients.order_by("pk").last()
    assert last is not None
    attempt = attempt_sent(
        last,
        status=RecipientStatus.FAILED,
        error_code="1002",
        error_message="Number Does Not Exists On WhatsApp",
    )
    SendAttempt.objects.filter(pk=attempt.pk).update(exchange=exchange)
    first_page = client.get(url("detail", campaign))
    assert len(first_page.context["recipients"]) == 50
    assert first_page.context["recipients"].paginator.num_pages == 2
    failed = client.get(url("detail", campaign, status="failed"))
    html = failed.content.decode()
    assert [r.phone for r in failed.context["recipients"]] == [last.phone]
    assert "Number Does Not Exists On WhatsApp" in html and "<code>1002</code>" in html
    change = reverse("admin:gupshup_admin_apiexchange_change", args=[exchange.pk])
    assert f'href="{change}"' in html
    found = client.get(url("detail", campaign, q="9000028888"))
    assert [r.phone for r in found.context["recipients"]] == ["+919000028888"]
    attempt_sent(last, message_id="gs-second-try")
    by_id = client.get(url("detail", campaign, q="gs-second-try"))
    assert [r.phone for r in by_id.context["recipients"]] == [last.phone]


# --- access ------------------------------------------------------------------------


def campaign_urls(campaign: Campaign) -> list[tuple[str, str]]:
    gets = ["detail", "progress", "retry_preview"]
    posts = ["upload", "paste", "start", "pause", "resume", "cancel", "retry"]
    return [
        ("get", reverse("campaigns:list")),
        ("get", reverse("campaigns:create")),
        ("post", reverse("campaigns:create")),
        ("get", reverse("campaigns:rejected_csv", args=[campaign.pk, 1])),
        *[("get", url(name, campaign)) for name in gets],
        *[("post", url(name, campaign)) for name in posts],
    ]


def test_people_who_are_not_staff_are_sent_to_the_login_page(
    client: Client, campaign: Campaign
) -> None:
    client.logout()
    bob = User.objects.create_user("bob", "bob@example.com", "bob-password-1")
    for user in (None, bob):
        if user:
            client.force_login(user)  # login() has no request: django-axes needs one
        for method, path in campaign_urls(campaign):
            response = getattr(client, method)(path)
            assert response.status_code == 302, path
            assert response["Location"].startswith("/admin/login/"), path
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.DRAFT


def test_buttons_that_change_state_refuse_a_get(
    client: Client, campaign: Campaign
) -> None:
    for name in ["upload", "paste", "start", "pause", "resume", "cancel", "retry"]:
        assert client.get(url(name, campaign)).status_code == 405, name


def test_buttons_need_the_csrf_token(campaign: Campaign, alice: User) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    set_state(campaign, CampaignState.RUNNING)
    assert browser.post(url("pause", campaign)).status_code == 403
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.RUNNING


def test_the_admin_index_links_to_the_campaign_pages(client: Client) -> None:
    html = client.get(reverse("admin:index")).content.decode()
    assert f'href="{reverse("campaigns:list")}"' in html


def test_a_message_starting_with_a_name_keeps_the_name_as_written(
    client: Client,
) -> None:
    """The admin's base capitalises messages; a campaign (or file) name that
    starts one must come out as its owner wrote it."""
    campaign = sim_campaign(phones=phones(1), name="diwali blast")
    response = client.post(url("cancel", campaign), follow=True)
    html = response.content.decode()
    assert "diwali blast cancelled:" in html
    assert "Diwali blast cancelled" not in html
