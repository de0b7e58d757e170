"""The token store's Universal side: Universal Tokens and Universal App Tokens
sent as Bearer, minted with the partner credentials, minted again before they
lapse or once after a 401, shared between apps of one partner, masked in rows."""

from __future__ import annotations

import runpy
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import pytest
import responses
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from responses.matchers import header_matcher

from audit.models import AuditAction, AuditEvent
from gupshup_admin import app_sync, services
from gupshup_admin.exceptions import ApplicationError
from gupshup_admin.models import (
    ApiExchange,
    HealthStatus,
    PartnerApp,
    TokenKind,
    TokenSource,
)
from gupshup_admin.providers.errors import AuthenticationError
from gupshup_admin.providers.gupshup_types import parse_minted_token
from gupshup_admin.secret_ages import AgeState, partner_app_secret_ages
from tests.conftest import APP_TOKEN, PARTNER_SECRET
from tests.gupshup_admin.payloads import (
    APP_URL,
    PARTNER_ID,
    TOKEN_URL,
    UT_MINT_URL,
    error,
    health_ok,
    jwt,
    minted_ok,
    templates_ok,
)

Mock = responses.RequestsMock
NOW = timezone.now()
UT_1 = jwt(exp=NOW + timedelta(days=60), salt="ut-1")
UT_2 = jwt(exp=NOW + timedelta(days=60), salt="ut-2")
UAT_1 = jwt(exp=NOW + timedelta(hours=24), kind="UAT", salt="uat-1")
UAT_2 = jwt(exp=NOW + timedelta(hours=24), kind="UAT", salt="uat-2")


def fresh(app: PartnerApp) -> PartnerApp:
    return PartnerApp.objects.get(pk=app.pk)


def bearer(token: str) -> list[Any]:
    return [header_matcher({"Authorization": f"Bearer {token}"})]


def calls_to(mocked: Mock, url: str, method: str = "POST") -> list[Any]:
    return [
        c.request
        for c in mocked.calls
        if c.request.url == url and c.request.method == method
    ]


def form(request: Any) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.body).items()}


def minting(app: PartnerApp, kind: str) -> PartnerApp:
    app.token_kind = kind
    app.gupshup_partner_id = PARTNER_ID
    app.mint_universal_tokens = True
    app.set_app_token("", source=TokenSource.NONE)
    app.save()
    return app


@pytest.fixture
def ut_app(partner_app_with_credentials: PartnerApp) -> PartnerApp:
    """Universal Token kind, minted with the partner credentials; none yet."""
    return minting(partner_app_with_credentials, TokenKind.UNIVERSAL)


@pytest.fixture
def uat_app(partner_app_with_credentials: PartnerApp) -> PartnerApp:
    """Universal App Token kind, minting on; no token yet."""
    return minting(partner_app_with_credentials, TokenKind.UNIVERSAL_APP)


def store_ut(app: PartnerApp, token: str, expires: datetime, source: str) -> None:
    app.set_universal_token(token, source=source, expires_at=expires)
    app.save()


def store_uat(app: PartnerApp, token: str, expires: datetime, source: str) -> None:
    app.set_universal_app_token(token, source=source, expires_at=expires)
    app.save()


# --- a Universal Token -----------------------------------------------------------


def test_a_pasted_universal_token_is_sent_as_bearer_and_nothing_is_minted(
    mocked: Mock, partner_app: PartnerApp
) -> None:
    partner_app.token_kind = TokenKind.UNIVERSAL
    store_ut(partner_app, UT_1, NOW + timedelta(days=30), TokenSource.PASTED)
    mocked.get(f"{APP_URL}/health", json=health_ok(), match=bearer(UT_1))

    services.with_app_client(app=partner_app, user_id=None, call=lambda c: c.health())

    request = mocked.calls[0].request
    assert request.headers["Authorization"] == f"Bearer {UT_1}"
    assert "token" not in request.headers  # the sk_ token stays home
    assert len(mocked.calls) == 1


def test_a_universal_token_is_minted_with_the_partner_credentials_when_none_is_stored(
    mocked: Mock, ut_app: PartnerApp
) -> None:
    expires = NOW + timedelta(days=60)
    mocked.post(UT_MINT_URL, json=minted_ok(UT_1, expires))
    mocked.get(f"{APP_URL}/health", json=health_ok(), match=bearer(UT_1))

    services.with_app_client(app=ut_app, user_id=None, call=lambda c: c.health())

    [mint] = calls_to(mocked, UT_MINT_URL)
    sent = form(mint)
    assert (sent["email"], sent["clientSecret"]) == (
        "partner@example.com",
        PARTNER_SECRET,
    )
    assert sent["name"].startswith("gupshup-admin-")
    assert "Authorization" not in mint.headers
    app = fresh(ut_app)
    assert app.universal_token == UT_1
    assert UT_1 not in app.universal_token_encrypted
    assert app.universal_token_source == TokenSource.MINTED
    assert app.universal_token_hint == f"…{UT_1[-4:]}"
    assert app.universal_token_expires_at is not None
    assert abs(app.universal_token_expires_at - expires) < timedelta(seconds=1)
    event = AuditEvent.objects.get()
    assert event.action == AuditAction.APP_TOKEN_FETCHED
    assert event.details == {"secrets": {"Universal Token": f"minted …{UT_1[-4:]}"}}


def test_the_mint_exchange_rows_hold_neither_the_client_secret_nor_the_token(
    mocked: Mock, uat_app: PartnerApp
) -> None:
    # Not JWT-shaped: masked because of where it is, not what it looks like.
    odd_ut, odd_uat = "ut-not-a-jwt-9q8w7e6r5t4y", "uat-not-a-jwt-1a2s3d4f5g"
    mocked.post(UT_MINT_URL, json=minted_ok(odd_ut, NOW + timedelta(days=60)))
    mocked.post(TOKEN_URL, json=minted_ok(odd_uat, NOW + timedelta(hours=24)))
    mocked.get(f"{APP_URL}/health", json=health_ok(), match=bearer(odd_uat))

    services.with_app_client(app=uat_app, user_id=None, call=lambda c: c.health())

    rows = str(list(ApiExchange.objects.values()))
    for secret in (PARTNER_SECRET, odd_ut, odd_uat):
        assert secret not in rows
    endpoints = list(
        ApiExchange.objects.order_by("id").values_list("endpoint", flat=True)
    )
    assert endpoints == ["universal_token", "universal_app_token", "health"]


def test_a_universal_token_far_from_its_expiry_is_reused_without_minting(
    mocked: Mock, ut_app: PartnerApp
) -> None:
    store_ut(ut_app, UT_1, NOW + timedelta(days=8), TokenSource.MINTED)
    mocked.get(f"{APP_URL}/health", json=health_ok(), match=bearer(UT_1))

    services.with_app_client(app=ut_app, user_id=None, call=lambda c: c.health())

    assert calls_to(mocked, UT_MINT_URL) == []


def test_a_minted_universal_token_is_minted_again_before_it_lapses(
    mocked: Mock, ut_app: PartnerApp, settings: Any
) -> None:
    settings.UNIVERSAL_TOKEN_REFRESH_DAYS = 7
    store_ut(ut_app, UT_1, NOW + timedelta(days=6), TokenSource.MINTED)
    mocked.post(UT_MINT_URL, json=minted_ok(UT_2, NOW + timedelta(days=60)))
    mocked.get(f"{APP_URL}/health", json=health_ok(), match=bearer(UT_2))

    services.with_app_client(app=ut_app, user_id=None, call=lambda c: c.health())

    assert fresh(ut_app).universal_token == UT_2
    assert len(calls_to(mocked, UT_MINT_URL)) == 1


def test_a_failed_mint_keeps_using_the_stored_token_until_it_lapses(
    mocked: Mock, ut_app: PartnerApp
) -> None:
    store_ut(ut_app, UT_1, NOW + timedelta(days=2), TokenSource.MINTED)
    mocked.post(UT_MINT_URL, status=429, json=error("Too Many Requests"))
    mocked.get(f"{APP_URL}/health", json=health_ok(), match=bearer(UT_1))

    services.with_app_client(app=ut_app, user_id=None, call=lambda c: c.health())

    assert fresh(ut_app).universal_token == UT_1
    assert ApiExchange.objects.filter(endpoint="universal_token", status_code=429)


def test_minting_gupshup_has_not_enabled_is_refused_in_its_words_and_loses_nothing(
    mocked: Mock, ut_app: PartnerApp
) -> None:
    refusal = "Universal Token minting is not enabled for this partner"
    mocked.post(UT_MINT_URL, status=403, json=error(refusal))

    report = app_sync.partner_app_check_health(app=ut_app)

    assert report.healthy is False
    assert refusal in report.message
    app = fresh(ut_app)
    assert app.health_status == HealthStatus.UNHEALTHY
    assert app.partner_secret == PARTNER_SECRET and not app.has_universal_token
    assert ApiExchange.objects.get().status_code == 403  # the row was kept


def test_a_pasted_universal_token_that_cannot_be_minted_again_is_used_until_it_lapses(
    mocked: Mock, partner_app: PartnerApp
) -> None:
    partner_app.token_kind = TokenKind.UNIVERSAL
    store_ut(partner_app, UT_1, NOW + timedelta(days=2), TokenSource.PASTED)
    mocked.get(f"{APP_URL}/health", json=health_ok(), match=bearer(UT_1))

    services.with_app_client(app=partner_app, user_id=None, call=lambda c: c.health())
    [age] = [
        a for a in partner_app_secret_ages(app=partner_app) if "Universal" in a.name
    ]
    assert age.state == AgeState.EXPIRING
    assert "paste a new Universal Token" in age.advice

    store_ut(partner_app, UT_1, NOW - timedelta(minutes=1), TokenSource.PASTED)
    with pytest.raises(ApplicationError, match="expired on") as caught:
        services.partner_app_credential(app=fresh(partner_app))
    assert "mint Universal Tokens" in str(caught.value)
    assert len(mocked.calls) == 1  # no request with an expired token


def test_a_401_on_a_universal_token_mints_a_new_one_once_and_retries(
    mocked: Mock, ut_app: PartnerApp
) -> None:
    store_ut(ut_app, UT_1, NOW + timedelta(days=30), TokenSource.MINTED)
    refused = error("Authentication Failed")
    mocked.get(f"{APP_URL}/templates", status=401, json=refused, match=bearer(UT_1))
    mocked.post(UT_MINT_URL, json=minted_ok(UT_2, NOW + timedelta(days=60)))
    mocked.get(f"{APP_URL}/templates", json=templates_ok(), match=bearer(UT_2))

    app_sync.partner_app_sync_templates(app=ut_app)

    assert fresh(ut_app).universal_token == UT_2
    assert fresh(ut_app).health_status == HealthStatus.UNKNOWN


def test_a_second_401_with_a_universal_token_marks_the_app_unhealthy(
    mocked: Mock, ut_app: PartnerApp
) -> None:
    store_ut(ut_app, UT_1, NOW + timedelta(days=30), TokenSource.MINTED)
    refused = error("Authentication Failed")
    mocked.get(f"{APP_URL}/templates", status=401, json=refused)
    mocked.post(UT_MINT_URL, json=minted_ok(UT_2, NOW + timedelta(days=60)))

    with pytest.raises(AuthenticationError):
        app_sync.partner_app_sync_templates(app=ut_app)

    assert len(calls_to(mocked, f"{APP_URL}/templates", "GET")) == 2
    assert fresh(ut_app).health_status == HealthStatus.UNHEALTHY


def test_a_401_on_a_pasted_universal_token_that_cannot_be_minted_fails_at_once(
    mocked: Mock, partner_app: PartnerApp
) -> None:
    partner_app.token_kind = TokenKind.UNIVERSAL
    store_ut(partner_app, UT_1, NOW + timedelta(days=30), TokenSource.PASTED)
    mocked.get(f"{APP_URL}/templates", status=401, json=error("Unauthorized Access"))

    with pytest.raises(AuthenticationError):
        app_sync.partner_app_sync_templates(app=partner_app)

    assert fresh(partner_app).health_status == HealthStatus.UNHEALTHY
    assert len(mocked.calls) == 1


def test_a_fresh_universal_token_of_another_app_of_the_partner_is_shared_not_minted(
    mocked: Mock, ut_app: PartnerApp
) -> None:
    sister = PartnerApp(
        name="Autumn shop",
        app_id="0f0f0f0f-1111-4222-8333-444455556666",
        app_name="autumn01",
        source_number="+919643874845",
        partner_email="Partner@Example.com",
        gupshup_partner_id=PARTNER_ID,
        token_kind=TokenKind.UNIVERSAL,
    )
    sister.set_partner_secret(PARTNER_SECRET)
    sister.set_universal_token(
        UT_1, source=TokenSource.MINTED, expires_at=NOW + timedelta(days=50)
    )
    sister.save()
    mocked.get(f"{APP_URL}/health", json=health_ok(), match=bearer(UT_1))

    services.with_app_client(app=ut_app, user_id=None, call=lambda c: c.health())

    assert calls_to(mocked, UT_MINT_URL) == []  # Gupshup allows 3 active per admin
    app = fresh(ut_app)
    assert app.universal_token == UT_1
    assert app.universal_token_expires_at == sister.universal_token_expires_at
    assert "shared" in AuditEvent.objects.get().summary


# --- a Universal App Token -------------------------------------------------------


def test_a_universal_app_token_is_minted_with_the_universal_token_and_sent_as_bearer(
    mocked: Mock, uat_app: PartnerApp
) -> None:
    mocked.post(UT_MINT_URL, json=minted_ok(UT_1, NOW + timedelta(days=60)))
    mocked.post(
        TOKEN_URL, json=minted_ok(UAT_1, NOW + timedelta(hours=24)), match=bearer(UT_1)
    )
    mocked.get(f"{APP_URL}/health", json=health_ok(), match=bearer(UAT_1))

    services.with_app_client(app=uat_app, user_id=None, call=lambda c: c.health())

    [mint] = calls_to(mocked, TOKEN_URL)
    assert form(mint)["name"].startswith("gupshup-admin-")
    app = fresh(uat_app)
    assert (app.universal_app_token, app.universal_app_token_source) == (
        UAT_1,
        TokenSource.MINTED,
    )
    assert app.universal_app_token_expires_at is not None
    assert (
        timedelta(hours=23)
        < app.universal_app_token_expires_at - NOW
        < timedelta(hours=25)
    )
    assert [e.details["secrets"] for e in AuditEvent.objects.order_by("id")] == [
        {"Universal Token": f"minted …{UT_1[-4:]}"},
        {"Universal App Token": f"minted …{UAT_1[-4:]}"},
    ]


def test_a_universal_app_token_is_minted_again_before_it_lapses(
    mocked: Mock, uat_app: PartnerApp, settings: Any
) -> None:
    settings.UNIVERSAL_APP_TOKEN_REFRESH_MINUTES = 30
    store_ut(uat_app, UT_1, NOW + timedelta(days=30), TokenSource.PASTED)
    store_uat(uat_app, UAT_1, NOW + timedelta(minutes=20), TokenSource.MINTED)
    mocked.post(
        TOKEN_URL, json=minted_ok(UAT_2, NOW + timedelta(hours=24)), match=bearer(UT_1)
    )
    mocked.get(f"{APP_URL}/health", json=health_ok(), match=bearer(UAT_2))

    services.with_app_client(app=uat_app, user_id=None, call=lambda c: c.health())

    assert fresh(uat_app).universal_app_token == UAT_2
    assert calls_to(mocked, UT_MINT_URL) == []  # the stored UT was fresh


def test_a_401_on_a_universal_app_token_mints_a_new_one_once_and_retries(
    mocked: Mock, uat_app: PartnerApp
) -> None:
    store_ut(uat_app, UT_1, NOW + timedelta(days=30), TokenSource.MINTED)
    store_uat(uat_app, UAT_1, NOW + timedelta(hours=20), TokenSource.MINTED)
    refused = error("Authentication Failed")
    mocked.get(f"{APP_URL}/health", status=401, json=refused, match=bearer(UAT_1))
    mocked.post(TOKEN_URL, json=minted_ok(UAT_2, NOW + timedelta(hours=24)))
    mocked.get(f"{APP_URL}/health", json=health_ok(), match=bearer(UAT_2))

    services.with_app_client(app=uat_app, user_id=None, call=lambda c: c.health())

    assert fresh(uat_app).universal_app_token == UAT_2


def test_a_universal_token_refused_while_minting_an_app_token_is_minted_again_once(
    mocked: Mock, uat_app: PartnerApp
) -> None:
    store_ut(uat_app, UT_1, NOW + timedelta(days=30), TokenSource.MINTED)
    refused = error("Unauthorized Access")
    mocked.post(TOKEN_URL, status=401, json=refused, match=bearer(UT_1))
    mocked.post(UT_MINT_URL, json=minted_ok(UT_2, NOW + timedelta(days=60)))
    mocked.post(
        TOKEN_URL, json=minted_ok(UAT_1, NOW + timedelta(hours=24)), match=bearer(UT_2)
    )
    mocked.get(f"{APP_URL}/health", json=health_ok(), match=bearer(UAT_1))

    services.with_app_client(app=uat_app, user_id=None, call=lambda c: c.health())

    app = fresh(uat_app)
    assert (app.universal_token, app.universal_app_token) == (UT_2, UAT_1)


def test_a_pasted_universal_app_token_alone_is_used_then_refused_clearly_once_lapsed(
    mocked: Mock, partner_app: PartnerApp
) -> None:
    partner_app.token_kind = TokenKind.UNIVERSAL_APP
    store_uat(partner_app, UAT_1, NOW + timedelta(hours=3), TokenSource.PASTED)
    mocked.get(f"{APP_URL}/health", json=health_ok(), match=bearer(UAT_1))
    services.with_app_client(app=partner_app, user_id=None, call=lambda c: c.health())

    store_uat(partner_app, UAT_1, NOW - timedelta(seconds=1), TokenSource.PASTED)
    report = app_sync.partner_app_check_health(app=fresh(partner_app))

    assert report.healthy is False
    assert "Universal App Token" in report.message and "expired on" in report.message
    assert "store a Universal Token" in report.message
    assert len(mocked.calls) == 1


def test_the_refresh_button_service_mints_a_new_app_token_and_says_until_when(
    mocked: Mock, uat_app: PartnerApp
) -> None:
    store_ut(uat_app, UT_1, NOW + timedelta(days=30), TokenSource.MINTED)
    store_uat(uat_app, UAT_1, NOW + timedelta(hours=20), TokenSource.MINTED)
    expires = NOW + timedelta(hours=24)
    mocked.post(TOKEN_URL, json=minted_ok(UAT_2, expires), match=bearer(UT_1))

    said = services.partner_app_refresh_token(app=uat_app)

    assert said.startswith(f"minted Universal App Token …{UAT_2[-4:]}, valid until ")
    assert fresh(uat_app).universal_app_token == UAT_2


def test_a_legacy_app_keeps_sending_its_sk_token_raw_in_both_headers(
    mocked: Mock, partner_app: PartnerApp
) -> None:
    mocked.get(f"{APP_URL}/health", json=health_ok())

    services.with_app_client(app=partner_app, user_id=None, call=lambda c: c.health())

    headers = mocked.calls[0].request.headers
    assert (headers["token"], headers["Authorization"]) == (APP_TOKEN, APP_TOKEN)


# --- the mint answer -------------------------------------------------------------


def test_a_mint_answer_is_read_nested_or_flat_and_without_an_expiry_from_the_jwt() -> (
    None
):
    expires = NOW + timedelta(hours=5)
    nested = parse_minted_token(minted_ok(UAT_1, expires))
    flat = parse_minted_token({"status": "success", "token": UT_1})
    seconds = parse_minted_token({"token": UT_2, "expiresOn": 1_900_000_000})

    assert (nested.token, nested.expires_on) == (
        UAT_1,
        int(expires.timestamp() * 1000),
    )
    assert flat.token == UT_1
    assert flat.expires_on == int((NOW + timedelta(days=60)).timestamp()) * 1000
    assert seconds.expires_on == 1_900_000_000_000
    assert "eyJ" not in repr(nested)


# --- settings ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("UNIVERSAL_TOKEN_REFRESH_DAYS", "60", "must be less than 60 (days"),
        ("UNIVERSAL_TOKEN_REFRESH_DAYS", "a week", "must be a whole number"),
        ("UNIVERSAL_APP_TOKEN_REFRESH_MINUTES", "90", "less than 60 (minutes"),
        ("UNIVERSAL_APP_TOKEN_REFRESH_MINUTES", "-5", "must be 0 or more"),
    ],
)
def test_a_bad_refresh_setting_raises_improperly_configured_naming_it(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, says: str
) -> None:
    monkeypatch.setenv("ENV_FILE", "")
    monkeypatch.setenv(name, value)
    path = django_settings.BASE_DIR / "gupshup_admin" / "settings.py"

    with pytest.raises(ImproperlyConfigured, match=name) as caught:
        runpy.run_path(str(path))
    assert says in str(caught.value)


def test_the_refresh_settings_default_to_a_week_and_half_an_hour() -> None:
    assert (
        django_settings.UNIVERSAL_TOKEN_REFRESH_DAYS,
        django_settings.UNIVERSAL_APP_TOKEN_REFRESH_MINUTES,
    ) == (7, 30)
