"""A reviewer reads a finished demo campaign's history in the browser.

Everything is real: a `db_worker` process sends to the simulator, the simulator
POSTs its delivery callbacks to the live server (subscribed through
`partner_app_register_callback`, secret header and all), the callback view
stores them and the worker processes them. Then the report shows the funnel
with delivered and read counts, the failures explained, and each recipient's
timeline with its request and raw callbacks. Needs PostgreSQL (the worker
shares the test database).
"""

from __future__ import annotations

import csv
import io
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from campaigns.models import Campaign, Recipient, WebhookEvent, WebhookState
from gupshup_admin import app_sync
from gupshup_admin.simulator import Simulator
from tests.e2e.conftest import banner, login, needs_postgresql, screenshot
from tests.factories import phones, sim_app, sim_campaign

pytestmark = needs_postgresql

DELIVERED = phones(4)
NOT_ON_WHATSAPP = phones(1, start=10, suffix="1002")[0]
OPTED_OUT = phones(1, start=11, suffix="1012")[0]


def _wait_until_settled(
    campaign: Campaign,
    worker: Any,
    seconds: float = 60,
    want: Counter[str] | None = None,
) -> None:
    """Every recipient read or failed and every stored callback processed."""
    want = want or Counter({"read": len(DELIVERED), "failed": 2})
    deadline = time.monotonic() + seconds
    statuses: Counter[str] = Counter()
    while time.monotonic() < deadline:
        assert worker.poll() is None, "the task worker died"
        statuses = Counter(campaign.recipients.values_list("status", flat=True))
        waiting = WebhookEvent.objects.filter(state=WebhookState.RECEIVED).exists()
        if statuses == want and not waiting:
            return
        time.sleep(0.3)
    raise AssertionError(f"not settled after {seconds} s: {dict(statuses)}")


def _live_campaign(
    numbers: list[str], live_server: Any, settings: Any, tmp_path: Path
) -> tuple[Campaign, str]:
    """A campaign on the simulator's demo app, whose callbacks come to the live
    server (subscribed as the app page's button does); and their URL."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SITE_URL = live_server.url
    app = sim_app(name="Demo shop (simulator)")
    hook = app_sync.partner_app_register_callback(app=app)
    campaign = sim_campaign(phones=numbers, app=app, name="Spring sale")
    Campaign.objects.filter(pk=campaign.pk).update(media_file=banner(app))
    return campaign, hook


def _n(page: Page, step: str) -> str:
    return page.locator(f"#funnel [data-step={step}] .n").inner_text()


def test_a_reviewer_reads_the_funnel_failures_and_timelines_of_a_demo_campaign(
    page: Page,
    live_server: Any,
    simulator: Simulator,
    worker: subprocess.Popen[bytes],
    admin_user: Any,
    settings: Any,
    tmp_path: Path,
) -> None:
    campaign, hook = _live_campaign(
        [*DELIVERED, NOT_ON_WHATSAPP, OPTED_OUT], live_server, settings, tmp_path
    )
    assert hook.startswith(live_server.url)
    login(page, live_server.url)

    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/")
    page.click("button[data-action=start]")
    expect(page.locator(".messagelist")).to_contain_text("Spring sale started.")
    _wait_until_settled(campaign, worker)
    assert simulator.wait_for_callbacks(10)
    sent = [c for c in simulator.callbacks_sent() if c["ok"]]
    # `hook` is what the admin is shown, its secret masked; Gupshup got it whole.
    app = campaign.partner_app
    assert {c["url"] for c in sent} == {app_sync.partner_app_callback_url(app=app)}
    assert WebhookEvent.objects.filter(state=WebhookState.PROCESSED).count() >= 18

    page.reload()
    expect(page.locator("#state-badge")).to_have_text("Completed")
    screenshot(page, "history-01-campaign-page-links")
    page.click("#report-link")
    expect(page.locator("h1")).to_contain_text("Report: Spring sale")
    assert _n(page, "total") == "6"
    # Gupshup took all six; it refused two itself (not on WhatsApp, opted out).
    assert (_n(page, "submitted"), _n(page, "sent")) == ("6", "4")
    assert _n(page, "delivered") == "4" and _n(page, "read") == "4"
    assert _n(page, "failed") == "2"
    failures = page.locator("#failure-groups tbody tr")
    expect(failures).to_have_count(2)
    not_on_whatsapp = page.locator("#failure-groups tr[data-code='1002']")
    expect(not_on_whatsapp).to_contain_text("The number is not on WhatsApp.")
    expect(not_on_whatsapp).to_contain_text("Remove it from your list.")
    opted_out = page.locator("#failure-groups tr[data-code='1012']")
    expect(opted_out).to_contain_text("opted out of messages from this business")
    expect(page.locator("svg.rate-chart rect.bar")).not_to_have_count(0)
    screenshot(page, "history-02-report")

    with page.expect_download() as download:
        page.click("#export-all")
    exported = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert Counter(r["status"] for r in rows) == {"read": 4, "failed": 2}
    assert {r["error_code"] for r in rows if r["status"] == "failed"} == {
        "1002",
        "1012",
    }

    page.fill("#find input[name=q]", NOT_ON_WHATSAPP[-8:])
    page.click("#find input[type=submit]")
    page.click(f"#found a:has-text('{NOT_ON_WHATSAPP}')")
    expect(page.locator("h1")).to_contain_text(NOT_ON_WHATSAPP)
    timeline = page.locator("ol.timeline > li")
    expect(timeline).to_have_count(2)  # the request, then Gupshup's own refusal
    expect(timeline.nth(0)).to_contain_text("POST template_msg")
    expect(page.locator("li[data-status=failed]")).to_contain_text(
        "The number is not on WhatsApp."
    )
    expect(page.locator("li[data-status=failed] pre.callback")).to_contain_text(
        '"type": "failed"'
    )
    screenshot(page, "history-03-recipient-failed")

    first = Recipient.objects.get(campaign=campaign, phone=DELIVERED[0])
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/")
    page.click(f"#recipients-table a.recipient-link:has-text('{first.phone}')")
    expect(page.locator("#recipient-status")).to_have_text("Read")
    statuses = page.locator("ol.timeline > li[data-kind=status]")
    expect(statuses).to_have_count(4)
    assert statuses.evaluate_all("els => els.map(e => e.dataset.status)") == [
        "enqueued", "sent", "delivered", "read",
    ]  # fmt: skip
    expect(page.locator("ol.timeline pre.callback")).to_have_count(4)
    page.click("li[data-kind=exchange] details summary")
    expect(page.locator("li[data-kind=exchange] details")).to_contain_text(
        '"status": "submitted"'
    )
    screenshot(page, "history-04-recipient-read")

    page.goto(f"{live_server.url}/admin/campaigns/webhookevent/")
    expect(page.locator("#result_list tbody tr")).not_to_have_count(0)
    screenshot(page, "history-05-callbacks-admin")
    page.locator("#result_list tbody tr th a").first.click()
    expect(page.locator("pre.callback-body")).to_contain_text('"app"')
    screenshot(page, "history-06-callback-admin")

    page.goto(f"{live_server.url}/admin/campaigns/recipient/{first.pk}/change/")
    expect(page.locator("body")).to_contain_text("Attempts")
    screenshot(page, "history-07-recipient-admin")


HELD_BACK = phones(1, start=20, suffix="1049")[0]  # 131049 once, then delivered
STOPPED = phones(1, start=21, suffix="1050")[0]  # 131050: stopped marketing


def test_a_retried_recipient_shows_its_second_attempts_statuses_everywhere(
    page: Page,
    live_server: Any,
    simulator: Simulator,
    worker: subprocess.Popen[bytes],
    admin_user: Any,
    settings: Any,
    tmp_path: Path,
) -> None:
    numbers = [*DELIVERED[:2], HELD_BACK, STOPPED]
    campaign, _ = _live_campaign(numbers, live_server, settings, tmp_path)
    login(page, live_server.url)
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/")
    page.click("button[data-action=start]")
    _wait_until_settled(campaign, worker, want=Counter({"read": 2, "failed": 2}))

    page.reload()
    retry = page.locator("#retry-form")
    retry.locator("label", has_text="131049").click()
    retry.locator("label", has_text="131050").click()
    expect(retry.locator("label[data-code='131050']")).to_contain_text(
        "failed for good: stopped marketing"
    )
    expect(page.locator("#retry-preview")).to_have_text(
        "1 recipient will be sent again, 1 left out (stopped marketing: 1)."
    )
    screenshot(page, "retry-01-preview-leaves-out-permanent")
    retry.locator("button[data-action=retry]").click()
    expect(page.locator(".messagelist")).to_contain_text(
        "1 recipient will be sent again. 1 left out, failed for good"
    )
    _wait_until_settled(campaign, worker, want=Counter({"read": 3, "failed": 1}))
    resent = [r["destination"] for r in simulator.requests("template_msg")]
    assert Counter(resent)[HELD_BACK.lstrip("+")] == 2
    assert Counter(resent)[STOPPED.lstrip("+")] == 1

    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/report/")
    assert (_n(page, "total"), _n(page, "read"), _n(page, "failed")) == ("4", "3", "1")
    read_step = page.locator("#funnel [data-step=read] .att")
    expect(read_step).to_have_text("3 att.")
    expect(page.locator("#funnel [data-step=total] .att")).to_have_text("5 att.")
    legend = page.locator("ul.legend")
    expect(legend).to_contain_text("Submitted 4")
    expect(page.locator("#failure-groups tbody tr")).to_have_count(1)
    expect(page.locator("#failure-groups tr[data-code='131050']")).to_be_visible()
    screenshot(page, "retry-02-report")

    held = Recipient.objects.get(campaign=campaign, phone=HELD_BACK)
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/recipients/{held.pk}/")
    expect(page.locator("#recipient-status")).to_have_text("Read")
    first = page.locator("#attempt-1")
    expect(first).to_have_attribute("data-status", "failed")
    expect(first.locator("li[data-kind=status]")).to_have_count(2)
    expect(first).to_contain_text("WhatsApp held back this marketing message")
    latest = page.locator("#attempt-2.latest")
    expect(latest).to_have_attribute("data-status", "read")
    statuses = latest.locator("li[data-kind=status]")
    assert statuses.evaluate_all("els => els.map(e => e.dataset.status)") == [
        "enqueued", "sent", "delivered", "read",
    ]  # fmt: skip
    expect(latest.locator("li[data-kind=exchange]")).to_have_count(1)
    screenshot(page, "retry-03-recipient-two-attempts")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "retry-04-recipient-two-attempts-phone")
