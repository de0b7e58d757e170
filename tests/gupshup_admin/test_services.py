"""Partner-app services: tokens, the 401 refresh, health checks, template sync."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest
import requests
import responses
from django.db.models import F
from django.utils import timezone
from responses.matchers import header_matcher

from gupshup_admin import app_sync, services
from gupshup_admin.exceptions import ApplicationError
from gupshup_admin.models import (
    ApiExchange,
    HealthStatus,
    PartnerApp,
    Template,
    TokenSource,
)
from gupshup_admin.providers.errors import AuthenticationError, PartnerLoginError
from gupshup_admin.simulator import DEMO, Simulator
from tests.conftest import APP_TOKEN, PARTNER_SECRET
from tests.factories import sim_app
from tests.gupshup_admin.payloads import (
    APP_URL,
    FETCHED_TOKEN,
    LOGIN_URL,
    ORDER_UPDATE,
    PARTNER_JWT,
    SPRING_SALE,
    TOKEN_URL,
    app_token_ok,
    error,
    health_ok,
    login_ok,
    template_item,
    templates_ok,
    waba_info_ok,
    wallet_ok,
)

Mock = responses.RequestsMock
WITH_PASTED = [header_matcher({"token": APP_TOKEN})]
WITH_FETCHED = [header_matcher({"token": FETCHED_TOKEN})]


def fresh(app: PartnerApp) -> PartnerApp:
    return PartnerApp.objects.get(pk=app.pk)


def calls_to(mocked: Mock, url: str) -> int:
    return sum(1 for call in mocked.calls if call.request.url == url)


def mock_healthy_app(mocked: Mock, **match: Any) -> None:
    mocked.get(f"{APP_URL}/health", json=health_ok(), **match)
    mocked.get(f"{APP_URL}/waba/info", json=waba_info_ok(), **match)
    mocked.get(f"{APP_URL}/wallet/balance", json=wallet_ok(12.5, "USD"), **match)


# --- tokens ----------------------------------------------------------------------


def test_a_pasted_token_is_used_as_is(mocked: Mock, partner_app: PartnerApp) -> None:
    mocked.get(f"{APP_URL}/templates", json=templates_ok(), match=WITH_PASTED)

    assert services.partner_app_token(app=partner_app) == APP_TOKEN
    app_sync.partner_app_sync_templates(app=partner_app)

    assert len(mocked.calls) == 1  # no login, no token fetch


def test_an_app_with_only_partner_credentials_logs_in_and_fetches_its_token(
    mocked: Mock, credentials_only_app: PartnerApp, settings: Any
) -> None:
    settings.PARTNER_TOKEN_TTL_HOURS = 5
    mocked.post(LOGIN_URL, json=login_ok())
    mocked.get(
        TOKEN_URL,
        json=app_token_ok(),
        match=[header_matcher({"Authorization": PARTNER_JWT})],
    )

    token = services.partner_app_token(app=credentials_only_app)

    assert token == FETCHED_TOKEN
    app = fresh(credentials_only_app)
    assert app.app_token == FETCHED_TOKEN
    assert app.app_token_source == TokenSource.FETCHED
    assert app.app_token_hint == "sk_…b7a6"
    assert PARTNER_JWT not in app.partner_token_encrypted  # cached, encrypted
    assert app.partner_token() == PARTNER_JWT
    assert app.partner_token_expires_at is not None
    expected_expiry = timezone.now() + timedelta(hours=5)
    assert abs(app.partner_token_expires_at - expected_expiry) < timedelta(minutes=1)


def test_a_cached_partner_jwt_is_reused_for_the_next_token_fetch(
    mocked: Mock, credentials_only_app: PartnerApp
) -> None:
    mocked.post(LOGIN_URL, json=login_ok())
    mocked.get(TOKEN_URL, json=app_token_ok())

    services.partner_app_fetch_token(app=credentials_only_app)
    services.partner_app_fetch_token(app=fresh(credentials_only_app))

    assert calls_to(mocked, LOGIN_URL) == 1
    assert calls_to(mocked, TOKEN_URL) == 2
    assert all(
        call.request.headers["Authorization"] == PARTNER_JWT
        for call in mocked.calls
        if call.request.url == TOKEN_URL
    )


def test_a_partner_jwt_older_than_its_ttl_triggers_a_new_login(
    mocked: Mock, credentials_only_app: PartnerApp, settings: Any
) -> None:
    settings.PARTNER_TOKEN_TTL_HOURS = 22
    second_jwt = PARTNER_JWT.replace("c2lnbmF0dXJl", "bmV3LXNpZ25h")
    mocked.post(LOGIN_URL, json=login_ok())
    mocked.post(LOGIN_URL, json=login_ok(second_jwt))
    mocked.get(TOKEN_URL, json=app_token_ok())

    services.partner_app_fetch_token(app=credentials_only_app)
    # 22 hours and a minute pass: the cached JWT is now older than its TTL.
    PartnerApp.objects.filter(pk=credentials_only_app.pk).update(
        partner_token_expires_at=F("partner_token_expires_at")
        - timedelta(hours=22, minutes=1)
    )
    services.partner_app_fetch_token(app=fresh(credentials_only_app))

    assert calls_to(mocked, LOGIN_URL) == 2
    token_calls = [c.request for c in mocked.calls if c.request.url == TOKEN_URL]
    assert [r.headers["Authorization"] for r in token_calls] == [
        PARTNER_JWT,
        second_jwt,
    ]
    assert fresh(credentials_only_app).partner_token() == second_jwt


def test_a_401_with_credentials_refreshes_the_token_once_and_retries(
    mocked: Mock, partner_app_with_credentials: PartnerApp
) -> None:
    app = partner_app_with_credentials
    refused = error("Authentication Failed")
    mocked.get(f"{APP_URL}/templates", status=401, json=refused, match=WITH_PASTED)
    mocked.post(LOGIN_URL, json=login_ok())
    mocked.get(TOKEN_URL, json=app_token_ok())
    mocked.get(
        f"{APP_URL}/templates", json=templates_ok(SPRING_SALE), match=WITH_FETCHED
    )

    result = app_sync.partner_app_sync_templates(app=app)

    assert result.created == 1
    assert [c.request.url for c in mocked.calls] == [
        f"{APP_URL}/templates",
        LOGIN_URL,
        TOKEN_URL,
        f"{APP_URL}/templates",
    ]
    assert fresh(app).app_token == FETCHED_TOKEN
    assert fresh(app).health_status == HealthStatus.UNKNOWN


def test_a_401_without_credentials_marks_the_app_unhealthy_and_logs_the_exchange(
    mocked: Mock, partner_app: PartnerApp
) -> None:
    mocked.get(f"{APP_URL}/templates", status=401, json=error("Authentication Failed"))

    with pytest.raises(AuthenticationError):
        app_sync.partner_app_sync_templates(app=partner_app)

    app = fresh(partner_app)
    assert app.health_status == HealthStatus.UNHEALTHY
    assert "Authentication failed" in app.health_message
    assert app.health_checked_at is not None
    row = ApiExchange.objects.get()
    assert (row.partner_app, row.status_code, row.error_class) == (
        app,
        401,
        "AuthenticationError",
    )
    assert len(mocked.calls) == 1


def test_a_second_401_after_the_refresh_marks_the_app_unhealthy_and_is_raised(
    mocked: Mock, partner_app_with_credentials: PartnerApp
) -> None:
    app = partner_app_with_credentials
    mocked.get(f"{APP_URL}/templates", status=401, json=error("Authentication Failed"))
    mocked.post(LOGIN_URL, json=login_ok())
    mocked.get(TOKEN_URL, json=app_token_ok())

    with pytest.raises(AuthenticationError) as caught:
        app_sync.partner_app_sync_templates(app=app)

    assert calls_to(mocked, f"{APP_URL}/templates") == 2
    assert calls_to(mocked, LOGIN_URL) == 1
    assert calls_to(mocked, TOKEN_URL) == 1
    stored = fresh(app)
    assert stored.health_status == HealthStatus.UNHEALTHY
    assert stored.health_message == str(caught.value)


def test_an_app_without_token_or_credentials_is_refused_with_a_clear_message(
    mocked: Mock, bare_app: PartnerApp
) -> None:
    with pytest.raises(
        ApplicationError, match="no app token and no partner credentials"
    ):
        services.partner_app_token(app=bare_app)
    with pytest.raises(ApplicationError, match="Paste the app's sk_ token"):
        app_sync.partner_app_sync_templates(app=bare_app)

    assert len(mocked.calls) == 0
    assert ApiExchange.objects.count() == 0


def test_fetching_a_token_without_credentials_is_refused(
    mocked: Mock, partner_app: PartnerApp
) -> None:
    with pytest.raises(ApplicationError, match="no partner credentials"):
        services.partner_app_fetch_token(app=partner_app)

    assert len(mocked.calls) == 0


# --- health check -------------------------------------------------------------------


def test_a_healthy_app_stores_its_tier_quality_throughput_and_balance(
    mocked: Mock, partner_app: PartnerApp
) -> None:
    mock_healthy_app(mocked)

    report = app_sync.partner_app_check_health(app=partner_app)

    assert report.healthy is True
    app = fresh(partner_app)
    assert app.health_status == HealthStatus.HEALTHY
    assert app.health_checked_at is not None
    assert app.health_details == {
        "can_send_message": "AVAILABLE",
        "messaging_limit": "TIER_1K",
        "phone_quality": "GREEN",
        "throughput": "STANDARD",
        "account_status": "ACTIVE",
        "verified_name": "Spring shop",
        "waba_id": "109876543210987",
        "mm_lite_status": "INELIGIBLE",
        "waba_errors": [],
        "balance": 12.5,
        "currency": "USD",
        "warnings": [],
    }
    assert app.health_message == report.message
    assert "tier TIER_1K" in report.message
    assert "throughput STANDARD" in report.message
    assert "balance 12.50 USD" in report.message


def test_a_waba_that_whatsapp_blocks_is_unhealthy_whatever_health_says(
    mocked: Mock, partner_app: PartnerApp
) -> None:
    mocked.get(f"{APP_URL}/health", json=health_ok())
    mocked.get(
        f"{APP_URL}/waba/info",
        json=waba_info_ok(
            can_send="BLOCKED",
            errors=[{"error_code": 141000, "error_description": "Number restricted."}],
        ),
    )
    mocked.get(f"{APP_URL}/wallet/balance", json=wallet_ok())

    report = app_sync.partner_app_check_health(app=partner_app)

    assert report.healthy is False
    app = fresh(partner_app)
    assert app.health_status == HealthStatus.UNHEALTHY
    assert "canSendMessage is BLOCKED" in app.health_message
    assert "Number restricted." in app.health_message
    assert app.health_details["can_send_message"] == "BLOCKED"


@pytest.mark.parametrize(
    ("waba", "said"),
    [
        (waba_info_ok(quality="RED"), "phone quality is RED"),
        (waba_info_ok(can_send="LIMITED"), "canSendMessage is LIMITED"),
    ],
)
def test_a_red_or_limited_waba_is_a_warning_that_says_why(
    mocked: Mock, partner_app: PartnerApp, waba: dict[str, Any], said: str
) -> None:
    mocked.get(f"{APP_URL}/health", json=health_ok())
    mocked.get(f"{APP_URL}/waba/info", json=waba)
    mocked.get(f"{APP_URL}/wallet/balance", json=wallet_ok())

    report = app_sync.partner_app_check_health(app=partner_app)

    assert report.healthy is True  # usable: a warning does not stop sending
    app = fresh(partner_app)
    assert app.health_status == HealthStatus.WARNING
    assert app.health_message.startswith("Healthy, with warnings:")
    assert said in app.health_message
    [warning] = app.health_details["warnings"]
    assert said in warning


def test_an_app_gupshup_calls_not_healthy_is_marked_unhealthy(
    mocked: Mock, partner_app: PartnerApp
) -> None:
    mocked.get(f"{APP_URL}/health", json=health_ok("false"))

    report = app_sync.partner_app_check_health(app=partner_app)

    assert report.healthy is False
    assert fresh(partner_app).health_status == HealthStatus.UNHEALTHY


def test_an_app_that_is_not_live_is_marked_unhealthy_in_gupshups_words(
    mocked: Mock, partner_app: PartnerApp
) -> None:
    mocked.get(f"{APP_URL}/health", status=400, json=error("App is not live."))

    report = app_sync.partner_app_check_health(app=partner_app)

    assert report.healthy is False
    app = fresh(partner_app)
    assert app.health_status == HealthStatus.UNHEALTHY
    assert "App is not live." in app.health_message
    assert app.health_details == {}


def test_a_health_check_answered_401_reports_authentication_failed(
    mocked: Mock, partner_app: PartnerApp
) -> None:
    mocked.get(f"{APP_URL}/health", status=401, json=error("Authentication Failed"))

    report = app_sync.partner_app_check_health(app=partner_app)

    assert report.healthy is False
    assert "Authentication failed" in fresh(partner_app).health_message


def test_a_health_check_answered_400_authentication_failed_refreshes_the_token(
    mocked: Mock, partner_app_with_credentials: PartnerApp
) -> None:
    # Health answers a stale token with 400, not 401 (API-NOTES).
    app = partner_app_with_credentials
    refused = error("Authentication Failed")
    mocked.get(f"{APP_URL}/health", status=400, json=refused, match=WITH_PASTED)
    mocked.post(LOGIN_URL, json=login_ok())
    mocked.get(TOKEN_URL, json=app_token_ok())
    mock_healthy_app(mocked, match=WITH_FETCHED)

    report = app_sync.partner_app_check_health(app=app)

    assert report.healthy is True
    assert fresh(app).app_token == FETCHED_TOKEN
    assert fresh(app).health_status == HealthStatus.HEALTHY
    assert calls_to(mocked, LOGIN_URL) == 1


def test_a_second_400_authentication_failed_after_the_refresh_fails_loudly(
    mocked: Mock, partner_app_with_credentials: PartnerApp
) -> None:
    app = partner_app_with_credentials
    refused = error("Authentication Failed")
    mocked.get(f"{APP_URL}/health", status=400, json=refused)
    mocked.post(LOGIN_URL, json=login_ok())
    mocked.get(TOKEN_URL, json=app_token_ok())

    report = app_sync.partner_app_check_health(app=app)

    assert report.healthy is False
    assert calls_to(mocked, f"{APP_URL}/health") == 2
    stored = fresh(app)
    assert stored.health_status == HealthStatus.UNHEALTHY
    assert stored.health_message.startswith("Authentication failed: gupshup health")
    assert "app token" in stored.health_message


def test_on_the_simulator_a_stale_token_answered_400_by_health_is_refreshed(
    db: None, settings: Any
) -> None:
    app = sim_app()
    app.set_app_token("sk_staleStaleStale0000000000", source=TokenSource.PASTED)
    app.partner_email = DEMO.partner_email
    app.set_partner_secret(DEMO.partner_secret)
    app.save()
    with Simulator() as sim:
        settings.GUPSHUP_API_BASE = sim.base_url
        report = app_sync.partner_app_check_health(app=app)
        health = [row["status"] for row in sim.requests("health")]

    assert report.healthy is True, report.message
    assert health == [400, 200]
    assert fresh(app).app_token == DEMO.capi_app.token


def test_a_wrong_partner_secret_names_the_partner_login_not_the_app_token(
    mocked: Mock, credentials_only_app: PartnerApp
) -> None:
    mocked.post(LOGIN_URL, status=401, json=error("Invalid email or password"))

    report = app_sync.partner_app_check_health(app=credentials_only_app)

    assert report.healthy is False
    message = fresh(credentials_only_app).health_message
    assert "gupshup partner_login answered HTTP 401" in message
    assert "partner e-mail" in message and "client secret" in message
    assert "3 months" in message
    assert "app token" not in message
    assert calls_to(mocked, LOGIN_URL) == 1  # a refused login is not tried again


def test_a_refused_first_login_marks_the_app_unhealthy_naming_the_partner_login(
    mocked: Mock, credentials_only_app: PartnerApp
) -> None:
    mocked.post(LOGIN_URL, status=401, json=error("Invalid email or password"))

    with pytest.raises(PartnerLoginError):
        app_sync.partner_app_sync_templates(app=credentials_only_app)

    stored = fresh(credentials_only_app)
    assert stored.health_status == HealthStatus.UNHEALTHY
    assert "client secret" in stored.health_message


def test_a_refused_app_token_whose_refresh_login_fails_says_both(
    mocked: Mock, partner_app_with_credentials: PartnerApp
) -> None:
    app = partner_app_with_credentials
    mocked.get(f"{APP_URL}/health", status=401, json=error("Authentication Failed"))
    mocked.post(LOGIN_URL, status=401, json=error("Invalid email or password"))

    report = app_sync.partner_app_check_health(app=app)

    assert report.healthy is False
    stored = fresh(app)
    assert stored.health_status == HealthStatus.UNHEALTHY
    assert "partner e-mail" in stored.health_message
    assert "Invalid email or password" in stored.health_message


def test_an_unreachable_provider_marks_the_app_unhealthy_naming_the_host(
    mocked: Mock, partner_app: PartnerApp, retry_sleeps: list[float]
) -> None:
    mocked.get(f"{APP_URL}/health", body=requests.ConnectionError("Connection refused"))

    report = app_sync.partner_app_check_health(app=partner_app)

    assert report.healthy is False
    app = fresh(partner_app)
    assert app.health_status == HealthStatus.UNHEALTHY
    assert "gupshup.test" in app.health_message
    assert ApiExchange.objects.filter(status_code__isnull=True).count() == 3


def test_a_malformed_health_answer_marks_the_app_unhealthy_without_raising(
    mocked: Mock, partner_app: PartnerApp
) -> None:
    mocked.get(
        f"{APP_URL}/health", body="{'status': success", content_type="application/json"
    )

    report = app_sync.partner_app_check_health(app=partner_app)

    assert report.healthy is False
    app = fresh(partner_app)
    assert app.health_status == HealthStatus.UNHEALTHY
    assert "not JSON" in app.health_message
    assert "gupshup health" in app.health_message


def test_a_health_check_of_an_app_without_secrets_is_reported_not_raised(
    mocked: Mock, bare_app: PartnerApp
) -> None:
    report = app_sync.partner_app_check_health(app=bare_app)

    assert report.healthy is False
    assert "no app token and no partner credentials" in fresh(bare_app).health_message


def test_a_healthy_app_whose_limits_cannot_be_read_is_still_healthy_with_a_note(
    mocked: Mock, partner_app: PartnerApp
) -> None:
    mocked.get(f"{APP_URL}/health", json=health_ok())
    mocked.get(f"{APP_URL}/waba/info", status=400, json=error("Invalid App Details"))
    mocked.get(f"{APP_URL}/wallet/balance", json=wallet_ok(0.75, "INR"))

    report = app_sync.partner_app_check_health(app=partner_app)

    assert report.healthy is True
    assert "WABA info unavailable" in report.message
    assert "Invalid App Details" in report.message
    assert fresh(partner_app).health_details == {
        "balance": 0.75,
        "currency": "INR",
        "warnings": [],
    }


def test_on_the_simulator_a_wallet_answer_without_status_keeps_its_balance(
    db: None, settings: Any
) -> None:
    app = sim_app()
    with Simulator() as sim:
        sim.add_app(dataclasses.replace(DEMO.capi_app, wallet_without_status=True))
        settings.GUPSHUP_API_BASE = sim.base_url
        report = app_sync.partner_app_check_health(app=app)

    assert "balance 125.50 USD" in report.message
    assert fresh(app).health_details["balance"] == 125.5


# --- template sync -----------------------------------------------------------------


def test_template_sync_creates_updates_and_marks_missing_templates_absent(
    mocked: Mock, partner_app: PartnerApp
) -> None:
    old = Template.objects.create(
        app=partner_app, gupshup_id="gone-0001", element_name="winter_sale_image"
    )
    Template.objects.create(
        app=partner_app,
        gupshup_id=SPRING_SALE["id"],
        element_name="spring_sale_image",
        status="PENDING",
        slot_count=0,
    )
    rejected = template_item(
        gupshup_id="5a6b7c8d-0000-4000-8000-000000000001",
        element_name="flash_deal_image",
        data="FLASH DEAL!!! {{1}} {{2}} {{3}}",
        status="REJECTED",
        reason="Too many variable parameters.",
    )
    mocked.get(
        f"{APP_URL}/templates", json=templates_ok(SPRING_SALE, ORDER_UPDATE, rejected)
    )

    result = app_sync.partner_app_sync_templates(app=partner_app)

    assert (result.created, result.changed, result.unchanged, result.gone) == (
        2,
        1,
        0,
        1,
    )
    assert str(result) == (
        "2 new, 1 changed (spring_sale_image: PENDING → APPROVED), "
        "1 no longer on Gupshup"
    )
    rows = {t.element_name: t for t in Template.objects.filter(app=partner_app)}
    spring = rows["spring_sale_image"]
    assert (spring.status, spring.slot_count, spring.header_type) == (
        "APPROVED",
        2,
        "IMAGE",
    )
    assert spring.is_present and spring.is_approved
    assert spring.container_meta["mediaId"] == "1852559851913765"
    order = rows["order_update_text"]
    assert (order.template_type, order.header_type, order.slot_count) == (
        "TEXT",
        "TEXT",
        1,
    )
    assert order.body == "Your order {{1}} has shipped."
    assert order.category == "UTILITY"
    flash = rows["flash_deal_image"]
    assert (flash.slot_count, flash.rejected_reason) == (
        3,
        "Too many variable parameters.",
    )
    old.refresh_from_db()
    assert old.is_present is False


def test_syncing_twice_on_the_simulator_says_nothing_changed_the_second_time(
    db: None, settings: Any
) -> None:
    app = sim_app()
    with Simulator() as sim:
        settings.GUPSHUP_API_BASE = sim.base_url
        first = app_sync.partner_app_sync_templates(app=app)
        synced = dict(Template.objects.values_list("pk", "synced_at"))
        second = app_sync.partner_app_sync_templates(app=app)

    assert (first.created, first.changed, first.unchanged, first.gone) == (5, 0, 0, 0)
    assert str(first) == "5 new"
    assert (second.created, second.changed, second.unchanged, second.gone) == (
        0,
        0,
        5,
        0,
    )
    assert str(second) == "nothing changed (5 templates as before)"
    # Each was seen again: its synced_at moved on.
    assert all(t.synced_at > synced[t.pk] for t in Template.objects.all())


def test_a_template_whose_body_changed_is_counted_changed_and_the_rest_unchanged(
    mocked: Mock, partner_app: PartnerApp
) -> None:
    edited = {**ORDER_UPDATE, "data": "Your order {{1}} left on {{2}}."}
    mocked.get(f"{APP_URL}/templates", json=templates_ok(SPRING_SALE, ORDER_UPDATE))
    mocked.get(f"{APP_URL}/templates", json=templates_ok(SPRING_SALE, edited))

    app_sync.partner_app_sync_templates(app=partner_app)
    result = app_sync.partner_app_sync_templates(app=partner_app)

    assert str(result) == "1 changed (order_update_text), 1 unchanged"
    order = Template.objects.get(element_name="order_update_text")
    assert order.slot_count == 2


def test_a_template_that_comes_back_is_present_again(
    mocked: Mock, partner_app: PartnerApp
) -> None:
    mocked.get(f"{APP_URL}/templates", json=templates_ok())
    mocked.get(f"{APP_URL}/templates", json=templates_ok(SPRING_SALE))
    Template.objects.create(
        app=partner_app, gupshup_id=SPRING_SALE["id"], element_name="spring_sale_image"
    )

    app_sync.partner_app_sync_templates(app=partner_app)
    assert Template.objects.get().is_present is False
    app_sync.partner_app_sync_templates(app=partner_app)

    assert Template.objects.get().is_present is True


def test_template_sync_leaves_other_apps_templates_alone(
    mocked: Mock, partner_app: PartnerApp
) -> None:
    other = PartnerApp.objects.create(
        name="Other shop",
        app_id="0f0f0f0f-1111-4222-8333-444455556666",
        app_name="other01",
        source_number="+919643874845",
    )
    theirs = Template.objects.create(app=other, gupshup_id="x-1", element_name="theirs")
    mocked.get(f"{APP_URL}/templates", json=templates_ok(SPRING_SALE))

    app_sync.partner_app_sync_templates(app=partner_app)

    theirs.refresh_from_db()
    assert theirs.is_present is True


def test_stored_secrets_are_replaced_only_when_given(partner_app: PartnerApp) -> None:
    before = partner_app.app_token_encrypted

    services.partner_app_update_secrets(
        app=partner_app, app_token="", partner_secret=""
    )
    assert fresh(partner_app).app_token_encrypted == before

    services.partner_app_update_secrets(
        app=partner_app, app_token=FETCHED_TOKEN, partner_secret=PARTNER_SECRET
    )
    app = fresh(partner_app)
    assert (app.app_token, app.app_token_source) == (FETCHED_TOKEN, TokenSource.PASTED)
    assert app.partner_secret == PARTNER_SECRET
