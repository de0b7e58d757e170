"""Universal (App) Tokens end to end against the simulator: minted with the
partner credentials, sent as Bearer, minted again when Gupshup says they expired
and before they lapse."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from gupshup_admin import app_sync
from gupshup_admin.models import HealthStatus, PartnerApp, TokenKind, TokenSource
from gupshup_admin.simulator import DEMO, Simulator, SimulatorConfig


@pytest.fixture
def sim(settings: Any) -> Iterator[Simulator]:
    with Simulator(SimulatorConfig(seed=3)) as simulator:
        settings.GUPSHUP_API_BASE = simulator.base_url
        yield simulator


@pytest.fixture
def app(db: None) -> PartnerApp:
    app = PartnerApp(
        name="Demo shop",
        app_id=DEMO.capi_app.app_id,
        app_name=DEMO.capi_app.app_name,
        source_number=f"+{DEMO.capi_app.source}",
        partner_email=DEMO.partner_email,
        gupshup_partner_id=str(DEMO.partner_id),
        mint_universal_tokens=True,
        token_kind=TokenKind.UNIVERSAL_APP,
    )
    app.set_partner_secret(DEMO.partner_secret)
    app.save()
    return app


def issued(sim: Simulator, kind: str) -> list[dict[str, Any]]:
    return [t for t in sim.universal_tokens() if t["kind"] == kind]


def bearer_of_last(sim: Simulator, endpoint: str) -> str:
    headers = sim.requests(endpoint)[-1]["headers"]
    assert "Token" not in headers  # no legacy header beside the Bearer one
    return str(headers["Authorization"])


def test_an_app_on_universal_app_tokens_mints_sends_and_refreshes_them(
    sim: Simulator, app: PartnerApp
) -> None:
    report = app_sync.partner_app_check_health(app=app)

    assert report.healthy, report.message
    app.refresh_from_db()
    assert (len(issued(sim, "UT")), len(issued(sim, "UAT"))) == (1, 1)
    assert bearer_of_last(sim, "health") == f"Bearer {app.universal_app_token}"
    assert app.universal_app_token_source == TokenSource.MINTED
    assert app.universal_token_expires_at is not None
    assert app.universal_token_expires_at - timezone.now() > timedelta(days=59)

    # Gupshup lets both lapse: the 401 mints a new UT, then a new UAT, once.
    sim.expire_universal_tokens()
    app_sync.partner_app_sync_templates(app=app)

    app.refresh_from_db()
    assert (len(issued(sim, "UT")), len(issued(sim, "UAT"))) == (2, 2)
    assert [r["status"] for r in sim.requests("templates")] == [401, 200]
    assert [r["status"] for r in sim.requests("universal_app_token")] == [
        200,
        401,
        200,
    ]
    assert bearer_of_last(sim, "templates") == f"Bearer {app.universal_app_token}"
    assert app.health_status == HealthStatus.HEALTHY

    # Ten minutes left: minted again before the next call, no 401 needed.
    PartnerApp.objects.filter(pk=app.pk).update(
        universal_app_token_expires_at=timezone.now() + timedelta(minutes=10)
    )
    app.refresh_from_db()
    before = app.universal_app_token
    app_sync.partner_app_sync_templates(app=app)

    app.refresh_from_db()
    assert app.universal_app_token != before
    assert len(issued(sim, "UAT")) == 3 and len(issued(sim, "UT")) == 2
    assert [r["status"] for r in sim.requests("templates")] == [401, 200, 200]


def test_an_app_on_a_universal_token_sends_it_to_every_call(
    sim: Simulator, app: PartnerApp
) -> None:
    app.token_kind = TokenKind.UNIVERSAL
    app.save()

    assert app_sync.partner_app_check_health(app=app).healthy
    app_sync.partner_app_sync_templates(app=app)

    app.refresh_from_db()
    assert issued(sim, "UAT") == []
    for endpoint in ("health", "waba_info", "wallet_balance", "templates"):
        assert bearer_of_last(sim, endpoint) == f"Bearer {app.universal_token}"


def test_minting_the_partner_has_not_been_given_leaves_the_app_unhealthy_saying_so(
    sim: Simulator, app: PartnerApp
) -> None:
    sim.configure(universal_minting=False)

    report = app_sync.partner_app_check_health(app=app)

    assert report.healthy is False
    assert "Universal Token minting is not enabled for this partner" in report.message
    app.refresh_from_db()
    assert app.health_status == HealthStatus.UNHEALTHY
    assert not app.has_universal_token and app.partner_secret == DEMO.partner_secret
