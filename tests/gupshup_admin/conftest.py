"""Fixtures for the partner-app layer: clients wired to the real exchange recorder."""

from __future__ import annotations

import pytest

from gupshup_admin.exchanges import http_client
from gupshup_admin.models import CommBoxChannel, PartnerApp
from gupshup_admin.providers.commbox import CommBoxClient
from gupshup_admin.providers.gupshup import (
    Caller,
    GupshupAppClient,
    GupshupPartnerClient,
)
from gupshup_admin.services import commbox_client
from tests.conftest import APP_ID, APP_TOKEN, GUPSHUP, PARTNER_SECRET


@pytest.fixture
def retry_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The back-off delays of GET retries, recorded instead of slept."""
    delays: list[float] = []
    monkeypatch.setattr("gupshup_admin.providers.http.time.sleep", delays.append)
    return delays


@pytest.fixture
def app_client(partner_app: PartnerApp) -> GupshupAppClient:
    """The app-level client, recording into ApiExchange like the services do."""
    return GupshupAppClient(
        http_client(),
        GUPSHUP,
        app_id=APP_ID,
        token=APP_TOKEN,
        caller=Caller(partner_app_id=partner_app.pk),
    )


@pytest.fixture
def partner_client(partner_app: PartnerApp) -> GupshupPartnerClient:
    return GupshupPartnerClient(
        http_client(), GUPSHUP, Caller(partner_app_id=partner_app.pk)
    )


@pytest.fixture
def cbx_client(channel: CommBoxChannel) -> CommBoxClient:
    return commbox_client(channel=channel)


@pytest.fixture
def credentials_only_app(db: None) -> PartnerApp:
    """An app with partner credentials and no app token yet."""
    app = PartnerApp(
        name="Autumn shop",
        app_id=APP_ID,
        app_name="autumn01",
        source_number="+919643874844",
        partner_email="partner@example.com",
    )
    app.set_partner_secret(PARTNER_SECRET)
    app.save()
    return app


@pytest.fixture
def bare_app(db: None) -> PartnerApp:
    """An app with neither an app token nor partner credentials."""
    return PartnerApp.objects.create(
        name="Bare shop",
        app_id=APP_ID,
        app_name="bare01",
        source_number="+919643874844",
    )
