"""`update_rows` and `insert_rows`: one statement for many rows, on both databases."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
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


def test_rows_keep_their_order_their_timestamps_and_odd_text(db: None) -> None:
    """Many rows, each with its own exact timestamp (microseconds) and text
    that quoting could break: what is read back is what was written, and the
    ids come back in the rows' order."""
    base = timezone.now().replace(microsecond=123456)
    odd = ['quote \' and "double"', "back\\slash", "ünïcödé 🙂", '{"not": json', ""]
    rows = [
        {
            "provider": "gupshup",
            "endpoint": "template_msg",
            "created_at": base + timedelta(microseconds=n),
            "ref": odd[n % len(odd)] + f" #{n}",
            "request_body": {"n": n, "text": odd[n % len(odd)], "list": [n, None]},
        }
        for n in range(150)
    ]
    ids = insert_rows(ApiExchange, rows)
    assert len(ids) == 150
    stored = {row.pk: row for row in ApiExchange.objects.filter(pk__in=ids)}
    for n, pk in enumerate(ids):
        assert stored[pk].ref == rows[n]["ref"]
        assert stored[pk].created_at == rows[n]["created_at"]
        assert stored[pk].request_body == rows[n]["request_body"]
    changed = update_rows(
        ApiExchange,
        ["response_body", "status_code"],
        [(pk, odd[n % len(odd)], 200 + n) for n, pk in enumerate(ids)],
        same={"duration_ms": 5},
    )
    assert changed == 150
    for n, row in enumerate(ApiExchange.objects.filter(pk__in=ids).order_by("pk")):
        assert (row.response_body, row.status_code) == (odd[n % len(odd)], 200 + n)
        assert row.duration_ms == 5


def test_the_statement_is_the_same_for_any_number_of_rows(db: None) -> None:
    """Its text does not grow with the rows, so the driver parses it once (a
    statement with a placeholder per value was parsed anew for every batch)."""
    now = timezone.now()

    def statements(count: int) -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            ids = insert_rows(
                ApiExchange,
                [{"provider": "gupshup", "endpoint": "x", "created_at": now}] * count,
            )
            update_rows(ApiExchange, ["status_code"], [(pk, 200) for pk in ids])
        return [query["sql"] for query in captured.captured_queries]

    if connection.vendor != "postgresql":
        pytest.skip("SQLite takes a VALUES list")
    few, many = statements(2), statements(200)
    assert _without_literals(few) == _without_literals(many)


def _without_literals(statements: list[str]) -> list[str]:
    """The statements with their quoted values left out (the captured text
    has the parameters in it: the JSON rows, the array of ids)."""
    return [re.sub(r"'(?:[^']|'')*'", "?", sql) for sql in statements]
