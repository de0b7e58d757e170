"""Every custom page under the strict Content-Security-Policy, in Chromium: no
violation reported (console or `securitypolicyviolation`), and the page's
scripts still do their work: uploads with progress, bar widths, the campaign
form, the retry preview, the cancel confirmation. The admin pages too, under
their policy (strict scripts, inline styles allowed)."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

from PIL import Image
from playwright.sync_api import Dialog, Page, expect

from campaigns.models import Campaign, CampaignState, Recipient, RecipientStatus
from gupshup_admin.simulator import Simulator
from tests.e2e.conftest import banner, login, screenshot
from tests.factories import phones, sim_app, sim_campaign

LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(
    `${e.effectiveDirective} blocked ${e.blockedURI || "inline"} at ` +
    `${e.sourceFile}:${e.lineNumber}`);
});
"""


class CspWatch:
    """Collects CSP violations of every page the browser shows."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.found: list[str] = []
        page.add_init_script(LISTENER)  # runs before any page script, CSP-exempt
        page.on("console", self._console)

    def _console(self, message: Any) -> None:
        if "Content Security Policy" in message.text:
            self.found.append(f"{self.page.url}: {message.text}")

    def check(self) -> None:
        """Record the current page's violations (call before leaving it)."""
        reported = self.page.evaluate("window.__cspViolations || []")
        self.found += [f"{self.page.url}: {v}" for v in reported]


def _png(path: Path) -> Path:
    buf = io.BytesIO()
    Image.new("RGB", (320, 200), "tomato").save(buf, "PNG")
    path.write_bytes(buf.getvalue())
    return path


def _campaign_with_failures() -> Campaign:
    app = sim_app(name="Demo shop")
    campaign = sim_campaign(phones=phones(6), app=app)
    placeholder = campaign.media_file  # a row without bytes: swap in a real image
    Campaign.objects.filter(pk=campaign.pk).update(
        media_file=banner(app), state=CampaignState.COMPLETED
    )
    placeholder.delete()
    rows = list(campaign.recipients.order_by("pk"))
    Recipient.objects.filter(pk__in=[r.pk for r in rows[:2]]).update(
        status=RecipientStatus.FAILED,
        error_code="1002",
        error_message="Number Does Not Exists On WhatsApp",
    )
    Recipient.objects.filter(pk__in=[r.pk for r in rows[2:]]).update(
        status=RecipientStatus.READ
    )
    campaign.refresh_from_db()
    return campaign


def _widths_follow_the_data(page: Page, selector: str) -> None:
    bars = page.locator(selector)
    expect(bars.first).to_be_attached()
    for i in range(bars.count()):
        bar = bars.nth(i)
        wanted = float(bar.get_attribute("data-width") or "0")
        shown = bar.evaluate("el => el.style.width")
        assert shown == f"{wanted:g}%", (selector, i, shown)


def test_every_custom_page_works_under_the_strict_policy_without_a_violation(
    page: Page,
    live_server: Any,
    simulator: Simulator,
    admin_user: Any,
    settings: Any,
    tmp_path: Path,
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    campaign = _campaign_with_failures()
    recipient = campaign.recipients.order_by("pk").first()
    assert recipient is not None
    base = live_server.url
    watch = CspWatch(page)
    login(page, base)
    watch.check()

    page.goto(f"{base}/")
    expect(page.locator("#tiles [data-tile=running]")).to_be_visible()
    screenshot(page, "csp-00-start-page")
    watch.check()

    page.goto(f"{base}/media-library/")
    page.wait_for_selector("body[data-uploader-ready=true]")
    page.set_input_files("#file-input", [str(_png(tmp_path / "tomato.png"))])
    page.wait_for_selector("body[data-uploads-done=true]")
    expect(page.locator("#uploads [data-outcome=accepted]")).to_have_count(1)
    expect(page.locator("#uploads progress")).to_have_attribute("value", "100")
    watch.check()
    page.reload()
    thumbs = page.locator(".card .thumb img")
    expect(thumbs).to_have_count(2)
    _wait_until_images_load(page, ".card .thumb img")
    screenshot(page, "csp-01-media-library")
    watch.check()

    page.goto(f"{base}/campaigns/")
    _widths_follow_the_data(page, "#campaign-list [data-width]")
    watch.check()

    page.goto(f"{base}/campaigns/new/")
    page.check("input[name=kind][value=direct]")
    expect(page.locator("#row-template")).to_be_hidden()
    expect(page.locator("#row-caption")).to_be_visible()
    watch.check()

    page.goto(f"{base}/campaigns/{campaign.pk}/")
    _widths_follow_the_data(page, "#progress [data-width]")
    page.locator("#retry-form label", has_text="1002").click()
    expect(page.locator("#retry-preview")).to_have_text(
        "0 recipients will be sent again, 2 left out (not on WhatsApp: 2)."
    )
    expect(page.locator("#retry-form button[data-action=retry]")).to_be_disabled()
    page.locator("#retry-form label.include-permanent").click()
    expect(page.locator("#retry-preview")).to_have_text(
        "2 recipients will be sent again, including 2 that failed for good "
        "(not on WhatsApp: 2)."
    )
    expect(page.locator("#retry-form button[data-action=retry]")).to_be_enabled()
    screenshot(page, "csp-02-campaign")
    watch.check()

    page.goto(f"{base}/campaigns/{campaign.pk}/report/")
    _widths_follow_the_data(page, "ol.funnel [data-width]")
    watch.check()
    for path in [
        f"recipients/{recipient.pk}/",
        "approve/",
    ]:
        response = page.goto(f"{base}/campaigns/{campaign.pk}/{path}")
        assert response is not None and response.status == 200, path
        watch.check()

    for path in [
        "",
        "gupshup_admin/partnerapp/",
        f"gupshup_admin/partnerapp/{campaign.partner_app_id}/change/",
        "campaigns/recipient/",
        "gupshup_admin/apiexchange/",
    ]:
        page.goto(f"{base}/admin/{path}")
        expect(page.locator("#site-name")).to_be_visible()
        watch.check()

    assert watch.found == []


def test_the_cancel_confirmation_still_runs_under_the_policy(
    page: Page, live_server: Any, admin_user: Any
) -> None:
    campaign = sim_campaign(phones=phones(2))
    watch = CspWatch(page)
    login(page, live_server.url)
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/")
    asked: list[str] = []

    def confirm(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.once("dialog", confirm)

    page.click("button[data-action=cancel]")

    expect(page.locator("#state-badge")).to_have_text("Cancelled")
    watch.check()
    assert asked and asked[0].startswith("Cancel “Spring sale”")
    assert watch.found == []


def test_the_watch_reports_a_violation(
    page: Page, live_server: Any, admin_user: Any
) -> None:
    watch = CspWatch(page)
    login(page, live_server.url)
    page.goto(f"{live_server.url}/campaigns/")

    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.ranInline = true'; document.body.append(s); }"
    )
    page.wait_for_timeout(200)  # the violation event is dispatched asynchronously
    watch.check()

    assert page.evaluate("window.ranInline === undefined")
    assert any("script-src" in v for v in watch.found), watch.found


def _wait_until_images_load(page: Page, selector: str) -> None:
    """Poll with `evaluate` (run over the DevTools protocol): the polling of
    `wait_for_function` evaluates its string inside the page, which this very
    policy forbids (no 'unsafe-eval'), so it failed whenever the first look
    came too early."""
    loaded = (
        f"() => [...document.querySelectorAll({selector!r})]"
        ".every(img => img.complete && img.naturalWidth > 0)"
    )
    deadline = time.monotonic() + 15
    while not page.evaluate(loaded):
        assert time.monotonic() < deadline, f"{selector} did not load"
        page.wait_for_timeout(100)
