"""The batched drain gives the same statuses and timelines as processing the
callbacks one by one, in a handful of queries per batch."""

from __future__ import annotations

import itertools
import json
import random
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns import drain
from campaigns.callbacks import webhook_event_process
from campaigns.ingest import webhooks_drain
from campaigns.models import Campaign, Recipient, RecipientStatus, StatusEvent
from gupshup_admin.models import WebhookEvent, WebhookState
from gupshup_admin.simulator import DEMO
from gupshup_admin.simulator.magic import FAILURES
from gupshup_admin.simulator.payloads import SentMessage
from tests.factories import phones, sim_campaign
from tests.payloads import message_bodies

S = RecipientStatus
NUMBERS = phones(3)


def gs_id(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def message(n: int, failure: str = "") -> SentMessage:
    return SentMessage(
        app=DEMO.capi_app,
        gs_id=gs_id(n),
        wamid=f"wamid.batch{n:04d}",
        destination=NUMBERS[n].lstrip("+"),
        wa_id=NUMBERS[n].lstrip("+"),
        failure=FAILURES[failure] if failure else None,
    )


bodies = message_bodies


@pytest.fixture
def campaign(db: None) -> Campaign:
    return submitted(sim_campaign(phones=NUMBERS))


def submitted(campaign: Campaign) -> Campaign:
    for n, row in enumerate(campaign.recipients.order_by("phone")):
        row.status, row.message_id = S.SUBMITTED, gs_id(n)
        row.save(update_fields=["status", "message_id"])
    return campaign


def store(campaign: Campaign, items: list[Any]) -> None:
    WebhookEvent.objects.bulk_create(
        WebhookEvent(partner_app=campaign.partner_app, body=json.dumps(body))
        for body in items
    )


def outcome() -> list[tuple[str, str, str, str, list[str]]]:
    return [
        (
            row.phone,
            row.status,
            row.wamid,
            row.error_code,
            sorted(row.events.values_list("status", flat=True)),
        )
        for row in Recipient.objects.order_by("phone")
    ]


@pytest.mark.parametrize("fmt", ["v2", "v3"])
def test_every_order_drained_as_one_batch_ends_read_with_a_full_timeline(
    campaign: Campaign, fmt: str
) -> None:
    for order in itertools.permutations(bodies(message(0), fmt)):
        StatusEvent.objects.all().delete()
        Recipient.objects.update(status=S.SUBMITTED, wamid="")
        store(campaign, [*order, order[0]])  # and one duplicate
        assert webhooks_drain() == 5
        row = Recipient.objects.get(message_id=gs_id(0))
        assert (row.status, row.wamid) == (S.READ, "wamid.batch0000"), order
        timeline = list(row.events.values_list("status", flat=True))
        assert timeline == ["enqueued", "sent", "delivered", "read"]
    assert not WebhookEvent.objects.exclude(state=WebhookState.PROCESSED).exists()


def test_a_failure_in_a_batch_is_terminal_and_keeps_the_providers_code(
    campaign: Campaign,
) -> None:
    enqueued, failed = bodies(message(1, "1002"), "v3")
    store(campaign, [failed, enqueued])
    webhooks_drain()
    row = Recipient.objects.get(message_id=gs_id(1))
    assert (row.status, row.error_code) == (S.FAILED, "131026")
    assert row.error_message == "Message undeliverable"


def test_events_without_gsid_match_by_a_wamid_learned_in_the_same_batch(
    campaign: Campaign,
) -> None:
    enqueued, sent, delivered, read = bodies(message(2), drop_gsid=True)
    store(campaign, [read, delivered, enqueued])
    webhooks_drain()
    row = Recipient.objects.get(message_id=gs_id(2))
    assert (row.status, row.wamid) == (S.READ, "wamid.batch0002")
    assert not StatusEvent.objects.filter(recipient=None).exists()
    store(campaign, [sent])  # a week later: matched by the remembered wamid
    webhooks_drain()
    assert row.events.count() == 4


def test_an_unknown_send_and_a_parked_event_take_the_one_by_one_path(
    campaign: Campaign,
) -> None:
    Recipient.objects.filter(message_id=gs_id(0)).update(
        status=S.UNKNOWN, message_id="", error_message="read timeout"
    )
    unknown_enqueued, *_ = bodies(message(0))
    _, _, delivered, _ = bodies(message(1), drop_gsid=True)
    store(campaign, [unknown_enqueued, delivered, *bodies(message(2))])
    webhooks_drain()
    resolved = Recipient.objects.get(phone=NUMBERS[0])
    assert (resolved.status, resolved.message_id) == (S.ENQUEUED, gs_id(0))
    assert resolved.error_message == ""
    assert Recipient.objects.get(message_id=gs_id(2)).status == S.READ
    parked = WebhookEvent.objects.get(state=WebhookState.PARKED)
    assert json.loads(parked.body)["payload"]["type"] == "delivered"
    store(campaign, bodies(message(1))[:1])  # reveals the wamid
    webhooks_drain()
    assert Recipient.objects.get(message_id=gs_id(1)).status == S.DELIVERED
    assert not WebhookEvent.objects.filter(state=WebhookState.PARKED).exists()


def test_a_batch_that_breaks_falls_back_to_one_by_one_and_loses_nothing(
    campaign: Campaign, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**kwargs: object) -> None:
        raise RuntimeError("bug in the batch path")

    monkeypatch.setattr("campaigns.ingest.webhook_events_process_batch", broken)
    store(campaign, [*bodies(message(0)), "{not json"])
    webhooks_drain()
    assert Recipient.objects.get(message_id=gs_id(0)).status == S.READ
    states = list(WebhookEvent.objects.order_by("pk").values_list("state", flat=True))
    assert states == [WebhookState.PROCESSED] * 4 + [WebhookState.INVALID]


def test_a_recipient_moved_by_someone_else_meanwhile_still_ends_right(
    campaign: Campaign, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = StatusEvent.objects.bulk_create

    def and_another_drain(rows: list[StatusEvent], **kwargs: Any) -> Any:
        # Between this batch's read and its UPDATE another drain moves the row.
        Recipient.objects.filter(message_id=gs_id(0)).update(status=S.SENT)
        return real(rows, **kwargs)

    monkeypatch.setattr(StatusEvent.objects, "bulk_create", and_another_drain)
    enqueued, _sent, delivered, _ = bodies(message(0))
    store(campaign, [enqueued, delivered])
    webhooks_drain()
    assert Recipient.objects.get(message_id=gs_id(0)).status == S.DELIVERED


def test_a_batch_of_200_callbacks_takes_a_handful_of_queries(
    db: None, django_assert_max_num_queries: Any
) -> None:
    campaign = submitted(sim_campaign(phones=phones(50, start=100)))
    items = []
    for n, row in enumerate(campaign.recipients.order_by("phone")):
        msg = SentMessage(
            app=DEMO.capi_app,
            gs_id=row.message_id,
            wamid=f"wamid.q{n}",
            destination=row.phone.lstrip("+"),
            wa_id=row.phone.lstrip("+"),
        )
        items += bodies(msg)
    random.Random(3).shuffle(items)
    store(campaign, items)
    events = list(WebhookEvent.objects.select_related("partner_app").order_by("pk"))
    with django_assert_max_num_queries(25), transaction.atomic():
        drain.webhook_events_process_batch(events=events)
    assert set(campaign.recipients.values_list("status", flat=True)) == {S.READ}
    assert StatusEvent.objects.count() == 200


# --- the batch and the one-by-one path agree --------------------------------

SCENARIO = st.lists(
    st.tuples(
        st.integers(0, 2),  # which message
        st.integers(0, 3),  # which of its events
        st.booleans(),  # without gsId (v2, late)
        st.sampled_from(["v2", "v3"]),
    ),
    min_size=1,
    max_size=14,
)


def scenario_bodies(picks: list[tuple[int, int, bool, str]]) -> list[Any]:
    messages = [message(0), message(1, "1002"), message(2)]
    out = []
    for which, step, drop, fmt in picks:
        msg = messages[which]
        events = bodies(msg, fmt, drop_gsid=drop)
        out.append(events[step % len(events)])
    return out


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(picks=SCENARIO, cut=st.integers(1, 14))
def test_batches_of_any_size_agree_with_processing_one_by_one(
    campaign: Campaign, picks: list[tuple[int, int, bool, str]], cut: int
) -> None:
    items = scenario_bodies(picks)
    results = []
    for batched in (False, True):
        savepoint = transaction.savepoint()
        store(campaign, items)
        events = list(WebhookEvent.objects.select_related("partner_app").order_by("pk"))
        if batched:
            for start in range(0, len(events), cut):
                drain.webhook_events_process_batch(events=events[start : start + cut])
        else:
            for event in events:
                webhook_event_process(event=event)
        results.append(outcome())
        transaction.savepoint_rollback(savepoint)
    assert results[1] == results[0]
