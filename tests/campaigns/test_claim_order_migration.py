"""The claim-order index and the rate bucket's hold come in without touching
a row: a running campaign's recipients (each status) and an app's bucket
(tokens, pause, slowdown) are as they were, the bucket holds nothing, and a
claim afterwards takes the pending rows in order."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from campaigns.dispatch import batch
from campaigns.models import Recipient
from gupshup_admin.models import SendRateBucket

BEFORE = [
    ("campaigns", "0012_sender_slots"),
    ("gupshup_admin", "0012_exchange_destination"),
    ("media_library", "0002_public_url_https_only"),
]
T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


@pytest.mark.django_db(transaction=True)
def test_recipients_and_buckets_keep_their_rows_across_the_indexes_and_the_hold() -> (
    None
):
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
        apps.get_model("gupshup_admin", "SendRateBucket").objects.create(
            app=app, tokens=0.25, refilled_at=T0, paused_until=T0, slowdown=0.5,
            throttled_at=T0, throttle_count=2,
        )  # fmt: skip
        media = apps.get_model("media_library", "MediaFile").objects.create(
            original_name="a.png", content_type="image/png", kind="image", size=1,
            sha256="0" * 64, file="media/a.png",
        )  # fmt: skip
        campaign = apps.get_model("campaigns", "Campaign").objects.create(
            name="Sale", partner_app=app, kind="direct", media_file=media,
            state="running", started_at=T0,
        )  # fmt: skip
        statuses = ["submitted", "sending", "pending", "failed", "pending"]
        for n, status in enumerate(statuses):
            apps.get_model("campaigns", "Recipient").objects.create(
                campaign=campaign, phone=f"+91900000{n:04d}", status=status
            )
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(latest)

    kept = list(Recipient.objects.order_by("pk").values_list("phone", "status"))
    assert kept == [(f"+91900000{n:04d}", s) for n, s in enumerate(statuses)]
    bucket = SendRateBucket.objects.get(app_id=app.pk)
    assert (bucket.tokens, bucket.refilled_at, bucket.paused_until) == (0.25, T0, T0)
    assert (bucket.slowdown, bucket.throttled_at, bucket.throttle_count) == (
        0.5,
        T0,
        2,
    )
    assert bucket.not_before is None
    with connection.cursor() as cursor:
        indexes = connection.introspection.get_constraints(
            cursor, Recipient._meta.db_table
        )
    assert indexes["recipient_claim_order"]["columns"] == [
        "campaign_id",
        "status",
        "id",
    ]
    claimed = batch.recipients_claim(campaign.pk, 5, "claim-a")
    assert [r.phone for r in claimed] == ["+919000000002", "+919000000004"]
