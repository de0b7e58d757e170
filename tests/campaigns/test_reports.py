"""Send history for reviewers: the funnel, rates over time, failures explained,
one recipient's timeline and the CSV export, as selectors and as pages."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from campaigns.models import (
    Campaign,
    Recipient,
    RecipientStatus,
    SendAttempt,
    WebhookEvent,
)
from campaigns.reporting import export, reports
from campaigns.reporting.timeline import recipient_timeline
from campaigns.statuses.callbacks import webhook_event_process
from gupshup_admin.models import ApiExchange, ExchangeOutcome, Provider
from gupshup_admin.simulator import DEMO
from gupshup_admin.simulator.magic import FAILURES
from gupshup_admin.simulator.payloads import SentMessage, v2_body
from tests.factories import attempt_sent, phones, sim_campaign

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
GS_ID = "28e59926-60d5-41ed-beee-931ef168a966"
WAMID = "wamid.HBgMOTE4ODg2OTEyMjI3FQIAERgSQzY0"


@pytest.fixture
def client(client: Client, alice: User) -> Client:
    client.force_login(alice)
    return client


@pytest.fixture(autouse=True)
def no_kept_reports() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


def with_statuses(*statuses: str) -> Campaign:
    """A campaign with one recipient per given status, in that order; each one
    sent has one attempt in that status ("failed" was accepted, then failed;
    "refused" failed when the request was answered)."""
    campaign = sim_campaign(phones=phones(len(statuses)))
    for row, status in zip(campaign.recipients.order_by("pk"), statuses, strict=True):
        if status in (RecipientStatus.PENDING, RecipientStatus.CANCELLED):
            Recipient.objects.filter(pk=row.pk).update(status=status)
        elif status == "refused":
            attempt_sent(row, status=RecipientStatus.FAILED, error_code="400")
        else:
            attempt_sent(row, status=status, message_id=f"gs-{row.pk}")
    return campaign


def milestones(row: Recipient, **times: datetime | None) -> None:
    """Set when the recipient's latest attempt reached each step."""
    assert row.latest_attempt_id is not None
    SendAttempt.objects.filter(pk=row.latest_attempt_id).update(**times)


def rows_of(campaign: Campaign) -> list[Recipient]:
    return list(campaign.recipients.order_by("pk"))


def page_url(name: str, campaign: Campaign, *args: int) -> str:
    return reverse(f"campaigns:{name}", args=[campaign.pk, *args])


def csv_rows(response: Any) -> list[dict[str, str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


# --- the funnel --------------------------------------------------------------------


def test_the_funnel_counts_a_read_message_as_delivered_sent_and_submitted_too(
    db: None,
) -> None:
    campaign = with_statuses(
        RecipientStatus.READ,
        RecipientStatus.READ,
        RecipientStatus.DELIVERED,
        RecipientStatus.SENT,
        RecipientStatus.ENQUEUED,
        RecipientStatus.SUBMITTED,
        RecipientStatus.FAILED,
        "refused",
        RecipientStatus.UNKNOWN,
        RecipientStatus.PENDING,
        RecipientStatus.CANCELLED,
    )

    funnel = reports.campaign_funnel(campaign=campaign)

    assert funnel.total == 11
    steps = {step.key: step.count for step in funnel.steps}
    # Accepted by Gupshup, then failed by WhatsApp: submitted, and failed.
    assert steps == {"submitted": 7, "sent": 4, "delivered": 3, "read": 2}
    side = {step.key: step.count for step in funnel.side}
    assert side == {"failed": 2, "unknown": 1, "waiting": 1, "cancelled": 1}
    assert funnel.failed_after_submission == 1
    assert [s.percent for s in funnel.steps] == [63.6, 36.4, 27.3, 18.2]


def test_the_funnel_counts_recipients_by_their_latest_attempt_with_attempts_beside(
    db: None,
) -> None:
    campaign = sim_campaign(phones=phones(2))
    retried, once = rows_of(campaign)
    attempt_sent(
        retried, status=RecipientStatus.FAILED, message_id="gs-1", error_code="131049"
    )
    attempt_sent(retried, status=RecipientStatus.READ, message_id="gs-2")
    milestones(retried, delivered_at=T0, read_at=T0)
    attempt_sent(
        once, status=RecipientStatus.FAILED, message_id="gs-3", error_code="131049"
    )

    funnel = reports.campaign_funnel(campaign=campaign)

    steps = {step.key: (step.count, step.attempts) for step in funnel.steps}
    assert steps == {
        "submitted": (2, 3),
        "sent": (1, 1),
        "delivered": (1, 1),
        "read": (1, 1),
    }
    side = {step.key: (step.count, step.attempts) for step in funnel.side}
    assert side["failed"] == (1, 2)
    assert funnel.attempts == 3


def test_the_charts_totals_are_the_funnels_numbers(db: None) -> None:
    campaign = with_statuses(
        RecipientStatus.READ,
        RecipientStatus.DELIVERED,
        RecipientStatus.SUBMITTED,
        RecipientStatus.FAILED,
        "refused",
    )
    read, delivered, *_ = rows_of(campaign)
    # A read whose delivered callback was lost counts as delivered when read.
    milestones(read, read_at=T0)
    milestones(delivered, delivered_at=T0)

    funnel = reports.campaign_funnel(campaign=campaign)
    totals = reports.campaign_rates(campaign=campaign).totals

    counts = {step.key: step.count for step in funnel.steps}
    assert (
        (totals.submitted, totals.delivered, totals.read, totals.failed)
        == (
            counts["submitted"],
            counts["delivered"],
            counts["read"],
            funnel.count(RecipientStatus.FAILED),
        )
        == (4, 2, 1, 2)
    )


def test_an_empty_campaign_has_an_empty_funnel_and_no_rates(db: None) -> None:
    campaign = sim_campaign(phones=[])

    funnel = reports.campaign_funnel(campaign=campaign)
    rates = reports.campaign_rates(campaign=campaign)

    assert funnel.total == 0 and all(s.percent == 0 for s in funnel.steps)
    assert rates.buckets == [] and rates.peak == 0


# --- rates over time ---------------------------------------------------------------


def test_rates_count_each_minute_with_the_quiet_minutes_filled_with_zeros(
    db: None,
) -> None:
    campaign = with_statuses(
        RecipientStatus.READ, RecipientStatus.DELIVERED, RecipientStatus.FAILED
    )
    first, second, third = rows_of(campaign)
    milestones(
        first,
        submitted_at=T0 + timedelta(seconds=5),
        delivered_at=T0 + timedelta(minutes=1, seconds=2),
        read_at=T0 + timedelta(minutes=3, seconds=1),
    )
    milestones(
        second,
        submitted_at=T0 + timedelta(seconds=5),
        delivered_at=T0 + timedelta(minutes=1, seconds=40),
    )
    milestones(
        third,
        submitted_at=T0 + timedelta(minutes=3),
        failed_at=T0 + timedelta(minutes=3, seconds=9),
    )

    rates = reports.campaign_rates(campaign=campaign)

    assert rates.minutes == 1
    assert [b.start for b in rates.buckets] == [
        T0 + timedelta(minutes=n) for n in range(4)
    ]
    series = [(b.submitted, b.delivered, b.read, b.failed) for b in rates.buckets]
    assert series == [(2, 0, 0, 0), (0, 2, 0, 0), (0, 0, 0, 0), (1, 0, 1, 1)]
    assert rates.peak == 2


def test_an_earlier_attempt_is_not_counted_in_the_rates(db: None) -> None:
    campaign = sim_campaign(phones=phones(1))
    (row,) = rows_of(campaign)
    attempt_sent(row, status=RecipientStatus.FAILED, message_id="gs-1")
    milestones(row, submitted_at=T0, failed_at=T0)
    attempt_sent(row, status=RecipientStatus.DELIVERED, message_id="gs-2")
    milestones(row, submitted_at=T0 + timedelta(minutes=5), delivered_at=T0)

    totals = reports.campaign_rates(campaign=campaign).totals

    assert (totals.submitted, totals.delivered, totals.failed) == (1, 1, 0)


def test_a_long_campaign_is_counted_by_the_hour_and_merged_to_the_bucket_limit(
    db: None,
) -> None:
    campaign = with_statuses(*[RecipientStatus.SUBMITTED] * 11)
    for hour, row in enumerate(rows_of(campaign)):
        milestones(row, submitted_at=T0 + timedelta(hours=hour, minutes=20))

    rates = reports.campaign_rates(campaign=campaign, max_buckets=4)

    assert rates.minutes == 180  # 11 hours in at most 4 buckets: 3 hours each
    assert [b.submitted for b in rates.buckets] == [3, 3, 3, 2]
    assert rates.buckets[0].start == T0
    assert rates.totals.submitted == 11


# --- failures ----------------------------------------------------------------------


def test_failures_are_grouped_by_code_and_explained_in_plain_words(db: None) -> None:
    campaign = with_statuses(
        RecipientStatus.FAILED,
        RecipientStatus.FAILED,
        RecipientStatus.FAILED,
        RecipientStatus.READ,
    )
    a, b, c, _ = rows_of(campaign)
    Recipient.objects.filter(pk__in=[a.pk, b.pk]).update(
        error_code="1002", error_message="Number Does Not Exists On WhatsApp"
    )
    Recipient.objects.filter(pk=c.pk).update(
        error_code="1012", error_message="Opted out"
    )

    failures = reports.campaign_failures_explained(campaign=campaign)

    assert [(f.code, f.count) for f in failures] == [("1002", 2), ("1012", 1)]
    assert failures[0].explanation.meaning == "The number is not on WhatsApp."
    assert failures[0].explanation.action == "Remove it from your list."
    assert failures[0].message == "Number Does Not Exists On WhatsApp"
    assert failures[1].explanation.kind == "permanent"
    assert "opted out" in failures[1].explanation.meaning


# --- a recipient's timeline --------------------------------------------------------


def sent_with_callbacks(
    failure: str = "", campaign: Campaign | None = None, gs_id: str = GS_ID
) -> Recipient:
    """A recipient sent through the demo app: its exchange row, then each of
    its callbacks stored raw and processed as the drain task would."""
    campaign = campaign or sim_campaign(phones=[])
    number = campaign.recipients.count() + 1
    row = Recipient.objects.create(
        campaign=campaign,
        phone=phones(1, start=number, suffix=failure or "8888")[0],
        params=["Asha", "20%"],
    )
    attempt = attempt_sent(row, message_id=gs_id)
    exchange = ApiExchange.objects.create(
        provider=Provider.GUPSHUP,
        endpoint="template_msg",
        method="POST",
        url="https://gupshup.test/partner/app/x/template/msg",
        request_headers={"token": "sk_…9f2c"},
        request_body={"destination": row.phone.lstrip("+")},
        outcome=ExchangeOutcome.OK,
        status_code=200,
        response_body=json.dumps({"status": "submitted", "messageId": gs_id}),
        duration_ms=42,
        ref=attempt.exchange_ref,
        created_at=T0,
    )
    SendAttempt.objects.filter(pk=attempt.pk).update(
        exchange=exchange, created_at=T0, submitted_at=T0
    )
    message = SentMessage(
        app=DEMO.capi_app,
        gs_id=gs_id,
        wamid=WAMID if gs_id == GS_ID else f"wamid.{gs_id}",
        destination=row.phone.lstrip("+"),
        wa_id=row.phone.lstrip("+"),
        failure=FAILURES[failure] if failure else None,
    )
    post_statuses(campaign, message)
    row.refresh_from_db()
    return row


def post_statuses(campaign: Campaign, message: SentMessage) -> None:
    for n, status in enumerate(message.events()):
        body = v2_body(message, status, T0.timestamp() + 1 + n, drop_gsid=False)
        stored = WebhookEvent.objects.create(
            partner_app=campaign.partner_app, body=json.dumps(body)
        )
        webhook_event_process(event=stored)


def resend_with_callbacks(row: Recipient, *, gs_id: str) -> None:
    """A second attempt for `row`, delivered and read."""
    attempt = attempt_sent(row, message_id=gs_id)
    exchange = ApiExchange.objects.create(
        provider=Provider.GUPSHUP,
        endpoint="template_msg",
        method="POST",
        url="https://gupshup.test/partner/app/x/template/msg",
        outcome=ExchangeOutcome.OK,
        status_code=200,
        response_body=json.dumps({"status": "submitted", "messageId": gs_id}),
        ref=attempt.exchange_ref,
        created_at=T0 + timedelta(minutes=10),
    )
    SendAttempt.objects.filter(pk=attempt.pk).update(exchange=exchange)
    message = SentMessage(
        app=DEMO.capi_app,
        gs_id=gs_id,
        wamid=f"wamid.{gs_id}",
        destination=row.phone.lstrip("+"),
        wa_id=row.phone.lstrip("+"),
    )
    post_statuses(row.campaign, message)
    row.refresh_from_db()


def test_the_timeline_holds_the_request_then_each_status_with_its_raw_callback(
    db: None, django_assert_max_num_queries: Any
) -> None:
    recipient = sent_with_callbacks()

    with django_assert_max_num_queries(3):
        (history,) = recipient_timeline(recipient=recipient)

    assert history.latest and history.attempt.number == 1
    timeline = history.entries
    assert [e.kind for e in timeline] == ["exchange", *["status"] * 4]
    assert [e.event.status for e in timeline if e.event] == [
        "enqueued", "sent", "delivered", "read",
    ]  # fmt: skip
    request = timeline[0]
    assert request.exchange is not None
    assert request.exchange.ref == history.attempt.exchange_ref
    assert '"messageId": "' + GS_ID in request.response_body
    assert '"token": "sk_…9f2c"' in request.request_headers
    delivered = timeline[3]
    assert delivered.callback is not None
    assert delivered.callback_body.startswith('{\n  "app"')  # pretty-printed
    assert '"type": "delivered"' in delivered.callback_body


def test_the_timeline_groups_each_attempts_requests_and_statuses(db: None) -> None:
    recipient = sent_with_callbacks("9049")  # enqueued, then held back
    second = "7b1d2f3a-0000-4000-8000-000000000002"
    resend_with_callbacks(recipient, gs_id=second)

    first, latest = recipient_timeline(recipient=recipient)

    assert (first.attempt.number, first.attempt.status, first.latest) == (
        1,
        "failed",
        False,
    )
    assert [e.event.status for e in first.entries if e.event] == ["enqueued", "failed"]
    assert first.explanation is not None and "held back" in first.explanation.meaning
    assert (latest.attempt.number, latest.attempt.status, latest.latest) == (
        2,
        "read",
        True,
    )
    assert [e.event.status for e in latest.entries if e.event] == [
        "enqueued", "sent", "delivered", "read",
    ]  # fmt: skip
    assert latest.attempt.message_id == second


def test_a_failed_status_in_the_timeline_says_what_it_means(db: None) -> None:
    recipient = sent_with_callbacks("1002")

    (history,) = recipient_timeline(recipient=recipient)

    failed = history.entries[-1]
    assert failed.event is not None and failed.event.status == RecipientStatus.FAILED
    assert failed.explanation is not None
    assert failed.explanation.meaning == "The number is not on WhatsApp."


def test_the_recipient_page_shows_the_timeline_exchanges_and_raw_callbacks(
    client: Client,
) -> None:
    recipient = sent_with_callbacks("1012")  # refused by Gupshup: one failed

    page = client.get(page_url("recipient", recipient.campaign, recipient.pk))

    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('data-kind="status"') == 1
    assert html.count('data-kind="exchange"') == 1
    assert "POST template_msg" in html and "in 42 ms" in html
    assert "&quot;type&quot;: &quot;failed&quot;" in html  # the raw body, escaped
    assert "The person opted out of messages from this business." in html
    assert recipient.latest_attempt is not None
    exchange = recipient.latest_attempt.exchange_id
    assert reverse("admin:gupshup_admin_apiexchange_change", args=[exchange]) in html


def test_the_recipient_page_shows_each_attempt_latest_last(client: Client) -> None:
    recipient = sent_with_callbacks("9049")
    resend_with_callbacks(recipient, gs_id="7b1d2f3a-0000-4000-8000-000000000002")

    html = client.get(
        page_url("recipient", recipient.campaign, recipient.pk)
    ).content.decode()

    assert 'id="attempt-1" data-attempt="1" data-status="failed"' in html
    assert 'class="attempt latest" id="attempt-2"' in html
    assert html.index('id="attempt-1"') < html.index('id="attempt-2"')
    assert html.count('data-kind="exchange"') == 2


def test_a_recipient_is_only_found_under_its_own_campaign(client: Client) -> None:
    recipient = sent_with_callbacks()
    app = recipient.campaign.partner_app
    other = sim_campaign(phones=phones(1, start=50), name="Other", app=app)

    assert client.get(page_url("recipient", other, recipient.pk)).status_code == 404


# --- the report page ---------------------------------------------------------------


def test_the_report_page_draws_the_funnel_and_the_rates_and_explains_failures(
    client: Client, django_assert_max_num_queries: Any
) -> None:
    recipient = sent_with_callbacks()
    campaign = recipient.campaign
    sent_with_callbacks("1002", campaign, gs_id="5d0e7c1a-0000-4000-8000-000000000002")

    with django_assert_max_num_queries(15):
        page = client.get(page_url("report", campaign))

    assert page.status_code == 200
    html = page.content.decode()
    assert '<li data-step="read">' in html and 'class="rate-chart"' in html
    funnel = page.context["funnel"]
    assert funnel.total == 2 and funnel.count(RecipientStatus.READ) == 1
    assert [f.code for f in page.context["failures"]] == ["1002"]
    assert "The number is not on WhatsApp." in html
    assert "Remove it from your list." in html
    assert "error_code=1002" in html and "?status=failed&amp;code=1002" in html


def test_the_report_finds_recipients_by_part_of_the_number_or_a_whole_id(
    client: Client,
) -> None:
    campaign = sim_campaign(phones=phones(3))
    first, second, _ = rows_of(campaign)
    attempt_sent(second, message_id=GS_ID)
    report = page_url("report", campaign)

    by_number = client.get(report, {"q": first.phone[-7:]}).context["found"]
    by_id = client.get(report, {"q": GS_ID}).context["found"]
    nothing = client.get(report, {"q": "+44 20 7946 0000"}).context["found"]

    assert [r.pk for r in by_number] == [first.pk]
    assert [r.pk for r in by_id] == [second.pk]
    assert nothing == []


def test_the_campaign_page_links_its_report_export_and_recipient_timelines(
    client: Client,
) -> None:
    campaign = sim_campaign(phones=phones(2))

    html = client.get(page_url("detail", campaign), {"status": "pending"}).content

    assert page_url("report", campaign).encode() in html
    assert (page_url("recipients_csv", campaign) + "?status=pending").encode() in html
    assert page_url("recipient", campaign, 0).encode() in html  # for report_links.js


def test_a_slow_report_is_kept_a_minute_and_counted_again_on_request(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reports, "SLOW_REPORT_SECONDS", 0.0)  # every one is slow
    campaign = with_statuses(RecipientStatus.READ, RecipientStatus.PENDING)
    url = page_url("report", campaign)
    first = client.get(url)
    campaign.recipients.filter(status=RecipientStatus.PENDING).update(
        status=RecipientStatus.READ
    )

    kept = client.get(url)
    fresh = client.get(url, {"fresh": "1"})

    assert not first.context["report"].cached
    assert kept.context["report"].cached
    assert (
        kept.context["funnel"].count(RecipientStatus.READ) == 1
    )  # as counted the first time
    assert b'id="count-again"' in kept.content
    assert fresh.context["funnel"].count(RecipientStatus.READ) == 2
    assert not fresh.context["report"].cached


def test_a_quick_report_is_counted_anew_on_every_load(client: Client) -> None:
    campaign = with_statuses(RecipientStatus.READ, RecipientStatus.PENDING)
    url = page_url("report", campaign)
    client.get(url)
    campaign.recipients.filter(status=RecipientStatus.PENDING).update(
        status=RecipientStatus.READ
    )

    again = client.get(url)

    assert not again.context["report"].cached
    assert again.context["funnel"].count(RecipientStatus.READ) == 2


# --- the export --------------------------------------------------------------------


def test_the_export_streams_every_recipient_with_its_status_and_columns(
    client: Client,
) -> None:
    recipient = sent_with_callbacks()
    campaign = recipient.campaign
    Recipient.objects.create(campaign=campaign, phone="+919000000002")

    response = client.get(page_url("recipients_csv", campaign))

    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f"campaign-{campaign.pk}-recipients.csv" in response["Content-Disposition"]
    rows = csv_rows(response)
    assert list(rows[0]) == export.EXPORT_COLUMNS
    assert [(r["phone"], r["status"]) for r in rows] == [
        (recipient.phone, "read"),
        ("+919000000002", "pending"),
    ]
    first = rows[0]
    assert first["message_id"] == GS_ID and first["wamid"] == WAMID
    assert first["submitted_at"] == T0.isoformat()
    assert first["params"] == '["Asha", "20%"]' and first["attempts"] == "1"
    assert first["last_update"].startswith(str(recipient.updated_at.year))


def test_the_export_filters_by_status_search_and_error_code(client: Client) -> None:
    campaign = with_statuses(
        RecipientStatus.FAILED,
        RecipientStatus.FAILED,
        RecipientStatus.READ,
        RecipientStatus.FAILED,
    )
    a, b, c, d = rows_of(campaign)
    Recipient.objects.filter(pk__in=[a.pk, d.pk]).update(error_code="1002")
    Recipient.objects.filter(pk=b.pk).update(error_code="1012")
    csv_url = page_url("recipients_csv", campaign)

    def phones_of(**query: str) -> list[str]:
        return [r["phone"] for r in csv_rows(client.get(csv_url, query))]

    assert phones_of(status="failed") == [a.phone, b.phone, d.phone]
    assert phones_of(status="failed", code="1002") == [a.phone, d.phone]
    assert phones_of(q=c.phone[3:]) == [c.phone]
    assert phones_of(status="read", q=a.phone) == []
    assert phones_of(status="bogus") == [a.phone, b.phone, c.phone, d.phone]


def test_exported_cells_that_look_like_formulas_cannot_run_in_a_spreadsheet(
    client: Client,
) -> None:
    campaign = sim_campaign(phones=phones(1))
    campaign.recipients.update(
        status=RecipientStatus.FAILED,
        error_message='=HYPERLINK("http://x")',
        params=["@SUM(1)"],
    )

    row = csv_rows(client.get(page_url("recipients_csv", campaign)))[0]

    assert row["error_message"] == '\'=HYPERLINK("http://x")'
    assert row["params"] == '["@SUM(1)"]'  # JSON starts with [, harmless
    assert row["phone"].startswith("+91")  # an E.164 number is left alone


# --- who may look ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["report", "recipients_csv", "recipient"])
def test_the_history_pages_are_for_staff_only(
    client: Client, db: None, name: str
) -> None:
    campaign = sim_campaign(phones=phones(1))
    args = [campaign.recipients.get().pk] if name == "recipient" else []
    url = page_url(name, campaign, *args)
    client.logout()
    assert client.get(url).status_code == 302  # to the admin login

    bob = User.objects.create_user("bob", "bob@example.com", "bob-password-1")
    client.force_login(bob)  # login() has no request, which django-axes needs
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
