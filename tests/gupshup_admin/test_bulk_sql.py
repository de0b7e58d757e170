"""`update_rows`: one UPDATE … FROM (VALUES …) for many rows, on both databases."""

from __future__ import annotations

from django.utils import timezone

from campaigns.models import Recipient, RecipientStatus
from gupshup_admin.bulk_sql import insert_rows, update_rows
from gupshup_admin.models import ApiExchange, ExchangeOutcome
from tests.factories import phones, sim_campaign


def exchange() -> ApiExchange:
    return ApiExchange.objects.create(
        provider="gupshup", endpoint="template_msg", created_at=timezone.now()
    )


def test_each_row_gets_its_own_values_nulls_and_booleans_included(db: None) -> None:
    one, two, untouched = exchange(), exchange(), exchange()
    changed = update_rows(
        ApiExchange,
        ["status_code", "response_body", "response_truncated", "outcome"],
        [
            (one.pk, 202, '{"status":"submitted"}', False, ExchangeOutcome.OK),
            (two.pk, None, "", True, ExchangeOutcome.ERROR),
        ],
        same={"duration_ms": 7},
    )
    assert changed == 2
    rows = {
        row.pk: row
        for row in ApiExchange.objects.all()  # fresh from the database
    }
    assert (rows[one.pk].status_code, rows[one.pk].response_truncated) == (202, False)
    assert rows[one.pk].response_body == '{"status":"submitted"}'
    assert (rows[two.pk].status_code, rows[two.pk].response_truncated) == (None, True)
    assert rows[two.pk].outcome == ExchangeOutcome.ERROR
    assert {rows[one.pk].duration_ms, rows[two.pk].duration_ms} == {7}
    assert rows[untouched.pk].status_code is None
    assert rows[untouched.pk].outcome == untouched.outcome


def test_a_row_that_no_longer_matches_is_left_alone(db: None) -> None:
    campaign = sim_campaign(phones=phones(3))
    ours, settled, other_claim = campaign.recipients.order_by("pk")
    Recipient.objects.update(status=RecipientStatus.SENDING, claimed_by="ours")
    Recipient.objects.filter(pk=settled.pk).update(status=RecipientStatus.UNKNOWN)
    Recipient.objects.filter(pk=other_claim.pk).update(claimed_by="theirs")
    changed = update_rows(
        Recipient,
        ["attempts"],
        [(row.pk, 5, "ours") for row in (ours, settled, other_claim)],
        same={"status": RecipientStatus.SUBMITTED},
        where={"status": RecipientStatus.SENDING},
        match=["claimed_by"],
    )
    assert changed == 1
    after = dict(campaign.recipients.values_list("pk", "status"))
    assert after == {
        ours.pk: RecipientStatus.SUBMITTED,
        settled.pk: RecipientStatus.UNKNOWN,
        other_claim.pk: RecipientStatus.SENDING,
    }
    assert Recipient.objects.get(pk=ours.pk).attempts == 5
    assert Recipient.objects.get(pk=other_claim.pk).attempts == 0


def test_insert_rows_fills_defaults_keeps_json_and_returns_ids_in_order(
    db: None,
) -> None:
    now = timezone.now()
    ids = insert_rows(
        ApiExchange,
        [
            {
                "provider": "gupshup",
                "endpoint": "template_msg",
                "created_at": now,
                "request_body": {"destination": "919000012345", "n": 1},
                "ref": "attempt:1",
            },
            {"provider": "commbox", "endpoint": "send", "created_at": now},
        ],
    )
    first, second = (ApiExchange.objects.get(pk=pk) for pk in ids)
    assert (first.endpoint, first.ref) == ("template_msg", "attempt:1")
    assert first.request_body == {"destination": "919000012345", "n": 1}
    assert (second.provider, second.ref, second.request_body) == ("commbox", "", {})
    assert second.outcome == ApiExchange._meta.get_field("outcome").get_default()
