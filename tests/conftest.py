"""Shared fixtures: named personas and partner apps (as in healthchecks' hc/test.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses as responses_lib
from django.contrib.auth.models import User

from gupshup_admin.models import CommBoxChannel, PartnerApp, TokenSource

# The fault table (docs/faults.md) and its `fault_table` fixture.
pytest_plugins = ["tests.faults.table"]

APP_ID = "947d28b8-459b-4dfe-9d4c-0ac8c6c245c9"
APP_TOKEN = "sk_711916ad1d5d4f21a9520fdef20516a1"
PARTNER_SECRET = "partner-client-secret-42"
COMMBOX_KEY = "cbx_live_key_0123456789abcdef"
GUPSHUP = "https://gupshup.test"
COMMBOX = "https://commbox.test"


@pytest.fixture
def alice(db: None) -> User:
    """Alice is the admin: superuser."""
    return User.objects.create_superuser(
        "alice", "alice@example.com", "alice-password-1"
    )


@pytest.fixture
def partner_app(db: None) -> PartnerApp:
    """A CAPI app with a pasted app token."""
    app = PartnerApp(
        name="Spring shop",
        app_id=APP_ID,
        app_name="august18",
        source_number="+919643874844",
        is_capi=True,
    )
    app.set_app_token(APP_TOKEN, source=TokenSource.PASTED)
    app.save()
    return app


@pytest.fixture
def partner_app_with_credentials(partner_app: PartnerApp) -> PartnerApp:
    """The same app, also holding partner credentials."""
    partner_app.partner_email = "partner@example.com"
    partner_app.set_partner_secret(PARTNER_SECRET)
    partner_app.save()
    return partner_app


@pytest.fixture
def channel(db: None) -> CommBoxChannel:
    channel = CommBoxChannel(name="Main CommBox", stream_id="Zx81-stream_ID=")
    channel.set_api_key(COMMBOX_KEY)
    channel.save()
    return channel


@pytest.fixture
def mocked() -> Iterator[responses_lib.RequestsMock]:
    """The HTTP boundary, mocked; any unexpected request fails the test."""
    with responses_lib.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps
