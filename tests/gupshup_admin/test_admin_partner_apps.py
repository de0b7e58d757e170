"""The admin as Alice uses it: forms with write-only secrets, buttons, exchange log."""

from __future__ import annotations

from typing import Any

import pytest
import responses
from django.contrib.auth.models import User
from django.contrib.messages import constants as levels
from django.test import Client
from django.urls import reverse

from gupshup_admin import app_sync
from gupshup_admin.models import (
    ApiExchange,
    CommBoxChannel,
    HealthStatus,
    PartnerApp,
    TokenSource,
)
from gupshup_admin.providers.errors import AuthenticationError
from tests.conftest import APP_ID, APP_TOKEN, COMMBOX_KEY, PARTNER_SECRET
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
    templates_ok,
    waba_info_ok,
    wallet_ok,
)

Mock = responses.RequestsMock
NEW_TOKEN = "sk_0a1b2c3d4e5f60718293a4b5c6d7e8f9"
ADD_URL = reverse("admin:gupshup_admin_partnerapp_add")
CHANGELIST_URL = reverse("admin:gupshup_admin_partnerapp_changelist")
EXCHANGES_URL = reverse("admin:gupshup_admin_apiexchange_changelist")


@pytest.fixture
def client(client: Client, alice: User) -> Client:
    client.force_login(alice)
    return client


def change_url(app: PartnerApp) -> str:
    return reverse("admin:gupshup_admin_partnerapp_change", args=[app.pk])


def button_url(app: PartnerApp, button: str) -> str:
    return reverse(f"admin:gupshup_admin_partnerapp_{button}", args=[app.pk])


def app_form(**overrides: Any) -> dict[str, Any]:
    """The add/change form as the browser posts it (no templates in the inline)."""
    data = {
        "name": "Spring shop",
        "app_id": APP_ID,
        "app_name": "august18",
        "source_number": "+919643874844",
        "is_capi": "on",
        "send_rate_per_minute": "10",
        "is_active": "on",
        "partner_email": "",
        "new_app_token": "",
        "new_partner_secret": "",
        "templates-TOTAL_FORMS": "0",
        "templates-INITIAL_FORMS": "0",
        "templates-MIN_NUM_FORMS": "0",
        "templates-MAX_NUM_FORMS": "0",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def page_errors(response: Any) -> dict[str, list[str]]:
    """Field errors of the admin form on a re-rendered page ('__all__' included)."""
    assert response.status_code == 200, "the form was accepted"
    form = response.context["adminform"].form
    return {field: list(errors) for field, errors in form.errors.items()}


def shown_messages(response: Any) -> list[tuple[int, str]]:
    return [(m.level, m.message) for m in response.context["messages"]]


# --- the add and change forms -------------------------------------------------------


def test_adding_an_app_with_a_pasted_token_stores_it_encrypted_and_shows_only_the_hint(
    client: Client,
) -> None:
    response = client.post(
        ADD_URL,
        app_form(
            app_id=APP_ID.upper(),
            source_number="919643874844",  # as the Partner Portal shows it
            new_app_token=NEW_TOKEN,
        ),
    )

    assert response.status_code == 302
    app = PartnerApp.objects.get()
    assert (app.app_id, app.source_number) == (APP_ID, "+919643874844")
    assert NEW_TOKEN not in app.app_token_encrypted
    assert app.app_token == NEW_TOKEN
    assert (app.app_token_hint, app.app_token_source) == (
        "sk_…e8f9",
        TokenSource.PASTED,
    )
    change_page = client.get(change_url(app)).content.decode()
    changelist = client.get(CHANGELIST_URL).content.decode()
    assert "sk_…e8f9" in change_page
    assert "sk_…e8f9" in changelist
    assert NEW_TOKEN not in change_page
    assert NEW_TOKEN not in changelist


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("app_id", "947d28b8-459b-4dfe-9d4c"),
        ("source_number", "12345"),
        ("new_app_token", "711916ad1d5d4f21a9520fdef20516a1"),
        ("new_app_token", f"Bearer {APP_TOKEN}"),
        ("new_app_token", "sk_short"),
        ("new_app_token", "sk_711916ad-1d5d-4f21-a952-0fdef20516a1"),
    ],
)
def test_an_invalid_field_is_reported_on_that_field_and_nothing_is_saved(
    client: Client, field: str, value: str
) -> None:
    form = app_form(new_app_token=APP_TOKEN)
    form[field] = value

    response = client.post(ADD_URL, form)

    assert field in page_errors(response)
    assert PartnerApp.objects.count() == 0
    assert APP_TOKEN not in response.content.decode()  # not echoed back either


def test_a_token_pasted_with_bearer_says_to_paste_it_alone(client: Client) -> None:
    response = client.post(ADD_URL, app_form(new_app_token=f"Bearer {APP_TOKEN}"))

    assert page_errors(response)["new_app_token"] == [
        "Paste the token alone, without 'Bearer '."
    ]


@pytest.mark.parametrize(
    ("region", "typed", "stored"),
    [
        pytest.param("IN", "98765 43210", "+919876543210", id="national-in-IN"),
        pytest.param("IN", "098765 43210", "+919876543210", id="trunk-zero-in-IN"),
        pytest.param("GB", "020 7946 0018", "+442079460018", id="national-in-GB"),
        pytest.param("IN", "919643874844", "+919643874844", id="portal-digits"),
        pytest.param("GB", "919643874844", "+919643874844", id="portal-digits-in-GB"),
        pytest.param("GB", "+91 96438 74844", "+919643874844", id="international"),
    ],
)
def test_the_source_number_is_read_in_the_default_region_like_recipients(
    client: Client, settings: Any, region: str, typed: str, stored: str
) -> None:
    settings.PHONE_DEFAULT_REGION = region

    response = client.post(
        ADD_URL, app_form(new_app_token=APP_TOKEN, source_number=typed)
    )

    assert response.status_code == 302, page_errors(response)
    assert PartnerApp.objects.get().source_number == stored


def test_a_source_number_that_is_not_a_number_says_so_naming_the_region(
    client: Client, settings: Any
) -> None:
    settings.PHONE_DEFAULT_REGION = "IN"

    response = client.post(
        ADD_URL, app_form(new_app_token=APP_TOKEN, source_number="98765 4321")
    )

    [error] = page_errors(response)["source_number"]
    assert "'98765 4321' is not a valid number in region IN" in error
    assert "PHONE_DEFAULT_REGION" in error
    assert "+919643874844" in error  # an example of what to write


def test_an_app_needs_a_token_or_partner_credentials(client: Client) -> None:
    response = client.post(ADD_URL, app_form())

    errors = page_errors(response)
    assert "Give either an app token, or partner credentials" in errors["__all__"][0]
    assert PartnerApp.objects.count() == 0


def test_a_partner_email_without_its_client_secret_is_refused(client: Client) -> None:
    response = client.post(ADD_URL, app_form(partner_email="partner@example.com"))

    assert (
        "need both the e-mail and the client secret"
        in page_errors(response)["new_partner_secret"][0]
    )
    assert PartnerApp.objects.count() == 0


def test_a_client_secret_without_the_partner_email_is_refused(client: Client) -> None:
    response = client.post(ADD_URL, app_form(new_partner_secret=PARTNER_SECRET))

    assert "partner_email" in page_errors(response)
    assert PartnerApp.objects.count() == 0
    assert PARTNER_SECRET not in response.content.decode()


def test_partner_credentials_alone_are_enough_to_add_an_app(client: Client) -> None:
    response = client.post(
        ADD_URL,
        app_form(
            partner_email="partner@example.com", new_partner_secret=PARTNER_SECRET
        ),
    )

    assert response.status_code == 302
    app = PartnerApp.objects.get()
    assert app.has_partner_credentials and not app.has_app_token
    assert app.partner_secret == PARTNER_SECRET
    assert PARTNER_SECRET not in client.get(change_url(app)).content.decode()


def test_editing_with_the_token_field_blank_keeps_the_stored_token(
    client: Client, partner_app: PartnerApp
) -> None:
    ciphertext = partner_app.app_token_encrypted
    page = client.get(change_url(partner_app)).content.decode()
    assert 'name="new_app_token"' in page
    assert APP_TOKEN not in page  # the password field is never pre-filled

    response = client.post(change_url(partner_app), app_form(name="Spring shop 2"))

    assert response.status_code == 302
    app = PartnerApp.objects.get()
    assert app.name == "Spring shop 2"
    assert app.app_token_encrypted == ciphertext
    assert app.app_token == APP_TOKEN


def test_forgetting_the_token_of_an_app_without_credentials_is_refused(
    client: Client, partner_app: PartnerApp
) -> None:
    response = client.post(change_url(partner_app), app_form(clear_app_token="on"))

    assert "__all__" in page_errors(response)
    assert PartnerApp.objects.get().app_token == APP_TOKEN


# --- change-page buttons -------------------------------------------------------------


def test_check_health_with_a_401_reports_authentication_failed_and_marks_unhealthy(
    client: Client, mocked: Mock, partner_app: PartnerApp
) -> None:
    mocked.get(f"{APP_URL}/health", status=401, json=error("Authentication Failed"))

    response = client.post(button_url(partner_app, "check_health"), follow=True)

    assert response.redirect_chain == [(change_url(partner_app), 302)]
    [(level, text)] = shown_messages(response)
    assert level == levels.ERROR
    assert "Authentication failed" in text
    assert "Authentication failed" in response.content.decode()
    assert APP_TOKEN not in response.content.decode()
    assert PartnerApp.objects.get().health_status == HealthStatus.UNHEALTHY


def test_check_health_of_a_healthy_app_shows_the_success_message(
    client: Client, mocked: Mock, partner_app: PartnerApp
) -> None:
    mocked.get(f"{APP_URL}/health", json=health_ok())
    mocked.get(f"{APP_URL}/waba/info", json=waba_info_ok())
    mocked.get(f"{APP_URL}/wallet/balance", json=wallet_ok(12.5, "USD"))

    response = client.post(button_url(partner_app, "check_health"), follow=True)

    [(level, text)] = shown_messages(response)
    assert level == levels.SUCCESS
    assert text.startswith("Spring shop: Healthy")
    assert "balance 12.50 USD" in text
    assert PartnerApp.objects.get().health_status == HealthStatus.HEALTHY
    assert 'class="health-badge"' in response.content.decode()


def test_the_app_page_shows_what_whatsapp_says_of_the_number_and_its_warnings(
    client: Client, mocked: Mock, partner_app: PartnerApp
) -> None:
    mocked.get(f"{APP_URL}/health", json=health_ok())
    mocked.get(f"{APP_URL}/waba/info", json=waba_info_ok(quality="RED"))
    mocked.get(f"{APP_URL}/wallet/balance", json=wallet_ok(12.5, "USD"))

    response = client.post(button_url(partner_app, "check_health"), follow=True)

    [(level, text)] = shown_messages(response)
    assert level == levels.WARNING
    assert "phone quality is RED" in text
    page = response.content.decode()
    assert "Healthy, with warnings" in page
    for shown in ("Can send", "AVAILABLE", "Messaging tier", "TIER_1K", "Throughput"):
        assert shown in page
    assert "STANDARD" in page and "Spring shop" in page and "12.50 USD" in page
    changelist = client.get(CHANGELIST_URL).content.decode()
    assert "Healthy, with warnings" in changelist


def test_sync_templates_lists_the_synced_templates_in_the_inline(
    client: Client, mocked: Mock, partner_app: PartnerApp
) -> None:
    mocked.get(f"{APP_URL}/templates", json=templates_ok(SPRING_SALE, ORDER_UPDATE))

    response = client.post(button_url(partner_app, "sync_templates"), follow=True)

    [(level, text)] = shown_messages(response)
    assert level == levels.SUCCESS
    assert "templates synced: 2 new." in text
    inline = response.context["inline_admin_formsets"][0]
    assert sorted(f.original.element_name for f in inline) == [
        "order_update_text",
        "spring_sale_image",
    ]
    page = response.content.decode()
    assert "spring_sale_image" in page and "order_update_text" in page


def test_fetch_app_token_with_credentials_stores_the_token_and_shows_its_hint(
    client: Client, mocked: Mock, partner_app_with_credentials: PartnerApp
) -> None:
    mocked.post(LOGIN_URL, json=login_ok())
    mocked.get(TOKEN_URL, json=app_token_ok())

    response = client.post(
        button_url(partner_app_with_credentials, "fetch_token"), follow=True
    )

    [(level, text)] = shown_messages(response)
    assert (level, text) == (levels.SUCCESS, "Spring shop: fetched app token sk_…b7a6.")
    app = PartnerApp.objects.get()
    assert (app.app_token, app.app_token_source) == (FETCHED_TOKEN, TokenSource.FETCHED)
    page = response.content.decode()
    for secret in (FETCHED_TOKEN, APP_TOKEN, PARTNER_SECRET, PARTNER_JWT):
        assert secret not in page


def test_fetch_app_token_without_credentials_explains_what_is_missing(
    client: Client, mocked: Mock, partner_app: PartnerApp
) -> None:
    response = client.post(button_url(partner_app, "fetch_token"), follow=True)

    [(level, text)] = shown_messages(response)
    assert level == levels.ERROR
    assert "no partner credentials are stored" in text


@pytest.mark.parametrize("button", ["check_health", "fetch_token", "sync_templates"])
def test_a_button_url_refuses_get(
    client: Client, mocked: Mock, partner_app: PartnerApp, button: str
) -> None:
    response = client.get(button_url(partner_app, button))

    assert response.status_code == 405
    assert len(mocked.calls) == 0


def test_a_button_needs_a_staff_login(
    mocked: Mock, partner_app: PartnerApp, db: None
) -> None:
    response = Client().post(button_url(partner_app, "check_health"))

    assert response.status_code == 302
    assert "/login/" in response["Location"]
    assert len(mocked.calls) == 0


# --- the exchange log -----------------------------------------------------------------


@pytest.fixture
def logged_exchanges(
    mocked: Mock, partner_app: PartnerApp, channel: CommBoxChannel
) -> dict[str, ApiExchange]:
    """Three real exchanges: a 401 and a 200 for the app, a 200 for another app."""
    other = PartnerApp(
        name="Other shop",
        app_id="0f0f0f0f-1111-4222-8333-444455556666",
        app_name="other01",
        source_number="+919643874845",
    )
    other.set_app_token(
        "sk_99990000111122223333444455556666", source=TokenSource.PASTED
    )
    other.save()
    mocked.get(f"{APP_URL}/health", status=401, json=error("Authentication Failed"))
    mocked.get(f"{APP_URL}/templates", json=templates_ok(SPRING_SALE))
    mocked.get(
        f"https://gupshup.test/partner/app/{other.app_id}/templates",
        json=templates_ok(),
    )
    app_sync.partner_app_check_health(app=partner_app)
    app_sync.partner_app_sync_templates(app=partner_app)
    app_sync.partner_app_sync_templates(app=other)
    return {
        "401": ApiExchange.objects.get(status_code=401),
        "ok": ApiExchange.objects.get(partner_app=partner_app, status_code=200),
        "other": ApiExchange.objects.get(partner_app=other),
    }


def listed(client: Client, query: str) -> set[int]:
    response = client.get(f"{EXCHANGES_URL}{query}")
    assert response.status_code == 200
    return {row.pk for row in response.context["cl"].result_list}


def test_the_exchange_log_filters_by_status_class_provider_and_app(
    client: Client, logged_exchanges: dict[str, ApiExchange], partner_app: PartnerApp
) -> None:
    rows = logged_exchanges
    everything = {row.pk for row in rows.values()}

    assert listed(client, "") == everything
    assert listed(client, "?status_class=4xx") == {rows["401"].pk}
    assert listed(client, "?status_class=2xx") == {rows["ok"].pk, rows["other"].pk}
    assert listed(client, "?status_class=5xx") == set()
    assert listed(client, "?provider__exact=gupshup") == everything
    assert listed(client, "?provider__exact=commbox") == set()
    assert listed(client, f"?partner_app__id__exact={partner_app.pk}") == {
        rows["401"].pk,
        rows["ok"].pk,
    }


def test_the_exchange_log_pages_show_no_secret(
    client: Client, logged_exchanges: dict[str, ApiExchange]
) -> None:
    row = logged_exchanges["401"]

    changelist = client.get(f"{EXCHANGES_URL}?status_class=4xx").content.decode()
    detail = client.get(
        reverse("admin:gupshup_admin_apiexchange_change", args=[row.pk])
    ).content.decode()

    assert "health" in changelist
    assert "&quot;token&quot;:" in detail  # the request headers are shown…
    assert "16a1" in detail  # …with the token masked
    assert "Authentication Failed" in detail
    for page in (changelist, detail):
        assert APP_TOKEN not in page
        assert "sk_99990000111122223333444455556666" not in page


def test_the_exchange_detail_page_shows_the_masked_token_as_the_app_page_does(
    client: Client, logged_exchanges: dict[str, ApiExchange]
) -> None:
    row = logged_exchanges["401"]

    detail = client.get(
        reverse("admin:gupshup_admin_apiexchange_change", args=[row.pk])
    ).content.decode()

    assert "&quot;token&quot;: &quot;sk_…16a1&quot;" in detail


def test_the_exchange_log_is_read_only(
    client: Client, logged_exchanges: dict[str, ApiExchange]
) -> None:
    row = logged_exchanges["ok"]
    change = reverse("admin:gupshup_admin_apiexchange_change", args=[row.pk])

    assert client.get(reverse("admin:gupshup_admin_apiexchange_add")).status_code == 403
    client.post(change, {"endpoint": "tampered"})
    assert ApiExchange.objects.get(pk=row.pk).endpoint == "templates"


# --- CommBox channels -----------------------------------------------------------------


def channel_form(**overrides: str) -> dict[str, str]:
    return {
        "name": "Main CommBox",
        "stream_id": "Zx81-stream_ID=",
        "is_active": "on",
        **overrides,
    }


def test_a_commbox_channel_needs_an_api_key(client: Client) -> None:
    response = client.post(
        reverse("admin:gupshup_admin_commboxchannel_add"), channel_form()
    )

    assert page_errors(response)["new_api_key"] == ["A new channel needs its API key."]
    assert CommBoxChannel.objects.count() == 0


def test_a_commbox_channel_stores_its_key_encrypted_and_shows_only_the_hint(
    client: Client,
) -> None:
    response = client.post(
        reverse("admin:gupshup_admin_commboxchannel_add"),
        channel_form(new_api_key=COMMBOX_KEY),
    )

    assert response.status_code == 302
    channel = CommBoxChannel.objects.get()
    assert channel.api_key == COMMBOX_KEY
    assert COMMBOX_KEY not in channel.api_key_encrypted
    change_page = client.get(
        reverse("admin:gupshup_admin_commboxchannel_change", args=[channel.pk])
    ).content.decode()
    changelist = client.get(
        reverse("admin:gupshup_admin_commboxchannel_changelist")
    ).content.decode()
    assert "…cdef" in change_page
    for page in (change_page, changelist):
        assert COMMBOX_KEY not in page


def test_a_commbox_key_pasted_with_bearer_is_refused(client: Client) -> None:
    response = client.post(
        reverse("admin:gupshup_admin_commboxchannel_add"),
        channel_form(new_api_key=f"Bearer {COMMBOX_KEY}"),
    )

    assert "new_api_key" in page_errors(response)
    assert CommBoxChannel.objects.count() == 0


def test_a_refused_token_reaches_the_admin_as_an_error_not_a_crash(
    client: Client, mocked: Mock, partner_app: PartnerApp
) -> None:
    mocked.get(f"{APP_URL}/templates", status=401, json=error("Authentication Failed"))

    response = client.post(button_url(partner_app, "sync_templates"), follow=True)

    [(level, text)] = shown_messages(response)
    assert level == levels.ERROR
    assert text.startswith("Spring shop: Authentication failed")
    assert AuthenticationError.default_hint in text


def test_the_bulk_actions_queue_one_task_per_selected_app_after_commit(
    client: Client,
    partner_app: PartnerApp,
    mocked: responses.RequestsMock,
    django_capture_on_commit_callbacks: Any,
) -> None:
    mocked.get(f"{APP_URL}/health", json=health_ok())
    mocked.get(f"{APP_URL}/waba/info", json=waba_info_ok())
    mocked.get(f"{APP_URL}/wallet/balance", json=wallet_ok())
    mocked.get(f"{APP_URL}/templates", json=templates_ok(SPRING_SALE))
    changelist = reverse("admin:gupshup_admin_partnerapp_changelist")

    for action in ("check_health_action", "sync_templates_action"):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            response = client.post(
                changelist,
                {"action": action, "_selected_action": [partner_app.pk]},
                follow=True,
            )
        assert len(callbacks) == 1
        assert "queued for 1 app(s)" in response.content.decode()

    partner_app.refresh_from_db()
    assert partner_app.health_status == HealthStatus.HEALTHY
    assert partner_app.templates.filter(element_name="spring_sale_image").exists()
