"""The drain: statuses of several attempts per recipient, in batches of any
size, give the statuses, wamids, errors and timelines the rules say, in a
handful of queries per batch."""

from __future__ import annotations

import itertools
import json
import random
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns.models import (
    AttemptStatus,
    Campaign,
    Recipient,
    RecipientStatus,
    SendAttempt,
    StatusEvent,
    WebhookEvent,
    WebhookState,
)
from campaigns.statuses import callbacks
from campaigns.statuses.callbacks import webhook_event_process
from campaigns.statuses.machine import status_events_match_parked
from campaigns.statuses.receiving import webhooks_drain
from gupshup_admin.simulator import DEMO
from gupshup_admin.simulator.magic import FAILURES
from gupshup_admin.simulator.payloads import SentMessage
from tests.factories import attempt_sent, phones, sim_campaign
from tests.payloads import message_bodies

NUMBERS = phones(3)


def gs_id(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def message(n: int, failure: str = "", number: int | None = None) -> SentMessage:
    return SentMessage(
        app=DEMO.capi_app,
        gs_id=gs_id(n),
        wamid=f"wamid.batch{n:04d}",
        destination=NUMBERS[n % 3 if number is None else number].lstrip("+"),
        wa_id=NUMBERS[n % 3 if number is None else number].lstrip("+"),
        failure=FAILURES[failure] if failure else None,
    )


bodies = message_bodies


@pytest.fixture
def campaign(db: None) -> Campaign:
    return submitted(sim_campaign(phones=NUMBERS))


def submitted(campaign: Campaign) -> Campaign:
    for n, row in enumerate(campaign.recipients.order_by("phone")):
        attempt_sent(row, message_id=gs_id(n))
    return campaign


def store(campaign: Campaign, items: list[Any]) -> None:
    WebhookEvent.objects.bulk_create(
        WebhookEvent(partner_app=campaign.partner_app, body=json.dumps(body))
        for body in items
    )


def sent_to(n: int) -> SendAttempt:
    return SendAttempt.objects.get(message_id=gs_id(n))


@pytest.mark.parametrize("fmt", ["v2", "v3"])
def test_every_order_drained_as_one_batch_ends_read_with_a_full_timeline(
    campaign: Campaign, fmt: str
) -> None:
    for order in itertools.permutations(bodies(message(0), fmt)):
        StatusEvent.objects.all().delete()
        SendAttempt.objects.update(status=AttemptStatus.SUBMITTED, wamid="")
        Recipient.objects.update(status=RecipientStatus.SUBMITTED)
        store(campaign, [*order, order[0]])  # and one duplicate
        assert webhooks_drain() == 5
        row = sent_to(0)
        assert (row.status, row.wamid) == (RecipientStatus.READ, "wamid.batch0000"), (
            order
        )
        assert row.recipient.status == RecipientStatus.READ
        timeline = list(row.events.values_list("status", flat=True))
        assert timeline == ["enqueued", "sent", "delivered", "read"]
    assert not WebhookEvent.objects.exclude(state=WebhookState.PROCESSED).exists()


def test_a_failure_in_a_batch_is_terminal_and_keeps_the_providers_code(
    campaign: Campaign,
) -> None:
    enqueued, failed = bodies(message(1, "1026"), "v3")
    store(campaign, [failed, enqueued])
    webhooks_drain()
    row = sent_to(1).recipient
    assert (row.status, row.error_code) == (RecipientStatus.FAILED, "131026")
    assert row.error_message == "Message undeliverable"


def test_events_without_gsid_match_by_a_wamid_learned_in_the_same_batch(
    campaign: Campaign,
) -> None:
    enqueued, sent, delivered, read = bodies(message(2), drop_gsid=True)
    store(campaign, [read, delivered, enqueued])
    webhooks_drain()
    row = sent_to(2)
    assert (row.status, row.wamid) == (RecipientStatus.READ, "wamid.batch0002")
    assert not StatusEvent.objects.filter(attempt=None).exists()
    store(campaign, [sent])  # a week later: matched by the remembered wamid
    webhooks_drain()
    assert row.events.count() == 4


def test_an_unknown_send_and_a_parked_event_in_one_batch(campaign: Campaign) -> None:
    SendAttempt.objects.filter(message_id=gs_id(0)).update(
        status=AttemptStatus.UNKNOWN, message_id=""
    )
    Recipient.objects.filter(phone=NUMBERS[0]).update(
        status=RecipientStatus.UNKNOWN, error_message="read timeout"
    )
    unknown_enqueued, *_ = bodies(message(0))
    _, _, delivered, _ = bodies(message(1), drop_gsid=True)
    store(campaign, [unknown_enqueued, delivered, *bodies(message(2))])
    webhooks_drain()
    resolved = Recipient.objects.get(phone=NUMBERS[0])
    assert (resolved.status, resolved.error_message) == (RecipientStatus.ENQUEUED, "")
    assert sent_to(0).recipient == resolved
    assert sent_to(2).status == RecipientStatus.READ
    parked = WebhookEvent.objects.get(state=WebhookState.PARKED)
    assert json.loads(parked.body)["payload"]["type"] == "delivered"
    store(campaign, bodies(message(1))[:1])  # reveals the wamid
    webhooks_drain()
    assert sent_to(1).status == RecipientStatus.DELIVERED
    assert not WebhookEvent.objects.filter(state=WebhookState.PARKED).exists()


def test_a_batch_that_breaks_falls_back_to_one_by_one_and_loses_nothing(
    campaign: Campaign, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**kwargs: object) -> None:
        raise RuntimeError("bug in the batch path")

    monkeypatch.setattr(
        "campaigns.statuses.receiving.webhook_events_process_batch", broken
    )
    store(campaign, [*bodies(message(0)), "{not json"])
    webhooks_drain()
    assert sent_to(0).recipient.status == RecipientStatus.READ
    states = list(WebhookEvent.objects.order_by("pk").values_list("state", flat=True))
    assert states == [WebhookState.PROCESSED] * 4 + [WebhookState.INVALID]


def test_an_attempt_moved_by_someone_else_meanwhile_still_ends_right(
    campaign: Campaign, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = StatusEvent.objects.bulk_create

    def and_another_drain(rows: list[StatusEvent], **kwargs: Any) -> Any:
        # Between this batch's read and its UPDATE another drain moves the rows.
        SendAttempt.objects.filter(message_id=gs_id(0)).update(
            status=RecipientStatus.SENT
        )
        Recipient.objects.filter(phone=NUMBERS[0]).update(status=RecipientStatus.SENT)
        return real(rows, **kwargs)

    monkeypatch.setattr(StatusEvent.objects, "bulk_create", and_another_drain)
    enqueued, _sent, delivered, _ = bodies(message(0))
    store(campaign, [enqueued, delivered])
    webhooks_drain()
    assert sent_to(0).status == RecipientStatus.DELIVERED
    assert sent_to(0).recipient.status == RecipientStatus.DELIVERED


def test_a_batch_of_200_callbacks_takes_a_handful_of_queries(
    db: None, django_assert_max_num_queries: Any
) -> None:
    campaign = submitted(sim_campaign(phones=phones(50, start=100)))
    items = []
    for n, row in enumerate(campaign.recipients.order_by("phone")):
        assert row.latest_attempt is not None
        msg = SentMessage(
            app=DEMO.capi_app,
            gs_id=row.latest_attempt.message_id,
            wamid=f"wamid.q{n}",
            destination=row.phone.lstrip("+"),
            wa_id=row.phone.lstrip("+"),
        )
        items += bodies(msg)
    random.Random(3).shuffle(items)
    store(campaign, items)
    events = list(WebhookEvent.objects.select_related("partner_app").order_by("pk"))
    with django_assert_max_num_queries(25), transaction.atomic():
        callbacks.webhook_events_process_batch(events=events)
    assert set(campaign.recipients.values_list("status", flat=True)) == {
        RecipientStatus.READ
    }
    assert StatusEvent.objects.count() == 200


# --- any batches give what the rules say -------------------------------------
#
# Three recipients; each may be sent again (a new attempt, as a retry makes)
# between callbacks. Message n % 3 goes to recipient n % 3: messages 0-2 are the
# first attempts, 3-5 the second ones. Message 1 and 4 fail asynchronously
# (131049, after enqueued), the others are read.

FAILING = {1, 4}
ORDER = ["submitted", "enqueued", "sent", "delivered", "read"]

Action = tuple[str, int, int, bool, str]  # (kind, message, step, late, format)

SCENARIO = st.lists(
    st.one_of(
        st.tuples(
            st.just("callback"),
            st.integers(0, 5),  # which message
            st.integers(0, 3),  # which of its events
            st.booleans(),  # late: without gsId (v2)
            st.sampled_from(["v2", "v3"]),
        ),
        st.tuples(
            st.just("resend"),
            st.integers(0, 2),  # which recipient
            st.just(0),
            st.just(False),
            st.just(""),
        ),
    ),
    min_size=1,
    max_size=16,
)


def scenario_body(which: int, step: int, late: bool, fmt: str) -> Any:
    msg = message(which, "9049" if which in FAILING else "")
    events = bodies(msg, fmt, drop_gsid=late)
    body = events[step % len(events)]
    if late and fmt == "v2" and body["payload"]["type"] == "failed":
        del body["payload"]["gsId"]  # a failure over a week late
    return body


def play(campaign: Campaign, actions: list[Action], cut: int) -> None:
    """Store and drain the callbacks in batches of `cut`; a resend makes the
    recipient's second attempt (once) and attaches what waited for it, as the
    sender does right after a send."""
    pending: list[Any] = []

    def flush() -> None:
        store(campaign, pending)
        events = list(
            WebhookEvent.objects.filter(state=WebhookState.RECEIVED)
            .select_related("partner_app")
            .order_by("pk")
        )
        for start in range(0, len(events), cut):
            callbacks.webhook_events_process_batch(events=events[start : start + cut])
        pending.clear()

    for kind, which, step, late, fmt in actions:
        if kind == "callback":
            pending.append(scenario_body(which, step, late, fmt))
            continue
        flush()
        row = Recipient.objects.get(phone=NUMBERS[which])
        if row.attempts == 1:
            attempt_sent(row, message_id=gs_id(which + 3))
            status_events_match_parked(message_ids=[gs_id(which + 3)])
    flush()


def expected(actions: list[Action]) -> tuple[list[Any], list[Any]]:
    """What the rules say: per attempt its timeline, status, wamid and error;
    per recipient the status and error of its latest attempt."""
    made = {0, 1, 2}
    seen: dict[int, list[tuple[str, bool, bool]]] = {n: [] for n in range(6)}
    for kind, which, step, late, fmt in actions:
        if kind == "resend":
            made.add(which + 3)
            continue
        body = scenario_body(which, step, late, fmt)
        status, has_gs, has_wamid = _ids(body, fmt)
        seen[which].append((status, has_gs, has_wamid))
    attempts, recipients = [], []
    for n in sorted(made):
        # The wamid is known once a status carrying both ids arrived.
        revealed = any(gs and wamid for _, gs, wamid in seen[n])
        timeline = sorted({s for s, gs, _ in seen[n] if gs or revealed})
        if "failed" in timeline:
            status = "failed"
        else:
            status = max(timeline, key=ORDER.index, default="submitted")
        error = "131049" if status == "failed" else ""
        wamid = f"wamid.batch{n:04d}" if revealed else ""
        attempts.append((n % 3, n // 3 + 1, status, wamid, error, timeline))
    attempts.sort()
    for r in range(3):
        latest = max((a for a in attempts if a[0] == r), key=lambda a: a[1])
        recipients.append((r, latest[1], latest[2], latest[4]))
    return attempts, recipients


def _ids(body: Any, fmt: str) -> tuple[str, bool, bool]:
    if fmt == "v3":
        status = body["entry"][0]["changes"][0]["value"]["statuses"][0]
        return status["status"], True, True
    payload = body["payload"]
    kind = payload["type"]
    if kind == "enqueued":
        return kind, True, True
    return kind, "gsId" in payload, True


def actual() -> tuple[list[Any], list[Any]]:
    index = {phone: n for n, phone in enumerate(NUMBERS)}
    attempts = [
        (
            index[a.recipient.phone],
            a.number,
            a.status,
            a.wamid,
            a.error_code,
            sorted(a.events.values_list("status", flat=True)),
        )
        for a in SendAttempt.objects.select_related("recipient").order_by(
            "recipient__phone", "number"
        )
    ]
    recipients = [
        (index[r.phone], r.attempts, r.status, r.error_code)
        for r in Recipient.objects.order_by("phone")
    ]
    return attempts, recipients


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(actions=SCENARIO, cut=st.integers(1, 16))
def test_batches_of_any_size_give_what_the_rules_say(
    campaign: Campaign, actions: list[Action], cut: int
) -> None:
    savepoint = transaction.savepoint()
    try:
        play(campaign, actions, cut)
        assert actual() == expected(actions)
    finally:
        transaction.savepoint_rollback(savepoint)


def test_one_stored_callback_alone_is_a_batch_of_one(
    campaign: Campaign, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Replays and retried callbacks take the drain's own path."""
    seen: list[int] = []
    real = callbacks.webhook_events_process_batch

    def spy(*, events: Any) -> Any:
        seen.append(len(events))
        return real(events=events)

    monkeypatch.setattr(callbacks, "webhook_events_process_batch", spy)
    store(campaign, bodies(message(0))[:1])
    event = WebhookEvent.objects.get()
    assert webhook_event_process(event=event).applied == 1
    assert seen == [1]
