"""Sender leases per campaign become global slots: a running campaign and its
recipients keep everything, and the tick gives it senders again."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from campaigns.dispatch import slots
from campaigns.lifecycle import tick
from campaigns.models import Campaign, CampaignState, Recipient, SenderSlot

BEFORE = [
    ("campaigns", "0011_refused_callbacks_counted"),
    ("gupshup_admin", "0012_exchange_destination"),
    ("media_library", "0002_public_url_https_only"),
]
T0 = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


@pytest.mark.django_db(transaction=True)
def test_a_running_campaign_keeps_its_rows_and_gets_senders_again(
    monkeypatch: Any,
) -> None:
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(BEFORE)
    try:
        apps = executor.loader.project_state(BEFORE).apps
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
            name="Sale", partner_app=app, kind="direct", media_file=media,
            state="running", started_at=T0,
        )  # fmt: skip
        for n, status in enumerate(["submitted", "sending", "pending"]):
            apps.get_model("campaigns", "Recipient").objects.create(
                campaign=campaign, phone=f"+91900000{n:04d}", status=status
            )
        apps.get_model("campaigns", "SenderLease").objects.create(
            campaign=campaign, slot=0, token="a" * 32, heartbeat_at=T0
        )
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(latest)

    after = Campaign.objects.get(pk=campaign.pk)
    assert (after.state, after.started_at) == (CampaignState.RUNNING, T0)
    assert sorted(Recipient.objects.values_list("status", flat=True)) == [
        "pending",
        "sending",
        "submitted",
    ]
    assert not SenderSlot.objects.exists()  # leases of the old shape are gone
    enqueued: list[tuple[Any, ...]] = []
    monkeypatch.setattr(
        slots, "enqueue_later", lambda task, delay, *a: enqueued.append(a)
    )
    assert tick.campaigns_tick().revived == 1  # the tick gives it a sender
    assert [a[0] for a in enqueued] == list(
        SenderSlot.objects.values_list("slot", flat=True)
    )
