"""The audit trail: who created, approved, started, paused, cancelled a campaign,
and who changed an app's or a channel's secrets (never the secret itself)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import responses
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditAction, AuditEvent
from audit.selectors import audit_events_for
from campaigns.lifecycle import approvals, controls, drafts, retries
from campaigns.models import Campaign, CampaignKind, CampaignState, RecipientStatus
from campaigns.recipients import loading
from gupshup_admin import app_sync
from gupshup_admin import services as app_services
from gupshup_admin.models import CommBoxChannel, PartnerApp
from gupshup_admin.simulator import Simulator
from tests.conftest import APP_TOKEN, PARTNER_SECRET
from tests.factories import phones, ready_media, sim_app, sim_template
from tests.gupshup_admin.payloads import (
    FETCHED_TOKEN,
    LOGIN_URL,
    PARTNER_JWT,
    TOKEN_URL,
    app_token_ok,
    login_ok,
)


def trail(target: Any) -> list[tuple[str, str]]:
    """(action, actor name) of the target's lines, oldest first."""
    rows = audit_events_for(target=target).order_by("pk")
    return [(row.action, row.actor_name) for row in rows]


def campaign_by(author: User, count: int = 4) -> Campaign:
    app = sim_app()
    campaign = drafts.campaign_create(
        user_id=author.pk,
        name="Spring sale",
        partner_app=app,
        kind=CampaignKind.TEMPLATE,
        template=sim_template(app),
        media_file=ready_media(app),
    )
    lines = "\n".join(f"{p},Asha,10%" for p in phones(count))
    loading.recipients_import_pasted(campaign=campaign, text=lines, user_id=author.pk)
    return campaign


def test_a_campaigns_life_is_written_down_with_who_did_each_step(
    maya: User, arjun: User, bela: User, settings: Any
) -> None:
    settings.CAMPAIGN_APPROVAL_THRESHOLD = 2
    campaign = campaign_by(maya)
    approvals.campaign_approve(
        campaign=campaign,
        user=arjun,
        fingerprint=approvals.campaign_fingerprint(campaign=campaign),
    )
    controls.campaign_start(campaign=campaign, user_id=bela.pk)
    controls.campaign_pause(campaign=campaign, user_id=arjun.pk)
    controls.campaign_resume(campaign=campaign, user_id=bela.pk)
    controls.campaign_cancel(campaign=campaign, user_id=arjun.pk)
    assert trail(campaign) == [
        (AuditAction.CAMPAIGN_CREATED, "maya"),
        (AuditAction.RECIPIENTS_IMPORTED, "maya"),
        (AuditAction.CAMPAIGN_APPROVED, "arjun"),
        (AuditAction.CAMPAIGN_STARTED, "bela"),
        (AuditAction.CAMPAIGN_PAUSED, "arjun"),
        (AuditAction.CAMPAIGN_RESUMED, "bela"),
        (AuditAction.CAMPAIGN_CANCELLED, "arjun"),
    ]
    approved = AuditEvent.objects.get(action=AuditAction.CAMPAIGN_APPROVED)
    assert approved.summary == "Approved for 4 recipient(s)."
    assert approved.target_label == "Spring sale"
    assert approved.target_type == "campaigns.campaign"


def test_a_refused_transition_writes_nothing(maya: User, arjun: User) -> None:
    campaign = campaign_by(maya)
    with pytest.raises(Exception, match="cannot be paused"):
        controls.campaign_pause(campaign=campaign, user_id=arjun.pk)
    assert AuditAction.CAMPAIGN_PAUSED not in [action for action, _ in trail(campaign)]


def test_retries_resolutions_and_rejections_are_written_down(
    maya: User, arjun: User
) -> None:
    campaign = campaign_by(maya)
    approvals.campaign_reject(campaign=campaign, user=arjun, reason="Wrong image.")
    Campaign.objects.filter(pk=campaign.pk).update(state=CampaignState.COMPLETED)
    campaign.refresh_from_db()
    rows = list(campaign.recipients.order_by("pk"))
    campaign.recipients.filter(pk=rows[0].pk).update(status=RecipientStatus.UNKNOWN)
    campaign.recipients.filter(pk__in=[r.pk for r in rows[1:]]).update(
        status=RecipientStatus.FAILED, error_code="131049"
    )
    retries.recipients_resolve_unknown(
        recipients=campaign.recipients.all(), outcome="failed", user_id=arjun.pk
    )
    # A rejected campaign is not started again by a retry: it ran already.
    retries.campaign_retry_failed(campaign=campaign, codes=["131049"], user_id=arjun.pk)
    lines = audit_events_for(target=campaign).order_by("pk")
    summaries = {line.action: line.summary for line in lines}
    assert summaries[AuditAction.CAMPAIGN_REJECTED] == "Rejected: Wrong image."
    assert (
        summaries[AuditAction.UNKNOWNS_RESOLVED]
        == "1 unknown send(s) resolved as failed."
    )
    assert summaries[AuditAction.CAMPAIGN_RETRIED] == (
        "3 failed recipient(s) sent again (131049)."
    )


def test_a_scheduled_start_is_written_down_as_the_systems(
    maya: User, arjun: User
) -> None:
    campaign = campaign_by(maya)
    campaign.scheduled_at = timezone.now() + timedelta(minutes=5)
    campaign.save()
    controls.campaign_start(campaign=campaign, user_id=arjun.pk)
    Campaign.objects.filter(pk=campaign.pk).update(
        scheduled_at=timezone.now() - timedelta(minutes=1)
    )
    campaign.refresh_from_db()
    assert controls.campaign_start_scheduled(campaign=campaign)
    assert trail(campaign)[-2:] == [
        (AuditAction.CAMPAIGN_SCHEDULED, "arjun"),
        (AuditAction.CAMPAIGN_STARTED, "system"),
    ]
    assert AuditEvent.objects.filter(
        summary__startswith="Started on schedule."
    ).exists()


def test_the_campaign_page_shows_its_lines(
    client: Client, maya: User, rita: User
) -> None:
    campaign = campaign_by(maya)
    client.force_login(rita)
    html = client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    assert 'id="audit-lines"' in html
    assert "Campaign created" in html and "Recipients imported" in html
    assert "Loaded pasted list: 4 accepted" in html
    assert "This campaign in the audit trail" in html


# --- secrets ------------------------------------------------------------------------


def app_form(**overrides: str) -> dict[str, str]:
    data = {
        "name": "Spring shop",
        "app_id": "947d28b8-459b-4dfe-9d4c-0ac8c6c245c9",
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
    return data


def test_an_admin_who_pastes_a_token_is_written_down_with_its_hint_only(
    client: Client, ada: User
) -> None:
    client.force_login(ada)
    client.post(
        reverse("admin:gupshup_admin_partnerapp_add"),
        app_form(new_app_token=APP_TOKEN),
    )
    app = PartnerApp.objects.get()
    url = reverse("admin:gupshup_admin_partnerapp_change", args=[app.pk])
    client.post(url, app_form(name="Spring shop 2"))  # no secret: no line
    client.post(
        url,
        app_form(partner_email="p@example.com", new_partner_secret=PARTNER_SECRET),
    )
    lines = AuditEvent.objects.filter(action=AuditAction.APP_SECRETS_CHANGED).order_by(
        "pk"
    )
    assert [(line.actor, line.summary) for line in lines] == [
        (ada, "App token pasted sk_…16a1."),
        (ada, "Partner client secret set …t-42."),
    ]
    stored = str(list(AuditEvent.objects.values()))
    assert APP_TOKEN not in stored and PARTNER_SECRET not in stored


def test_a_cleared_token_and_a_changed_channel_key_are_written_down(
    ada: User, partner_app_with_credentials: PartnerApp
) -> None:
    app_services.partner_app_update_secrets(
        app=partner_app_with_credentials, clear_app_token=True, user_id=ada.pk
    )
    channel = CommBoxChannel(name="Main CommBox", stream_id="Zx81-stream_ID=")
    key = "cbx_live_key_0123456789abcdef"
    app_services.commbox_channel_update_secrets(
        channel=channel, api_key=key, user_id=ada.pk
    )
    app_services.commbox_channel_update_secrets(
        channel=channel, api_key=key, user_id=ada.pk
    )  # the same key again changes nothing
    summaries = list(AuditEvent.objects.order_by("pk").values_list("action", "summary"))
    assert summaries == [
        (AuditAction.APP_SECRETS_CHANGED, "App token cleared."),
        (AuditAction.CHANNEL_KEY_CHANGED, f"API key set {channel.api_key_hint}."),
    ]
    assert key not in str(list(AuditEvent.objects.values()))


def test_a_fetched_token_is_written_down_with_its_hint(
    ada: User, partner_app_with_credentials: PartnerApp
) -> None:
    with responses.RequestsMock() as mocked:
        mocked.post(LOGIN_URL, json=login_ok())
        mocked.get(TOKEN_URL, json=app_token_ok())
        app_services.partner_app_fetch_token(
            app=partner_app_with_credentials, user_id=ada.pk
        )
    line = AuditEvent.objects.get(action=AuditAction.APP_TOKEN_FETCHED)
    assert line.actor == ada
    assert line.summary == "App token fetched sk_…b7a6."
    stored = str(list(AuditEvent.objects.values()))
    assert FETCHED_TOKEN not in stored and PARTNER_JWT not in stored


def test_registering_the_callback_is_written_down_without_its_secret(
    ada: User, settings: Any
) -> None:
    settings.SITE_URL = "https://admin.example.com"
    app = sim_app()
    with Simulator() as sim:
        settings.GUPSHUP_API_BASE = sim.base_url
        app_sync.partner_app_register_callback(app=app, user_id=ada.pk)
    line = AuditEvent.objects.get(action=AuditAction.APP_CALLBACK_REGISTERED)
    assert line.actor == ada
    assert f"/webhooks/gupshup/{app.pk}/" in line.summary
    assert app.callback_secret not in str(list(AuditEvent.objects.values()))


def test_the_trail_cannot_be_edited_or_deleted_even_by_a_superuser(
    client: Client, maya: User
) -> None:
    campaign_by(maya)
    line = AuditEvent.objects.first()
    assert line is not None
    boss = User.objects.create_superuser("boss", "boss@example.com", "boss-pw-12345")
    client.force_login(boss)
    change = reverse("admin:audit_auditevent_change", args=[line.pk])
    page = client.get(change)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.post(change, {"summary": "nothing happened"}).status_code == 403
    delete = reverse("admin:audit_auditevent_delete", args=[line.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.filter(pk=line.pk).exists()
    listing = client.get(
        reverse("admin:audit_auditevent_changelist"),
        {"action": AuditAction.CAMPAIGN_CREATED},
    )
    assert listing.status_code == 200
    assert "Campaign created" in listing.content.decode()
