"""Four-eyes in the browser: Maya (marketer) loaded a campaign above the approval
threshold; she cannot start it. Arjun (approver) opens the approval screen, sees the
frozen audience, the messages as they will arrive, the duration and the media
check, and approves it; then Start is there for him."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from campaigns.lifecycle import drafts
from campaigns.models import ApprovalState, Campaign, CampaignKind
from campaigns.recipients import loading
from tests.e2e.conftest import PASSWORD, banner, login, screenshot
from tests.factories import phones, sim_app, sim_template
from tests.personas import persona

NAMES = ["Asha", "Ravi", "Meera", "Kabir", "Isha", "Dev", "Tara", "Nikhil"]


def _campaign(author: Any) -> Campaign:
    app = sim_app(rate_per_minute=120, name="Demo shop (simulator)")
    campaign = drafts.campaign_create(
        user_id=author.pk,
        name="Spring sale",
        partner_app=app,
        kind=CampaignKind.TEMPLATE,
        template=sim_template(app),
        media_file=banner(app),
    )
    rows = [
        f"{phone},{NAMES[i % len(NAMES)]},{10 + 5 * (i % 4)}%"
        for i, phone in enumerate(phones(240))
    ]
    loading.recipients_import_pasted(
        campaign=campaign, text="\n".join(rows), user_id=author.pk
    )
    return campaign


def _person(username: str) -> Any:
    user = persona(username)
    user.set_password(PASSWORD)
    user.save()
    return user


def test_an_approver_reviews_the_samples_and_approves_a_big_campaign(
    page: Page, live_server: Any, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CAMPAIGN_APPROVAL_THRESHOLD = 100
    maya, _ = _person("maya"), _person("arjun")
    campaign = _campaign(maya)
    detail = f"{live_server.url}/campaigns/{campaign.pk}/"

    login(page, live_server.url, "maya")
    page.goto(detail)
    expect(page.locator("#approval-message")).to_contain_text(
        "needs approval before it can start"
    )
    expect(page.locator("#send-not-allowed")).to_be_visible()
    expect(page.locator("#review-link")).to_have_count(0)
    page.context.clear_cookies()

    login(page, live_server.url, "arjun")
    page.goto(detail)
    expect(page.locator("#start-blocked")).to_be_visible()
    expect(page.locator("#upload-form")).to_have_count(0)
    page.click("#review-link")
    expect(page.locator("h1")).to_contain_text("Approve “Spring sale”")
    expect(page.locator("[data-count=audience]")).to_have_text("240")
    expect(page.locator("#fact-audience")).to_contain_text(
        "above the approval threshold of 100"
    )
    expect(page.locator("#fact-duration")).to_contain_text("about 2 minutes")
    expect(page.locator("#fact-media")).to_contain_text("valid")
    samples = page.locator("li.sample")
    expect(samples).to_have_count(5)
    expect(samples.first).to_contain_text("Hi Asha, 10% off today!")
    expect(samples.last).to_contain_text("recipient 240 of 240")
    expect(samples.first.locator("mark.value")).to_have_text(["Asha", "10%"])
    for n in range(5):  # the image itself, loaded, in every sample
        loaded = samples.nth(n).locator("img").evaluate("i => i.naturalWidth")
        assert loaded == 640
    expect(page.locator("#preflight .check-failed")).to_have_count(0)
    screenshot(page, "approval-01-screen")

    page.click("button[data-action=approve]")
    expect(page.locator(".messagelist")).to_contain_text(
        "Spring sale is approved for 240 recipient(s)"
    )
    expect(page.locator("#approval-message")).to_contain_text("Approved by arjun")
    expect(page.locator("button[data-action=start]")).to_be_visible()
    expect(page.locator("#audit-lines")).to_contain_text("Campaign approved")
    screenshot(page, "approval-02-approved")
    campaign.refresh_from_db()
    assert campaign.approval == ApprovalState.APPROVED
    assert campaign.approved_recipients == 240
