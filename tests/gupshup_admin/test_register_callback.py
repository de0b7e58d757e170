"""Registering an app's delivery callbacks with Gupshup (subscription API)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from audit.models import AuditAction, AuditEvent
from campaigns.models import RefusedCallback, WebhookEvent
from gupshup_admin import app_sync
from gupshup_admin.models import ApiExchange, PartnerApp
from gupshup_admin.simulator import DEMO, Simulator
from tests.factories import sim_app
from tests.simulator.conftest import Receiver, send_template


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """Stands in for this site's public address."""
    receiver = Receiver()
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


def test_gupshup_receives_the_documented_form_with_meta_headers_and_a_secret_url(
    db: None, settings: Any
) -> None:
    settings.SITE_URL = "https://admin.example.com"
    app = sim_app()
    secret = app.callback_secret
    with Simulator() as sim:
        settings.GUPSHUP_API_BASE = sim.base_url
        shown = app_sync.partner_app_register_callback(app=app)
        [request] = sim.requests("subscription")
        [subscription] = sim.state.subscriptions(DEMO.capi_app.app_id)

    form = request["form"]
    assert set(form) == {"url", "modes", "tag", "version", "meta"}
    assert (
        form["url"] == f"https://admin.example.com/webhooks/gupshup/{app.pk}/{secret}/"
    )
    assert form["modes"].split(",")[:5] == [
        "ENQUEUED",
        "SENT",
        "DELIVERED",
        "READ",
        "FAILED",
    ]
    assert (form["tag"], form["version"]) == ("gupshup-admin", "2")
    assert isinstance(form["meta"], str)  # a JSON string, as the docs show
    assert json.loads(form["meta"]) == {
        "headers": {settings.WEBHOOK_SECRET_HEADER: secret}
    }
    # The simulator read the documented shape: these headers go with callbacks.
    assert subscription.headers == {settings.WEBHOOK_SECRET_HEADER: secret}
    # What the admin is shown and what the audit trail keeps: never the secret.
    assert secret not in shown and shown.startswith(
        f"https://admin.example.com/webhooks/gupshup/{app.pk}/"
    )
    event = AuditEvent.objects.get(action=AuditAction.APP_CALLBACK_REGISTERED)
    assert secret not in event.summary and secret not in json.dumps(event.details)


def test_the_subscription_exchange_row_masks_the_url_secret_and_the_meta_header(
    db: None, settings: Any
) -> None:
    settings.SITE_URL = "https://admin.example.com"
    app = sim_app()
    with Simulator() as sim:
        settings.GUPSHUP_API_BASE = sim.base_url
        app_sync.partner_app_register_callback(app=app)

    row = ApiExchange.objects.get(endpoint="subscription")
    secret = app.callback_secret
    for stored in (row.url, json.dumps(row.request_body), row.response_body):
        assert secret not in stored
        assert secret[:12] not in stored and secret[-12:] not in stored
    assert f"/webhooks/gupshup/{app.pk}/" in row.request_body["url"]
    assert json.loads(row.request_body["meta"])["headers"]  # masked, still there
    assert row.status_code == 200


def test_callbacks_authenticate_by_the_url_alone_and_by_the_header_alone(
    db: None, settings: Any, receiver: Receiver
) -> None:
    settings.SITE_URL = receiver.url.rsplit("/", 1)[0]
    app = sim_app()
    with Simulator() as sim:
        settings.GUPSHUP_API_BASE = sim.base_url
        app_sync.partner_app_register_callback(app=app)
        assert send_template(sim, "919000018888").status_code == 200
        assert sim.wait_for_callbacks(5)
    record = receiver.received[0]
    header = django_settings.WEBHOOK_SECRET_HEADER
    presented = {k.lower(): v for k, v in record["headers"].items()}[header.lower()]
    body = json.dumps(record["body"])
    client = Client()

    by_url = client.post(record["path"], body, content_type="application/json")
    plain = reverse("webhooks:gupshup", args=[app.pk])
    by_header = client.post(
        plain, body, content_type="application/json", headers={header: presented}
    )
    neither = client.post(plain, body, content_type="application/json")

    assert record["path"] == f"/webhooks/gupshup/{app.pk}/{app.callback_secret}/"
    assert (by_url.status_code, by_header.status_code) == (200, 200)
    assert neither.status_code == 403
    assert WebhookEvent.objects.filter(partner_app=app).count() == 2
    assert RefusedCallback.objects.get().count == 1  # the one with neither


def test_the_admin_button_reports_where_callbacks_go_without_the_secret(
    db: None, settings: Any, client: Client
) -> None:
    app = sim_app()
    client.force_login(User.objects.create_superuser("root", "r@example.com", "pw"))
    with Simulator() as sim:
        settings.GUPSHUP_API_BASE = sim.base_url
        response = client.post(
            reverse("admin:gupshup_admin_partnerapp_register_callback", args=[app.pk]),
            follow=True,
        )
    page = response.content.decode()
    assert "delivery callbacks now go to" in page
    assert PartnerApp.objects.get().callback_secret not in page
