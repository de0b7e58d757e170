"""The callbacks refused before they were counted become counters, nothing else
changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from campaigns.models import RefusedCallback, WebhookEvent

BEFORE = [
    ("campaigns", "0010_attempts_own_the_history"),
    ("gupshup_admin", "0007_exchange_ref_names_attempts"),
]
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.mark.django_db(transaction=True)
def test_refused_rows_become_one_counter_per_app_source_and_reason() -> None:
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
        old = apps.get_model("campaigns", "WebhookEvent").objects.create
        for n in range(3):
            old(partner_app=app, state="rejected", error="wrong secret",
                remote_addr="203.0.113.9", body=f"try {n}",
                received_at=T0 + timedelta(minutes=n))  # fmt: skip
        old(state="rejected", error="no partner app 77", remote_addr="203.0.113.9",
            body="?", received_at=T0)  # fmt: skip
        kept = old(partner_app=app, body="{}", state="processed")
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(latest)

    counters = {
        (r.app_number, r.reason): (r.count, r.sample_body, r.first_at, r.last_at)
        for r in RefusedCallback.objects.all()
    }
    assert counters == {
        (app.pk, "wrong secret"): (3, "try 2", T0, T0 + timedelta(minutes=2)),
        (0, "no such partner app"): (1, "?", T0, T0),
    }
    assert list(WebhookEvent.objects.values_list("pk", flat=True)) == [kept.pk]
