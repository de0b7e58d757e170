"""The claim statement takes at most the rows asked for, whatever plan the
database picks for it."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns.dispatch import batch
from campaigns.models import Campaign, CampaignState, Recipient, RecipientStatus
from gupshup_admin.bulk_sql import update_rows
from tests.factories import phones, sim_app, sim_campaign


@pytest.fixture
def running(db: None) -> Campaign:
    campaign = sim_campaign(phones=phones(12), app=sim_app())
    Campaign.objects.filter(pk=campaign.pk).update(state=CampaignState.RUNNING)
    return campaign


def test_a_claim_takes_what_it_asks_for_and_marks_it_sending(running: Campaign) -> None:
    rows = batch.recipients_claim(running.pk, 5, "claim-a")
    assert len(rows) == 5
    claimed = Recipient.objects.filter(claimed_by="claim-a")
    assert sorted(r.pk for r in rows) == sorted(claimed.values_list("pk", flat=True))
    assert set(claimed.values_list("status", flat=True)) == {RecipientStatus.SENDING}
    # The rest are there for the next claim, and none twice.
    more = batch.recipients_claim(running.pk, 50, "claim-b")
    assert len(more) == 7
    assert not {r.pk for r in rows} & {r.pk for r in more}


def test_nothing_is_claimed_of_a_campaign_that_is_not_running(
    running: Campaign,
) -> None:
    Campaign.objects.filter(pk=running.pk).update(state=CampaignState.PAUSED)
    assert batch.recipients_claim(running.pk, 5, "claim-a") == []
    assert not Recipient.objects.filter(status=RecipientStatus.SENDING).exists()


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="a PostgreSQL planner choice"
)
def test_a_claim_takes_no_more_than_asked_when_postgresql_rescans_its_subquery(
    running: Campaign,
) -> None:
    """A `LIMIT … FOR UPDATE SKIP LOCKED` subquery that the planner runs again
    for each outer row skips the rows this very statement just locked and
    returns new ones each time: a claim of 1 took 3 (a CI run's sender then
    crashed on more rows than tokens), and here 1 took all 12. That plan (a
    nested-loop semi join around the subquery) is forced here by taking the
    planner's other choices away; table statistics can make it the cheapest."""
    with connection.cursor() as cursor:
        for option in ("hashagg", "sort"):
            cursor.execute(f"SET LOCAL enable_{option} = off")
        rows = batch.recipients_claim(running.pk, 1, "claim-a")
        cursor.execute("RESET ALL")
    assert len(rows) == 1
    assert Recipient.objects.filter(status=RecipientStatus.SENDING).count() == 1


def _plan(sql: str, params: Any) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL plans")
def test_a_late_claim_and_a_settle_touch_only_their_rows(db: None) -> None:
    """Three quarters through a big campaign, a claim reads its pending rows in
    id order from the (campaign, status, id) index instead of walking the
    primary key past every row already sent (9 ms for a claim of 8 at 15,000
    rows: quadratic over a campaign), and settling a batch finds its rows by
    primary key instead of scanning the table (the planner guesses 100 rows
    for any JSON batch)."""
    campaign = sim_campaign(phones=phones(4000), app=sim_app())
    Campaign.objects.filter(pk=campaign.pk).update(state=CampaignState.RUNNING)
    sent = list(campaign.recipients.order_by("pk").values_list("pk", flat=True))[:3000]
    Recipient.objects.filter(pk__in=sent).update(status=RecipientStatus.SUBMITTED)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    with CaptureQueriesContext(connection) as captured:
        rows = batch.recipients_claim(campaign.pk, 8, "claim-a")
        update_rows(Recipient, ["attempts"], [(row.pk, 1) for row in rows])
    claim, settle = (
        q["sql"] for q in captured.captured_queries if "UPDATE" in q["sql"]
    )
    assert "recipient_claim_order" in _plan(claim, None)
    settling = _plan(settle, None)
    assert "campaigns_recipient_pkey" in settling
    assert "Seq Scan on campaigns_recipient" not in settling
