"""Registering an app's delivery callbacks with Gupshup (subscription API)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from gupshup_admin import app_sync
from gupshup_admin.models import ApiExchange
from gupshup_admin.simulator import Simulator
from tests.factories import sim_app


def test_the_callback_is_registered_with_the_secret_in_a_meta_header(
    db: None, settings: Any
) -> None:
    settings.SITE_URL = "https://admin.example.com"
    app = sim_app()
    with Simulator() as sim:
        settings.GUPSHUP_API_BASE = sim.base_url
        url = app_sync.partner_app_register_callback(app=app)
        form = sim.requests("subscription")[0]["form"]
    assert url == f"https://admin.example.com/webhooks/gupshup/{app.pk}/"
    assert form["url"] == url and form["version"] == "2"
    assert "DELIVERED" in form["modes"] and "TEMPLATE" in form["modes"]
    assert app.callback_secret in form["meta"]
    logged = ApiExchange.objects.get(endpoint="subscription")
    assert app.callback_secret not in str(logged.request_body), "secret masked"


def test_the_admin_button_reports_where_callbacks_go(
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
    assert "delivery callbacks now go to" in response.content.decode()
