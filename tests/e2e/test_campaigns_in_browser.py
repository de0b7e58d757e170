"""A marketer builds a template image campaign, loads its recipients from a CSV file
with one bad row, starts it, pauses it, resumes it and watches it complete; and
retries failed recipients after a live preview of how many go again.

In the first test sending happens where it does in production: in a real
`db_worker` process that shares the test database, so pressing Start returns at
once and Pause lands while the campaign is still sending. That needs PostgreSQL
(the SQLite test database lives in this process's memory).
"""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from campaigns.models import Campaign, CampaignState, Recipient, RecipientStatus
from gupshup_admin.models import PartnerApp
from gupshup_admin.simulator import Simulator
from tests.e2e.conftest import banner, login, needs_postgresql, screenshot
from tests.factories import phones, sim_app, sim_campaign, sim_template

RECIPIENTS = phones(20)
BAD_ROW = "12345,Bob,5%"


def _csv(path: Path) -> Path:
    names = ["Asha", "Ravi", "Meera", "Kabir", "Isha"]
    lines = ["phone,name,discount"]
    lines += [f"{p},{names[i % 5]},{10 + i}%" for i, p in enumerate(RECIPIENTS)]
    lines.insert(6, BAD_ROW)
    path.write_text("\n".join(lines) + "\n")
    return path


def _count(page: Page, status: str) -> int:
    return int(page.locator(f".counts [data-status={status}] .n").inner_text())


@needs_postgresql
def test_a_marketer_loads_a_csv_starts_pauses_resumes_and_sees_it_complete(
    page: Page,
    live_server: Any,
    simulator: Simulator,
    worker: subprocess.Popen[bytes],
    admin_user: Any,
    settings: Any,
    tmp_path: Path,
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    app = sim_app(rate_per_minute=120, name="Demo shop (simulator)")
    sim_template(app)
    banner(app)
    login(page, live_server.url)

    page.click("#campaigns-link a.section")
    expect(page.locator("#new-campaign")).to_be_visible()
    page.click("#new-campaign")
    page.fill("#id_name", "Spring sale")
    page.select_option("#id_partner_app", label="Demo shop (simulator)")
    page.check("input[name=kind][value=template]")
    page.select_option("#id_template", index=1)
    page.select_option("#id_media_file", index=1)
    expect(page.locator("#media-readiness")).to_contain_text("has a media id")
    expect(page.locator("#row-caption")).to_be_hidden()
    screenshot(page, "campaign-01-new")
    page.click("input[type=submit][value='Create campaign']")
    expect(page.locator(".messagelist")).to_contain_text("now load its recipients")
    campaign = Campaign.objects.get()

    page.set_input_files("#upload_file", str(_csv(tmp_path / "spring-sale.csv")))
    page.click("button[data-action=upload]")
    expect(page.locator(".messagelist")).to_contain_text(
        "Loaded spring-sale.csv: 20 accepted, 1 rejected, 0 duplicate(s) dropped."
    )
    expect(page.locator("[data-count=rejected]")).to_have_text("1")
    expect(page.locator("#preflight .check-ok")).to_have_count(4)
    expect(page.locator("#preflight .check-failed")).to_have_count(0)
    screenshot(page, "campaign-02-loaded")
    with page.expect_download() as download:
        page.click("#rejected-download")
    rejected = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert "'12345' is not a valid number" in rejected and "Bob" in rejected

    assert worker.poll() is None, "the task worker died"
    page.click("button[data-action=start]")
    expect(page.locator(".messagelist")).to_contain_text("Spring sale started.")
    expect(page.locator("#state-badge")).to_have_text("Running")
    expect(page.locator(".counts [data-status=submitted] .n")).not_to_have_text("0")
    screenshot(page, "campaign-03-running")

    page.click("button[data-action=pause]")
    expect(page.locator("#state-badge")).to_have_text("Paused")
    expect(page.locator("[data-field=state_reason]")).to_have_text(
        "Paused by an operator."
    )
    page.wait_for_timeout(1500)  # a send already in flight may still land
    sent_when_paused = _sent(campaign)
    page.wait_for_timeout(2500)
    assert _sent(campaign) == sent_when_paused, "it kept sending while paused"
    assert sent_when_paused < len(RECIPIENTS)
    page.reload()
    screenshot(page, "campaign-04-paused")

    page.click("button[data-action=resume]")
    expect(page.locator(".messagelist")).to_contain_text("Spring sale resumed.")
    expect(page.locator("#state-badge")).to_have_text("Running")
    # The page refreshes its progress every 2 s and reloads when the state changes.
    expect(page.locator("#state-badge")).to_have_text("Completed", timeout=60_000)
    expect(page.locator("[data-field=percent]")).to_have_text("100%")
    assert _count(page, "submitted") == len(RECIPIENTS)
    assert _count(page, "pending") == 0
    screenshot(page, "campaign-05-completed")

    campaign.refresh_from_db()
    assert campaign.state == CampaignState.COMPLETED
    accepted = [
        r["destination"] for r in simulator.requests("template_msg") if r["accepted"]
    ]
    assert Counter(accepted) == Counter(p.lstrip("+") for p in RECIPIENTS)

    page.goto(f"{live_server.url}/campaigns/")
    expect(page.locator("#campaign-list")).to_contain_text("100%")
    screenshot(page, "campaign-06-list")


def _sent(campaign: Campaign) -> int:
    return campaign.recipients.filter(status=RecipientStatus.SUBMITTED).count()


def test_a_marketer_previews_a_retry_of_failed_recipients_and_sends_them_again(
    page: Page,
    live_server: Any,
    simulator: Simulator,
    admin_user: Any,
    settings: Any,
    tmp_path: Path,
) -> None:
    # Tasks run inline here (the test settings' immediate backend): the retried
    # sends go to the simulator within the request that pressed the button.
    settings.MEDIA_ROOT = tmp_path / "media"
    app = sim_app(name="Demo shop")
    campaign = sim_campaign(phones=phones(6), app=app)
    Campaign.objects.filter(pk=campaign.pk).update(media_file=banner(app))
    rows = list(campaign.recipients.order_by("pk"))
    Recipient.objects.filter(pk__in=[r.pk for r in rows[:3]]).update(
        status=RecipientStatus.FAILED,
        error_code="131049",
        error_message="Marketing message per-user limit reached",
    )
    Recipient.objects.filter(pk=rows[3].pk).update(
        status=RecipientStatus.FAILED,
        error_code="1002",
        error_message="Number Does Not Exists On WhatsApp",
    )
    Recipient.objects.filter(pk__in=[r.pk for r in rows[4:]]).update(
        status=RecipientStatus.SUBMITTED
    )
    Campaign.objects.filter(pk=campaign.pk).update(state=CampaignState.COMPLETED)
    login(page, live_server.url)
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/")

    retry = page.locator("#retry-form")
    expect(retry.locator("button[data-action=retry]")).to_be_disabled()
    retry.locator("label", has_text="131049").click()
    expect(page.locator("#retry-preview")).to_have_text(
        "3 recipients will be sent again."
    )
    retry.locator("label", has_text="1002").click()
    # Not on WhatsApp is for good: left out, unless an approver includes it.
    expect(page.locator("#retry-preview")).to_have_text(
        "3 recipients will be sent again, 1 left out (not on WhatsApp: 1)."
    )
    retry.locator("label.include-permanent").click()
    expect(page.locator("#retry-preview")).to_have_text(
        "4 recipients will be sent again, including 1 that failed for good "
        "(not on WhatsApp: 1)."
    )
    retry.locator("label.include-permanent").click()
    retry.locator("label", has_text="1002").click()
    expect(page.locator("#retry-preview")).to_have_text(
        "3 recipients will be sent again."
    )
    screenshot(page, "campaign-07-retry-preview")

    retry.locator("button[data-action=retry]").click()
    expect(page.locator(".messagelist")).to_contain_text(
        "3 recipients will be sent again."
    )
    expect(page.locator("#state-badge")).to_have_text("Completed")
    assert _count(page, "submitted") == 5 and _count(page, "failed") == 1
    resent = [r["destination"] for r in simulator.requests("template_msg")]
    assert sorted(resent) == sorted(r.phone.lstrip("+") for r in rows[:3])
    screenshot(page, "campaign-08-retried")


def test_cancelling_asks_first_and_does_nothing_when_the_marketer_says_no(
    page: Page, live_server: Any, admin_user: Any
) -> None:
    campaign = sim_campaign(phones=phones(3))
    login(page, live_server.url)
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/")
    asked: list[str] = []

    def answer(accept: bool) -> Any:
        def on_dialog(dialog: Any) -> None:
            asked.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()

        return on_dialog

    page.once("dialog", answer(False))
    page.click("button[data-action=cancel]")
    expect(page.locator("#state-badge")).to_have_text("Draft")
    page.once("dialog", answer(True))
    page.click("button[data-action=cancel]")
    expect(page.locator(".messagelist")).to_contain_text(
        "Spring sale cancelled: 3 recipient(s) will not be sent."
    )
    expect(page.locator("#state-badge")).to_have_text("Cancelled")
    assert len(asked) == 2 and asked[0].startswith("Cancel “Spring sale” for good?")
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.CANCELLED


def test_the_new_campaign_form_adapts_to_the_kind_and_names_each_mistake(
    page: Page, live_server: Any, admin_user: Any
) -> None:
    app = sim_app(name="Demo shop")
    sim_template(app)
    other = PartnerApp.objects.create(
        name="Other shop",
        app_id="0d3e5f6a-1b2c-4d5e-8f90-a1b2c3d4e5f6",
        app_name="othershop",
        source_number="+919643874845",
    )
    login(page, live_server.url)
    page.goto(f"{live_server.url}/campaigns/new/")
    page.select_option("#id_partner_app", label="Other shop")
    expect(page.locator("#id_template option:not([hidden])")).to_have_count(1)
    page.select_option("#id_partner_app", label="Demo shop")
    expect(page.locator("#id_template option:not([hidden])")).to_have_count(2)
    page.check("input[name=kind][value=direct]")
    expect(page.locator("#row-template")).to_be_hidden()
    expect(page.locator("#row-caption")).to_be_visible()
    page.check("input[name=kind][value=template]")
    page.fill("#id_scheduled_at", "2001-01-01T10:00")
    page.click("input[type=submit][value='Create campaign']")

    expect(page.locator(".errornote")).to_contain_text("Please correct the errors")
    expect(page.locator("#row-name .errorlist")).to_have_text("This field is required.")
    expect(page.locator("#row-template .errorlist")).to_have_text(
        "Choose an approved image template."
    )
    expect(page.locator("#row-scheduled_at .errorlist")).to_contain_text(
        "This time has already passed"
    )
    screenshot(page, "campaign-00-form-errors")
    assert other.pk and not Campaign.objects.exists()
