"""The history in the admin: raw callbacks (read-only), the status timeline of a
recipient, and a recipient list that stays cheap on a million rows."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.urls import reverse

from campaigns.admin.history import EstimatedCountPaginator
from campaigns.models import (
    Campaign,
    Recipient,
    RecipientStatus,
    RefusedCallback,
    WebhookEvent,
    WebhookState,
)
from campaigns.statuses.callbacks import webhook_event_process
from tests.factories import attempt_sent, phones, sim_app, sim_campaign
from tests.payloads import callback

RECIPIENTS = reverse("admin:campaigns_recipient_changelist")
CALLBACKS = reverse("admin:campaigns_webhookevent_changelist")
needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="estimates come from PostgreSQL's statistics; SQLite counts exactly",
)


@pytest.fixture
def client(client: Client, alice: User) -> Client:
    client.force_login(alice)
    return client


@pytest.fixture
def campaigns(db: None) -> list[Campaign]:
    """Two campaigns, 120 recipients each, in mixed statuses."""
    app = sim_app()
    made = []
    for n in range(2):
        campaign = sim_campaign(
            phones=phones(120, start=1 + n * 200), app=app, name=f"Sale {n}"
        )
        for i, row in enumerate(campaign.recipients.order_by("pk")):
            status = [RecipientStatus.READ, RecipientStatus.FAILED][i % 2]
            attempt_sent(
                row,
                status=status,
                message_id=f"gs-{n}-{i}",
                error_code="1002" if status == RecipientStatus.FAILED else "",
            )
        made.append(campaign)
    return made


def listed(response: Any) -> list[Recipient]:
    return list(response.context["cl"].result_list)


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"status__exact": "failed"},
        {"q": "+9190001"},
        {"q": "gs-1-7"},
        {"campaign__id__exact": "CAMPAIGN"},
        {"status__exact": "failed", "error_code": "1002", "campaign__id__exact": "X"},
    ],
    ids=["all", "status", "number", "message-id", "campaign", "failure-group"],
)
def test_the_recipient_list_takes_at_most_15_queries_whatever_the_filters(
    client: Client,
    campaigns: list[Campaign],
    django_assert_max_num_queries: Any,
    query: dict[str, str],
) -> None:
    query = {
        k: str(campaigns[1].pk) if k == "campaign__id__exact" else v
        for k, v in query.items()
    }
    with django_assert_max_num_queries(15):
        response = client.get(RECIPIENTS, query)

    assert response.status_code == 200
    assert listed(response), query


def test_the_recipient_list_finds_part_of_a_number_or_a_whole_id(
    client: Client, campaigns: list[Campaign]
) -> None:
    row = campaigns[0].recipients.order_by("pk")[3]

    by_part = listed(client.get(RECIPIENTS, {"q": row.phone[-9:]}))
    by_spaced = listed(client.get(RECIPIENTS, {"q": "+91 9 0000 4-8888"}))
    assert row.latest_attempt is not None
    by_id = listed(client.get(RECIPIENTS, {"q": row.latest_attempt.message_id}))
    by_part_of_id = listed(client.get(RECIPIENTS, {"q": "gs-0"}))

    assert [r.pk for r in by_part] == [row.pk]
    assert [r.phone for r in by_spaced] == ["+919000048888"]
    assert [r.pk for r in by_id] == [row.pk]
    assert by_part_of_id == []  # ids match whole: each is one index lookup


def test_failure_group_links_filter_the_recipient_list_by_error_code(
    client: Client, campaigns: list[Campaign]
) -> None:
    campaign = campaigns[0]
    query = {
        "campaign__id__exact": str(campaign.pk),
        "status__exact": "failed",
        "error_code": "1002",
    }

    rows = listed(client.get(RECIPIENTS, query))

    assert len(rows) == 60
    assert {(r.campaign_id, r.error_code) for r in rows} == {(campaign.pk, "1002")}


def test_the_recipient_list_links_each_row_to_its_timeline(
    client: Client, campaigns: list[Campaign]
) -> None:
    row = campaigns[1].recipients.order_by("-pk").first()
    assert row is not None

    html = client.get(RECIPIENTS).content.decode()

    assert reverse("campaigns:recipient", args=[row.campaign_id, row.pk]) in html


def test_below_the_cap_the_recipient_list_counts_exactly(
    client: Client, campaigns: list[Campaign]
) -> None:
    response = client.get(RECIPIENTS, {"status__exact": "failed"})

    assert response.context["cl"].result_count == 120
    assert not response.context["cl"].paginator.estimated
    assert b"an estimate" not in response.content


@needs_postgresql
def test_a_big_table_is_counted_from_statistics_and_a_big_filter_is_capped(
    client: Client, campaigns: list[Campaign], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(EstimatedCountPaginator, "exact_up_to", 50)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE campaigns_recipient")

    unfiltered = client.get(RECIPIENTS)
    filtered = client.get(RECIPIENTS, {"status__exact": "read"})

    assert unfiltered.context["cl"].paginator.estimated
    assert unfiltered.context["cl"].result_count == 240  # pg_class.reltuples
    assert filtered.context["cl"].paginator.estimated
    assert filtered.context["cl"].result_count >= 51  # the planner's guess
    assert b"an estimate" in filtered.content


@needs_postgresql
def test_postgresql_has_the_history_indexes_and_searches_numbers_with_one(
    db: None,
) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE indexname IN "
            "('campaigns_recipient_phone_trgm', 'send_attempt_submitted')"
        )
        names = sorted(row[0] for row in cursor.fetchall())
        cursor.execute("SET enable_seqscan = off")  # an empty table: force the plan
        rows = Recipient.objects.filter(phone__contains="9000012")
        sql, params = rows.query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert names == ["campaigns_recipient_phone_trgm", "send_attempt_submitted"]
    assert "campaigns_recipient_phone_trgm" in plan


def test_a_recipient_page_in_the_admin_lists_its_attempts(
    client: Client, db: None
) -> None:
    campaign = sim_campaign(phones=phones(1))
    row = campaign.recipients.get()
    attempt_sent(row, status="failed", message_id="gs-first", error_code="131049")
    attempt_sent(row, status="delivered", message_id="gs-second", wamid="wamid.X")

    html = client.get(
        reverse("admin:campaigns_recipient_change", args=[row.pk])
    ).content.decode()

    assert "Attempts" in html
    assert "gs-first" in html and "gs-second" in html and "131049" in html
    assert reverse("campaigns:recipient", args=[campaign.pk, row.pk]) in html


# --- raw callbacks -----------------------------------------------------------------


@pytest.fixture
def stored_callbacks(db: None) -> list[WebhookEvent]:
    app = sim_app()
    bodies = [callback("v2-enqueued"), callback("v3-read")]
    events = [
        WebhookEvent.objects.create(partner_app=app, body=json.dumps(b)) for b in bodies
    ]
    for event in events:
        webhook_event_process(event=event)
    events.append(
        WebhookEvent.objects.create(
            partner_app=app,
            body="not json",
            state=WebhookState.INVALID,
            error="not JSON: Expecting value",
        )
    )
    return events


def test_callbacks_are_listed_with_filters_search_and_a_date_drilldown(
    client: Client,
    stored_callbacks: list[WebhookEvent],
    django_assert_max_num_queries: Any,
) -> None:
    with django_assert_max_num_queries(15):
        everything = client.get(CALLBACKS)
    invalid = client.get(CALLBACKS, {"state__exact": "invalid"})
    searched = client.get(CALLBACKS, {"q": "not json"})

    html = everything.content.decode()
    assert everything.context["cl"].result_count == 3
    for name in ("received_at", "partner_app", "state", "event_type", "error"):
        assert f"column-{name}" in html
    assert 'id="changelist-filter"' in html and "xfull" not in html
    assert everything.context["cl"].date_hierarchy == "received_at"
    assert [e.pk for e in invalid.context["cl"].result_list] == [stored_callbacks[2].pk]
    assert [e.pk for e in searched.context["cl"].result_list] == [
        stored_callbacks[2].pk
    ]


def test_a_callback_page_is_read_only_with_its_body_pretty_printed(
    client: Client, stored_callbacks: list[WebhookEvent]
) -> None:
    event = stored_callbacks[1]
    url = reverse("admin:campaigns_webhookevent_change", args=[event.pk])

    html = client.get(url).content.decode()

    assert '<pre class="callback-body">{\n  &quot;' in html
    assert "Statuses from this callback" in html
    assert 'name="_save"' not in html
    assert client.get(reverse("admin:campaigns_webhookevent_add")).status_code == 403
    delete = reverse("admin:campaigns_webhookevent_delete", args=[event.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert WebhookEvent.objects.filter(pk=event.pk).exists()


NESTED = "[" * 5000  # a RecursionError for json.loads, and anyone may POST it


def test_no_stored_body_breaks_the_callback_pages(client: Client, db: None) -> None:
    app = sim_app()
    stored = WebhookEvent.objects.create(partner_app=app, body=NESTED)
    webhook_event_process(event=stored)
    anonymous = Client()
    url = reverse("webhooks:gupshup", args=[app.pk])
    assert (
        anonymous.post(url, NESTED, content_type="application/json").status_code == 403
    )
    refused = RefusedCallback.objects.get()

    pages = [
        CALLBACKS,
        reverse("admin:campaigns_webhookevent_change", args=[stored.pk]),
        reverse("admin:campaigns_refusedcallback_changelist"),
        reverse("admin:campaigns_refusedcallback_change", args=[refused.pk]),
    ]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
    body = client.get(pages[1]).content.decode()
    assert "[[[[" in body  # shown as it came, not pretty-printed
