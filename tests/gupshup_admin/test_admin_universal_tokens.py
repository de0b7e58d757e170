"""The app page with Universal Tokens: the token kind, pasted tokens (encrypted,
hints only, expiry read from them), the refusals that lose nothing, minting
settings, the mint button, forgetting them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import responses
from django.contrib.auth.models import User
from django.contrib.messages import constants as levels
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from responses.matchers import header_matcher

from audit.models import AuditEvent
from gupshup_admin.models import PartnerApp, TokenKind, TokenSource
from tests.conftest import APP_TOKEN, PARTNER_SECRET
from tests.gupshup_admin.payloads import (
    PARTNER_ID,
    TOKEN_URL,
    UT_MINT_URL,
    jwt,
    minted_ok,
)
from tests.gupshup_admin.test_admin_partner_apps import (
    ADD_URL,
    app_form,
    button_url,
    change_url,
    page_errors,
    shown_messages,
)

Mock = responses.RequestsMock
NOW = timezone.now()
UT = jwt(exp=NOW + timedelta(days=45), salt="pasted-ut")
UAT = jwt(exp=NOW + timedelta(hours=20), kind="UAT", salt="pasted-uat")


@pytest.fixture
def client(client: Client, alice: User) -> Client:
    client.force_login(alice)
    return client


def universal_form(**overrides: Any) -> dict[str, Any]:
    return app_form(token_kind=TokenKind.UNIVERSAL, **overrides)


def test_pasting_a_universal_token_stores_it_encrypted_with_its_expiry_and_a_hint(
    client: Client,
) -> None:
    response = client.post(ADD_URL, universal_form(new_universal_token=UT))

    assert response.status_code == 302, page_errors(response)
    app = PartnerApp.objects.get()
    assert app.token_kind == TokenKind.UNIVERSAL
    assert (app.universal_token, app.universal_token_source) == (
        UT,
        TokenSource.PASTED,
    )
    assert UT not in app.universal_token_encrypted
    assert app.universal_token_expires_at is not None
    assert abs(app.universal_token_expires_at - (NOW + timedelta(days=45))) < (
        timedelta(seconds=2)
    )
    page = client.get(change_url(app)).content.decode()
    listing = client.get(reverse("admin:gupshup_admin_partnerapp_changelist"))
    assert f"…{UT[-4:]}" in page
    assert "set just now · expires in 44 days" in page
    assert UT not in page and UT not in listing.content.decode()
    event = AuditEvent.objects.get()
    assert event.details == {"secrets": {"Universal Token": f"pasted …{UT[-4:]}"}}


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("new_universal_token", f"Bearer {UT}", "without 'Bearer '"),
        ("new_universal_token", APP_TOKEN, "paste it under 'New app token'"),
        ("new_universal_token", "not-a-token-at-all-123", "is a JWT"),
        (
            "new_universal_token",
            jwt(exp=NOW - timedelta(hours=2)),
            "expired on",
        ),
        ("new_universal_app_token", UT, "is it a Universal Token?"),
        (
            "new_universal_app_token",
            jwt(exp=NOW - timedelta(minutes=5), kind="UAT"),
            "mint a new one",
        ),
    ],
)
def test_a_bad_universal_token_is_refused_on_its_field_and_nothing_is_saved(
    client: Client, partner_app: PartnerApp, field: str, value: str, says: str
) -> None:
    before = PartnerApp.objects.values().get()

    response = client.post(
        change_url(partner_app),
        app_form(token_kind=TokenKind.UNIVERSAL_APP, **{field: value}),
    )

    [message] = page_errors(response)[field]
    assert says in message
    assert PartnerApp.objects.values().get() == before
    assert value not in response.content.decode()


def test_a_universal_kind_without_a_token_or_minting_is_refused(
    client: Client, partner_app: PartnerApp
) -> None:
    response = client.post(change_url(partner_app), universal_form())

    assert "needs a Universal Token" in page_errors(response)["__all__"][0]
    assert PartnerApp.objects.get().token_kind == TokenKind.LEGACY


def test_minting_needs_the_partner_id_and_the_partner_credentials(
    client: Client,
) -> None:
    response = client.post(ADD_URL, universal_form(mint_universal_tokens="on"))

    errors = page_errors(response)
    assert "needs the partner id" in errors["gupshup_partner_id"][0]
    assert "e-mail and client secret" in errors["mint_universal_tokens"][0]
    assert PartnerApp.objects.count() == 0


def test_an_app_minting_its_universal_app_tokens_needs_no_pasted_token(
    client: Client,
) -> None:
    response = client.post(
        ADD_URL,
        app_form(
            token_kind=TokenKind.UNIVERSAL_APP,
            partner_email="partner@example.com",
            new_partner_secret=PARTNER_SECRET,
            gupshup_partner_id=PARTNER_ID,
            mint_universal_tokens="on",
        ),
    )

    assert response.status_code == 302, page_errors(response)
    app = PartnerApp.objects.get()
    assert app.can_mint_universal_token and app.can_refresh_token
    assert not app.has_app_token and app.has_app_credentials


def test_a_form_without_the_token_kind_keeps_the_apps_kind(
    client: Client, partner_app: PartnerApp
) -> None:
    partner_app.token_kind = TokenKind.UNIVERSAL
    partner_app.set_universal_token(UT, source=TokenSource.PASTED, expires_at=None)
    partner_app.save()

    response = client.post(change_url(partner_app), app_form(name="Renamed"))

    assert response.status_code == 302, page_errors(response)
    app = PartnerApp.objects.get()
    assert (app.name, app.token_kind, app.universal_token) == (
        "Renamed",
        TokenKind.UNIVERSAL,
        UT,
    )


def test_forgetting_the_universal_tokens_clears_both_and_is_audited(
    client: Client, partner_app: PartnerApp
) -> None:
    partner_app.set_universal_token(UT, source=TokenSource.PASTED, expires_at=None)
    partner_app.set_universal_app_token(UAT, source=TokenSource.PASTED, expires_at=None)
    partner_app.save()

    response = client.post(
        change_url(partner_app), app_form(clear_universal_tokens="on")
    )

    assert response.status_code == 302, page_errors(response)
    app = PartnerApp.objects.get()
    assert not app.has_universal_token and not app.has_universal_app_token
    assert app.universal_token_expires_at is None
    assert AuditEvent.objects.get().details == {
        "secrets": {"Universal Token": "", "Universal App Token": ""}
    }


def test_the_mint_button_mints_a_universal_app_token_and_shows_only_its_hint(
    client: Client, mocked: Mock, partner_app: PartnerApp
) -> None:
    partner_app.token_kind = TokenKind.UNIVERSAL_APP
    partner_app.set_universal_token(
        UT, source=TokenSource.PASTED, expires_at=NOW + timedelta(days=45)
    )
    partner_app.save()
    minted = jwt(exp=NOW + timedelta(hours=24), kind="UAT", salt="minted")
    mocked.post(
        TOKEN_URL,
        json=minted_ok(minted, NOW + timedelta(hours=24)),
        match=[header_matcher({"Authorization": f"Bearer {UT}"})],
    )

    page = client.get(change_url(partner_app)).content.decode()
    response = client.post(button_url(partner_app, "fetch_token"), follow=True)

    assert "Mint new token" in page and "Fetch app token" not in page
    [(level, text)] = shown_messages(response)
    assert level == levels.SUCCESS
    assert text.startswith(f"Spring shop: minted Universal App Token …{minted[-4:]}")
    html = response.content.decode()
    assert minted not in html and UT not in html
    assert mocked.calls[0].request.url == TOKEN_URL
    assert UT_MINT_URL not in [c.request.url for c in mocked.calls]
