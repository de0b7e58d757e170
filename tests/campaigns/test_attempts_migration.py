"""The migration that turns each recipient's history into attempts loses nothing:
run on rows written the way the code before attempts wrote them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from campaigns.models import Recipient, SendAttempt, StatusEvent, WebhookEvent
from gupshup_admin.models import ApiExchange

BEFORE = [
    ("campaigns", "0008_send_attempts"),
    ("gupshup_admin", "0007_exchange_ref_names_attempts"),
]
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def old_schema(transactional_db: None) -> Iterator[Any]:
    """The schema just before the history moves, with its historical models;
    migrated to the latest again afterwards, whatever the test did."""
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(BEFORE)
    try:
        yield executor.loader.project_state(BEFORE).apps
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(latest)


def migrate_to_latest() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_todays_history_becomes_attempts_with_nothing_lost(old_schema: Any) -> None:
    apps = old_schema
    app = apps.get_model("gupshup_admin", "PartnerApp").objects.create(
        name="Shop",
        app_id="947d28b8-459b-4dfe-9d4c-0ac8c6c245c9",
        app_name="Shop",
        source_number="+919643874844",
    )
    media = apps.get_model("media_library", "MediaFile").objects.create(
        original_name="a.png", content_type="image/png", kind="image", size=1,
        sha256="0" * 64, file="media/a.png",
    )  # fmt: skip
    campaign = apps.get_model("campaigns", "Campaign").objects.create(
        name="Sale", partner_app=app, kind="direct", media_file=media
    )
    old_recipient = apps.get_model("campaigns", "Recipient").objects.create
    old_exchange = apps.get_model("gupshup_admin", "ApiExchange").objects.create
    old_event = apps.get_model("campaigns", "StatusEvent").objects.create
    webhook = apps.get_model("campaigns", "WebhookEvent").objects.create(
        partner_app=app, body="{}"
    )

    def exchange(recipient: Any, status: int, at: datetime, answer: str = "") -> Any:
        return old_exchange(
            provider="gupshup", endpoint="v3_message", method="POST", url="https://x",
            status_code=status, outcome="ok" if status == 200 else "error",
            response_body=answer, ref=f"recipient:{recipient.pk}", created_at=at,
            error_message="" if status == 200 else f"HTTP {status}",
        )  # fmt: skip

    # Read: one request, four callbacks.
    read = old_recipient(
        campaign=campaign,
        phone="+919000000001",
        status="read",
        attempts=1,
        message_id="gs-read",
        wamid="wamid.read",
        wa_id="919000000001",
        submitted_at=T0,
    )
    read.exchange = exchange(read, 200, T0, '{"messages": [{"id": "gs-read"}]}')
    read.save()
    for n, status in enumerate(["enqueued", "sent", "delivered", "read"]):
        old_event(
            recipient=read,
            status=status,
            gs_id="gs-read",
            wamid="wamid.read",
            occurred_at=T0 + timedelta(seconds=n + 1),
            webhook_event=webhook,
        )
    # A 500, then accepted on the retry.
    retried = old_recipient(
        campaign=campaign,
        phone="+919000000002",
        status="enqueued",
        attempts=2,
        retries=1,
        message_id="gs-retried",
        submitted_at=T0 + timedelta(minutes=1),
    )
    exchange(retried, 500, T0)
    retried.exchange = exchange(retried, 200, T0 + timedelta(minutes=1))
    retried.save()
    old_event(recipient=retried, status="enqueued", gs_id="gs-retried")
    # Refused at once by Gupshup.
    refused = old_recipient(
        campaign=campaign,
        phone="+919000000003",
        status="failed",
        attempts=1,
        error_code="400",
        error_message="Template Does Not Exist",
    )
    refused.exchange = exchange(refused, 400, T0)
    refused.save()
    # Never sent, and settled by an operator without any exchange.
    old_recipient(campaign=campaign, phone="+919000000004")
    operator = old_recipient(
        campaign=campaign,
        phone="+919000000005",
        status="submitted",
        error_message="Resolved by an operator as submitted.",
    )

    migrate_to_latest()

    def attempts_of(pk: int) -> list[SendAttempt]:
        return list(SendAttempt.objects.filter(recipient_id=pk).order_by("number"))

    (first,) = attempts_of(read.pk)
    assert (first.status, first.message_id, first.wamid) == (
        "read", "gs-read", "wamid.read",
    )  # fmt: skip
    assert first.submitted_at == T0
    assert (first.delivered_at, first.read_at) == (
        T0 + timedelta(seconds=3), T0 + timedelta(seconds=4),
    )  # fmt: skip
    assert first.exchange_id == read.exchange.pk
    assert ApiExchange.objects.get(pk=read.exchange.pk).ref == first.exchange_ref
    assert [e.status for e in first.events.order_by("occurred_at")] == [
        "enqueued", "sent", "delivered", "read",
    ]  # fmt: skip
    assert first.events.filter(webhook_event_id=webhook.pk).count() == 4
    row = Recipient.objects.get(pk=read.pk)
    assert (row.status, row.latest_attempt, row.attempts) == ("read", first, 1)

    refused_500, accepted = attempts_of(retried.pk)
    assert (refused_500.number, refused_500.status, refused_500.error_code) == (
        1, "requeued", "500",
    )  # fmt: skip
    assert (accepted.number, accepted.status, accepted.message_id) == (
        2, "enqueued", "gs-retried",
    )  # fmt: skip
    assert list(accepted.events.values_list("status", flat=True)) == ["enqueued"]
    row = Recipient.objects.get(pk=retried.pk)
    assert (row.latest_attempt, row.attempts) == (accepted, 2)

    (failed,) = attempts_of(refused.pk)
    assert (failed.status, failed.error_code, failed.submitted_at) == (
        "failed", "400", None,
    )  # fmt: skip
    assert failed.failed_at is not None
    assert failed.error_message == "Template Does Not Exist"

    assert attempts_of(operator.pk)[0].status == "submitted"
    assert attempts_of(operator.pk)[0].exchange_id is None
    never = Recipient.objects.get(phone="+919000000004")
    assert (never.attempts, never.latest_attempt) == (0, None)
    assert SendAttempt.objects.count() == 5
    assert not StatusEvent.objects.filter(attempt=None).exists()
    assert WebhookEvent.objects.filter(pk=webhook.pk).exists()
