"""The migration that starts recording when the client secret was set gives the
secrets already stored an unknown age, not a made-up date."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from gupshup_admin import crypto
from gupshup_admin.models import PartnerApp
from gupshup_admin.secret_ages import AgeState, partner_app_secret_ages
from tests.conftest import APP_ID, PARTNER_SECRET

BEFORE = [("gupshup_admin", "0007_exchange_ref_names_attempts")]


@pytest.fixture
def old_schema(transactional_db: None) -> Iterator[Any]:
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(BEFORE)
    try:
        yield executor.loader.project_state(BEFORE).apps
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(latest)


def test_a_client_secret_stored_before_the_migration_has_an_unknown_age(
    old_schema: Any,
) -> None:
    old_app = old_schema.get_model("gupshup_admin", "PartnerApp").objects.create(
        name="Old shop",
        app_id=APP_ID,
        app_name="old01",
        source_number="+919643874844",
        partner_email="partner@example.com",
        partner_secret_encrypted=crypto.encrypt(PARTNER_SECRET),
        callback_secret_encrypted=crypto.encrypt("callback-secret"),
    )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    app = PartnerApp.objects.get(pk=old_app.pk)
    assert app.partner_secret_set_at is None
    [age] = partner_app_secret_ages(app=app)
    assert (age.name, age.state, age.text) == (
        "partner client secret",
        AgeState.UNKNOWN,
        "set on an unknown date",
    )
