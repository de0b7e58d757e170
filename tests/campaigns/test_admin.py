"""The campaign and recipient admin: read-mostly, and the operator's verdict on
recipients whose outcome is unknown."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse

from campaigns.models import (
    Campaign,
    CampaignState,
    Recipient,
    RecipientStatus,
    SenderSlot,
)
from campaigns.recipients.loading import recipients_import_pasted
from gupshup_admin.models import HealthStatus, PartnerApp
from tests.factories import phones, sim_campaign

RECIPIENTS = reverse("admin:campaigns_recipient_changelist")


@pytest.fixture
def client(client: Client, alice: User) -> Client:
    client.force_login(alice)
    return client


def completed_with_unknowns(unknown: int = 2, sent: int = 1) -> Campaign:
    campaign = sim_campaign(phones=phones(unknown + sent))
    Campaign.objects.filter(pk=campaign.pk).update(state=CampaignState.COMPLETED)
    rows = list(campaign.recipients.order_by("pk"))
    Recipient.objects.filter(pk__in=[r.pk for r in rows[:unknown]]).update(
        status=RecipientStatus.UNKNOWN,
        error_code="ReadTimeout",
        error_message="No answer in time",
    )
    Recipient.objects.filter(pk__in=[r.pk for r in rows[unknown:]]).update(
        status=RecipientStatus.SUBMITTED
    )
    campaign.refresh_from_db()
    return campaign


def act(client: Client, action: str, rows: Any) -> Any:
    data = {"action": action, "_selected_action": [r.pk for r in rows]}
    return client.post(RECIPIENTS, data, follow=True)


def statuses(campaign: Campaign) -> list[str]:
    return list(campaign.recipients.order_by("pk").values_list("status", flat=True))


def test_the_campaign_list_shows_state_app_kind_and_a_link_to_its_page(
    client: Client, alice: User
) -> None:
    campaign = sim_campaign(phones=phones(2))
    Campaign.objects.filter(pk=campaign.pk).update(
        state=CampaignState.PAUSED, created_by=alice
    )
    html = client.get(reverse("admin:campaigns_campaign_changelist")).content.decode()
    assert "Spring sale" in html and "Demo shop" in html and "alice" in html
    assert 'class="state-badge"' in html and ">Paused</span>" in html
    assert f'href="{reverse("campaigns:detail", args=[campaign.pk])}"' in html
    assert "Open campaign page" in html


def test_a_campaign_shows_its_imports_read_only(client: Client) -> None:
    campaign = sim_campaign(phones=[])
    recipients_import_pasted(campaign=campaign, text="+919876543210,A,B", user_id=None)
    change = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    html = client.get(change).content.decode()
    assert "pasted list" in html
    assert 'name="imports-0-filename"' not in html  # not an input


def test_a_started_campaign_cannot_be_edited_or_deleted_in_the_admin(
    client: Client,
) -> None:
    campaign = sim_campaign(phones=phones(1))
    Campaign.objects.filter(pk=campaign.pk).update(state=CampaignState.RUNNING)
    change = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    html = client.get(change).content.decode()
    assert 'name="name"' not in html and 'name="partner_app"' not in html
    delete = reverse("admin:campaigns_campaign_delete", args=[campaign.pk])
    assert client.get(delete).status_code == 403
    assert client.get(reverse("admin:campaigns_campaign_add")).status_code == 403


def test_a_draft_campaign_stays_editable_but_not_its_state(client: Client) -> None:
    campaign = sim_campaign(phones=[])
    change = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    html = client.get(change).content.decode()
    assert 'name="name"' in html and 'name="state"' not in html


def test_recipients_are_listed_searchable_and_cannot_be_changed_by_hand(
    client: Client,
) -> None:
    campaign = completed_with_unknowns()
    recipient = campaign.recipients.order_by("pk").first()
    assert recipient is not None
    found = client.get(RECIPIENTS, {"q": recipient.phone})
    assert list(found.context["cl"].result_list) == [recipient]
    change = reverse("admin:campaigns_recipient_change", args=[recipient.pk])
    page = client.get(change)
    assert page.status_code == 200
    assert 'name="status"' not in page.content.decode()
    assert client.post(change, {"status": "submitted"}).status_code == 403
    assert client.get(reverse("admin:campaigns_recipient_add")).status_code == 403
    recipient.refresh_from_db()
    assert recipient.status == RecipientStatus.UNKNOWN


def test_resolving_unknowns_as_arrived_marks_only_the_unknown_ones_submitted(
    client: Client,
) -> None:
    campaign = completed_with_unknowns(unknown=2, sent=1)
    response = act(client, "resolve_arrived", campaign.recipients.all())
    assert [str(m) for m in response.context["messages"]] == [
        "2 unknown recipient(s) marked as sent."
    ]
    assert statuses(campaign) == ["submitted"] * 3
    assert (
        campaign.recipients.filter(
            error_message="Resolved by an operator as submitted."
        ).count()
        == 2
    )


def test_resolving_unknowns_as_failed_fails_them_with_the_operator_code(
    client: Client,
) -> None:
    campaign = completed_with_unknowns(unknown=2, sent=1)
    response = act(client, "resolve_failed", campaign.recipients.all())
    assert "2 unknown recipient(s) marked as failed." in response.content.decode()
    assert statuses(campaign) == ["failed", "failed", "submitted"]
    assert set(
        campaign.recipients.filter(status="failed").values_list("error_code", flat=True)
    ) == {"operator"}


def test_resolving_unknowns_as_send_again_runs_the_completed_campaign_again(
    client: Client, settings: Any
) -> None:
    settings.CAMPAIGN_SENDERS = 1
    campaign = completed_with_unknowns(unknown=2, sent=1)
    response = act(client, "resolve_resend", campaign.recipients.all())
    assert "2 unknown recipient(s) will be sent again." in response.content.decode()
    assert statuses(campaign) == ["pending", "pending", "submitted"]
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.RUNNING
    assert SenderSlot.objects.count() == 1


def test_send_again_refused_by_preflight_shows_the_reason_and_changes_nothing(
    client: Client,
) -> None:
    campaign = completed_with_unknowns(unknown=1, sent=1)
    PartnerApp.objects.filter(pk=campaign.partner_app_id).update(
        health_status=HealthStatus.UNHEALTHY, health_message="App is not live."
    )
    response = act(client, "resolve_resend", campaign.recipients.all())
    [message] = list(response.context["messages"])
    assert message.level_tag == "error"
    assert "The campaign cannot start:" in str(message)
    assert "App is not live." in str(message)
    assert statuses(campaign) == ["unknown", "submitted"]


def test_staff_who_may_only_view_recipients_get_no_resolve_actions(
    client: Client,
) -> None:
    viewer = User.objects.create_user("vic", password="vic-password-1", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_recipient"))
    client.force_login(viewer)
    campaign = completed_with_unknowns(unknown=1, sent=0)
    page = client.get(RECIPIENTS).content.decode()
    assert "resolve_arrived" not in page
    act(client, "resolve_arrived", campaign.recipients.all())
    assert statuses(campaign) == ["unknown"]
