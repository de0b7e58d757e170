"""An admin registers nothing by hand: the demo app is there; they check its health,
sync its templates and read the exchanges, with every token masked."""

from __future__ import annotations

from django.core.management import call_command
from playwright.sync_api import Page, expect

from gupshup_admin.models import ApiExchange, PartnerApp
from gupshup_admin.simulator import DEMO, Simulator
from tests.e2e.conftest import login, screenshot

SECRETS = (
    DEMO.capi_app.token,
    DEMO.non_capi_app.token,
    DEMO.partner_secret,
    DEMO.channel.api_key,
)


def _assert_no_secret(page: Page) -> None:
    html = page.content()
    for secret in SECRETS:
        assert secret not in html


def test_an_admin_checks_health_syncs_templates_and_reads_masked_exchanges(
    page: Page, live_server, simulator: Simulator, admin_user
) -> None:
    call_command("demo_setup", password="unused-demo-password")
    app = PartnerApp.objects.get(app_id=DEMO.capi_app.app_id)
    login(page, live_server.url)

    page.goto(f"{live_server.url}/admin/gupshup_admin/partnerapp/")
    expect(page.get_by_text("Demo shop (simulator)")).to_be_visible()
    screenshot(page, "01-partner-apps")
    _assert_no_secret(page)

    page.click("text=Demo shop (simulator)")
    page.click("button[data-action=check-health]")
    expect(page.locator(".messagelist")).to_contain_text("Healthy")
    expect(page.locator(".health-badge")).to_have_text("Healthy")
    screenshot(page, "02-health-checked")

    page.click("button[data-action=sync-templates]")
    expect(page.locator(".messagelist")).to_contain_text("templates synced")
    expect(page.locator("#templates-group")).to_contain_text("spring_sale_image")
    screenshot(page, "03-templates-synced")
    _assert_no_secret(page)

    page.click("text=Exchanges")
    expect(page.locator("#result_list")).to_contain_text("templates")
    screenshot(page, "04-exchanges")
    first = ApiExchange.objects.filter(partner_app=app, endpoint="health").first()
    assert first is not None
    page.goto(f"{live_server.url}/admin/gupshup_admin/apiexchange/{first.pk}/change/")
    expect(page.get_by_text("sk_…7c11").first).to_be_visible()
    screenshot(page, "05-exchange-masked")
    _assert_no_secret(page)


def test_a_wrong_token_shows_authentication_failed_and_marks_the_app_unhealthy(
    page: Page, live_server, simulator: Simulator, admin_user
) -> None:
    call_command("demo_setup", password="unused-demo-password")
    app = PartnerApp.objects.get(app_id=DEMO.capi_app.app_id)
    app.set_app_token("sk_wrongwrongwrongwrongwrong0000", source="pasted")
    app.save()
    login(page, live_server.url)

    page.goto(f"{live_server.url}/admin/gupshup_admin/partnerapp/{app.pk}/change/")
    page.click("button[data-action=check-health]")
    expect(page.locator(".messagelist .error")).to_contain_text("Authentication failed")
    expect(page.locator(".health-badge")).to_have_text("Unhealthy")
    screenshot(page, "06-wrong-token")
    app.refresh_from_db()
    assert app.health_status == "unhealthy"
    # Gupshup's health answers a wrong token with 400 "Authentication Failed".
    refused = ApiExchange.objects.filter(partner_app=app, endpoint="health")
    assert refused.filter(status_code=400, error_class="AuthenticationError").exists()


def test_a_bad_app_id_and_phone_number_get_field_errors_in_the_form(
    page: Page, live_server, admin_user
) -> None:
    login(page, live_server.url)
    page.goto(f"{live_server.url}/admin/gupshup_admin/partnerapp/add/")
    page.fill("#id_name", "Typo app")
    page.fill("#id_app_id", "not-a-uuid")
    page.fill("#id_app_name", "typo")
    page.fill("#id_source_number", "12345")
    page.fill("#id_new_app_token", "sk_0123456789abcdef0123")
    page.click("input[name=_save]")
    expect(page.locator(".errorlist").first).to_be_visible()
    expect(page.get_by_text("A Gupshup app id is a UUID")).to_be_visible()
    expect(page.get_by_text("not a valid number")).to_be_visible()
    screenshot(page, "07-form-errors")
    assert not PartnerApp.objects.filter(name="Typo app").exists()
