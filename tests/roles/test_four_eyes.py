"""Four-eyes: a campaign above CAMPAIGN_APPROVAL_THRESHOLD starts only once someone
other than its author has approved exactly what it will send.

Maya (marketer) prepares campaigns, Arjun and Bela (approvers) approve and start
them, Ada (admin) may do everything except approve what she authored.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditAction, AuditEvent
from campaigns.lifecycle import approvals, controls, drafts
from campaigns.models import (
    ApprovalState,
    Campaign,
    CampaignKind,
    CampaignState,
    Recipient,
)
from campaigns.recipients import loading
from gupshup_admin.exceptions import ApplicationError
from gupshup_admin.models import Template
from media_library.models import MediaFile, ProviderMedia
from tests.factories import phones, ready_media, sim_app, sim_template

THRESHOLD = 3


@pytest.fixture(autouse=True)
def threshold(settings: Any) -> None:
    settings.CAMPAIGN_APPROVAL_THRESHOLD = THRESHOLD


def pasted(numbers: list[str]) -> str:
    names = ["Asha", "Ravi", "Meera", "Kabir", "Isha", "Dev"]
    return "\n".join(f"{p},{names[i % 6]},{10 + i}%" for i, p in enumerate(numbers))


def campaign_by(author: User, count: int, *, start: int = 1) -> Campaign:
    """A template campaign made and loaded by `author`, ready in every other way."""
    app = sim_app()
    campaign = drafts.campaign_create(
        user_id=author.pk,
        name="Spring sale",
        partner_app=app,
        kind=CampaignKind.TEMPLATE,
        template=sim_template(app),
        media_file=ready_media(app),
    )
    load(campaign, author, count, start=start)
    return campaign


def load(campaign: Campaign, who: User, count: int, *, start: int = 1) -> None:
    loading.recipients_import_pasted(
        campaign=campaign, text=pasted(phones(count, start=start)), user_id=who.pk
    )


def admin_form(client: Client, campaign: Campaign) -> tuple[str, dict[str, Any]]:
    """The campaign's admin page and what its form would post unchanged."""
    url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    form = client.get(url).context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if name in form.fields and value is not None
    }
    return url, {**data, "imports-TOTAL_FORMS": "0", "imports-INITIAL_FORMS": "0"}


def approve(campaign: Campaign, who: User) -> Campaign:
    fingerprint = approvals.campaign_fingerprint(campaign=campaign)
    return approvals.campaign_approve(
        campaign=campaign, user=who, fingerprint=fingerprint
    )


def start(campaign: Campaign, who: User) -> Campaign:
    controls.campaign_start(campaign=campaign, user_id=who.pk)
    campaign.refresh_from_db()
    return campaign


# --- when approval is needed ----------------------------------------------------------


def test_a_campaign_within_the_threshold_starts_without_approval(
    maya: User, arjun: User
) -> None:
    campaign = campaign_by(maya, THRESHOLD)
    assert start(campaign, arjun).state == CampaignState.RUNNING


def test_with_the_threshold_at_zero_nothing_needs_approval(
    maya: User, arjun: User, settings: Any
) -> None:
    settings.CAMPAIGN_APPROVAL_THRESHOLD = 0
    campaign = campaign_by(maya, 10)
    assert start(campaign, arjun).state == CampaignState.RUNNING


def test_a_campaign_above_the_threshold_does_not_start_unapproved(
    maya: User, arjun: User
) -> None:
    campaign = campaign_by(maya, THRESHOLD + 1)
    with pytest.raises(ApplicationError) as refused:
        start(campaign, arjun)
    assert "needs approval before it can start" in refused.value.message
    assert f"more than the approval threshold of {THRESHOLD}" in refused.value.message
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.DRAFT
    assert not AuditEvent.objects.filter(action=AuditAction.CAMPAIGN_STARTED).exists()


def test_a_scheduled_start_is_refused_too(maya: User, arjun: User) -> None:
    campaign = campaign_by(maya, THRESHOLD + 1)
    campaign.scheduled_at = timezone.now() + timedelta(hours=1)
    campaign.save()
    with pytest.raises(ApplicationError, match="needs approval"):
        start(campaign, arjun)
    assert Campaign.objects.get().state == CampaignState.DRAFT


def test_approved_by_another_person_it_starts(
    maya: User, arjun: User, bela: User
) -> None:
    campaign = approve(campaign_by(maya, THRESHOLD + 2), arjun)
    assert campaign.approval == ApprovalState.APPROVED
    assert campaign.approval_by == arjun
    assert campaign.approved_recipients == THRESHOLD + 2
    assert start(campaign, bela).state == CampaignState.RUNNING


# --- who may approve ------------------------------------------------------------------


def test_the_author_cannot_approve_their_own_campaign(ada: User, arjun: User) -> None:
    campaign = campaign_by(ada, THRESHOLD + 1)  # Ada may approve, but not this one
    with pytest.raises(
        ApplicationError, match="you created it, loaded its recipients or edited it"
    ):
        approve(campaign, ada)
    with pytest.raises(
        ApplicationError, match="you created it, loaded its recipients or edited it"
    ):
        approvals.campaign_reject(campaign=campaign, user=ada, reason="No.")
    assert Campaign.objects.get().approval == ApprovalState.NONE


def test_whoever_loaded_recipients_cannot_approve_either(
    maya: User, ada: User, arjun: User
) -> None:
    campaign = campaign_by(maya, 2)
    load(campaign, ada, 2, start=50)
    with pytest.raises(
        ApplicationError, match="you created it, loaded its recipients or edited it"
    ):
        approve(campaign, ada)
    assert approve(campaign, arjun).approval == ApprovalState.APPROVED


def test_someone_without_the_approve_permission_cannot_approve(
    maya: User, rita: User
) -> None:
    campaign = campaign_by(maya, THRESHOLD + 1)
    with pytest.raises(ApplicationError, match="ask an approver"):
        approve(campaign, rita)


def test_the_author_sees_why_on_the_approval_screen_and_has_no_buttons(
    client: Client, ada: User
) -> None:
    campaign = campaign_by(ada, THRESHOLD + 1)
    client.force_login(ada)
    page = client.get(reverse("campaigns:approve", args=[campaign.pk])).content
    html = page.decode()
    assert 'id="author-notice"' in html
    assert 'id="approve-form"' not in html and 'id="reject-form"' not in html
    response = client.post(
        reverse("campaigns:approve", args=[campaign.pk]),
        {"fingerprint": approvals.campaign_fingerprint(campaign=campaign)},
        follow=True,
    )
    assert (
        "you created it, loaded its recipients or edited it"
        in response.content.decode()
    )
    assert Campaign.objects.get().approval == ApprovalState.NONE


# --- the approval is frozen -----------------------------------------------------------


def test_recipients_loaded_after_the_approval_void_it(maya: User, arjun: User) -> None:
    campaign = approve(campaign_by(maya, THRESHOLD + 1), arjun)
    load(campaign, maya, 2, start=60)
    campaign.refresh_from_db()
    assert campaign.approval == ApprovalState.VOIDED
    assert "2 recipient(s) were loaded after the approval" in campaign.approval_note
    with pytest.raises(ApplicationError, match="The approval was voided"):
        start(campaign, arjun)
    voided = AuditEvent.objects.get(action=AuditAction.APPROVAL_VOIDED)
    assert voided.actor == maya
    # A fresh approval of the bigger audience lets it start.
    approve(campaign, arjun)
    assert campaign.approved_recipients == THRESHOLD + 3
    assert start(campaign, arjun).state == CampaignState.RUNNING


def test_an_import_that_adds_nobody_keeps_the_approval(maya: User, arjun: User) -> None:
    campaign = approve(campaign_by(maya, THRESHOLD + 1), arjun)
    load(campaign, maya, 2)  # the same numbers again: duplicates, none added
    campaign.refresh_from_db()
    assert campaign.approval == ApprovalState.APPROVED


def test_a_scheduled_campaign_goes_back_to_draft_when_its_approval_is_voided(
    maya: User, arjun: User
) -> None:
    campaign = campaign_by(maya, THRESHOLD + 1)
    campaign.scheduled_at = timezone.now() + timedelta(hours=1)
    campaign.save()
    approve(campaign, arjun)
    assert start(campaign, arjun).state == CampaignState.SCHEDULED
    load(campaign, maya, 1, start=70)
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.DRAFT
    assert "needs approval again" in campaign.state_reason


def test_editing_the_content_in_the_admin_voids_the_approval(
    client: Client, maya: User, arjun: User
) -> None:
    campaign = approve(campaign_by(maya, THRESHOLD + 1), arjun)
    client.force_login(maya)
    url, data = admin_form(client, campaign)
    data["media_file"] = ready_media(campaign.partner_app).pk
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    campaign.refresh_from_db()
    assert campaign.approval == ApprovalState.VOIDED
    assert "media_file changed after the approval" in campaign.approval_note
    edited = AuditEvent.objects.get(action=AuditAction.CAMPAIGN_EDITED)
    assert (edited.actor, edited.details["fields"]) == (maya, ["media_file"])


def test_a_change_made_behind_the_services_back_is_caught_at_the_start(
    maya: User, arjun: User
) -> None:
    campaign = approve(campaign_by(maya, THRESHOLD + 1), arjun)
    Recipient.objects.create(
        campaign=campaign, phone="+919999988888", params=["X", "1"]
    )
    with pytest.raises(ApplicationError, match="changed after arjun approved it"):
        start(campaign, arjun)
    campaign.refresh_from_db()
    assert campaign.approval == ApprovalState.VOIDED
    assert campaign.state == CampaignState.DRAFT


def test_an_approval_of_a_screen_that_is_out_of_date_is_refused(
    maya: User, arjun: User
) -> None:
    campaign = campaign_by(maya, THRESHOLD + 1)
    seen = approvals.campaign_fingerprint(campaign=campaign)
    load(campaign, maya, 1, start=80)  # while Arjun was looking
    with pytest.raises(ApplicationError, match="changed while you were reviewing"):
        approvals.campaign_approve(campaign=campaign, user=arjun, fingerprint=seen)
    assert Campaign.objects.get().approval == ApprovalState.NONE


# --- rejection ------------------------------------------------------------------------


def test_a_rejection_says_why_and_blocks_the_start_whatever_the_size(
    maya: User, arjun: User, bela: User
) -> None:
    campaign = campaign_by(maya, 1)
    approvals.campaign_reject(
        campaign=campaign, user=arjun, reason="The discount is wrong."
    )
    with pytest.raises(ApplicationError, match="rejected by arjun: The discount"):
        start(campaign, bela)
    approve(campaign, bela)
    assert start(campaign, bela).state == CampaignState.RUNNING


def test_a_rejection_needs_a_reason(maya: User, arjun: User) -> None:
    campaign = campaign_by(maya, THRESHOLD + 1)
    with pytest.raises(ApplicationError, match="Say why"):
        approvals.campaign_reject(campaign=campaign, user=arjun, reason="  ")


# --- the screen -----------------------------------------------------------------------


def test_the_approval_screen_shows_the_audience_samples_duration_and_media_check(
    client: Client, maya: User, arjun: User
) -> None:
    campaign = campaign_by(maya, 12)
    client.force_login(arjun)
    response = client.get(reverse("campaigns:approve", args=[campaign.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert '<span class="n" data-count="audience">12</span>' in html
    assert "above the approval threshold of 3" in html
    samples = response.context["samples"]
    assert [s.position for s in samples] == [1, 4, 7, 9, 12]
    first = samples[0]
    assert "".join(p.text for p in first.pieces) == "Hi Asha, 10% off today!"
    assert '<mark class="value">Asha</mark>' in html
    assert '<mark class="value">21%</mark>' in html  # the last row's own value
    assert "about 1 minute" in html  # 12 at 600 a minute
    assert 'id="fact-media" class="fact-ok"' in html
    assert 'data-check="template"' in html
    assert 'id="approve-form"' in html and 'name="fingerprint"' in html


def test_the_campaign_page_says_it_waits_for_approval_and_links_the_screen(
    client: Client, maya: User, arjun: User
) -> None:
    campaign = campaign_by(maya, THRESHOLD + 1)
    detail = reverse("campaigns:detail", args=[campaign.pk])
    client.force_login(arjun)
    html = client.get(detail).content.decode()
    assert 'id="start-blocked"' in html and 'data-action="start"' not in html
    assert 'id="review-link"' in html
    client.force_login(maya)
    html = client.get(detail).content.decode()
    assert "needs approval before it can start" in html
    assert 'id="review-link"' not in html
    approve(campaign, arjun)
    client.force_login(arjun)
    html = client.get(detail).content.decode()
    assert "Approved by arjun" in html and 'data-action="start"' in html


# --- the approval pins what recipients receive ------------------------------------


def test_a_new_public_link_for_the_image_voids_the_approval_at_the_start(
    maya: User, arjun: User
) -> None:
    """The attack: approve, point the library file at another picture, let the
    media id lapse: the campaign would send what the link serves."""
    campaign = approve(campaign_by(maya, THRESHOLD + 1), arjun)
    MediaFile.objects.filter(pk=campaign.media_file_id).update(
        public_url="https://cdn.example.com/something-else.jpg"
    )
    ProviderMedia.objects.filter(media_file=campaign.media_file_id).delete()
    with pytest.raises(ApplicationError, match="changed after arjun approved it"):
        start(campaign, arjun)
    assert Campaign.objects.get(pk=campaign.pk).approval == ApprovalState.VOIDED


def test_a_template_resynced_with_other_buttons_voids_the_approval_at_the_start(
    maya: User, arjun: User
) -> None:
    campaign = approve(campaign_by(maya, THRESHOLD + 1), arjun)
    assert campaign.template is not None
    Template.objects.filter(pk=campaign.template.pk).update(
        container_meta={"buttons": [{"type": "URL", "url": "https://elsewhere"}]}
    )
    with pytest.raises(ApplicationError, match="changed after arjun approved it"):
        start(campaign, arjun)


def test_the_approval_screen_says_how_the_image_goes_out(
    client: Client, maya: User, arjun: User
) -> None:
    campaign = campaign_by(maya, THRESHOLD + 1)
    client.force_login(arjun)
    screen = reverse("campaigns:approve", args=[campaign.pk])
    uploaded = client.get(screen).content.decode()
    assert "Sent as these exact bytes" in uploaded
    assert campaign.media_file.sha256[:12] in uploaded
    MediaFile.objects.filter(pk=campaign.media_file_id).update(
        public_url="https://cdn.example.com/banner.jpg"
    )
    linked = client.get(screen).content.decode()
    assert "Sent by its public link" in linked
    assert "https://cdn.example.com/banner.jpg" in linked


def test_whoever_edited_the_content_cannot_approve_it(
    client: Client, maya: User, ada: User
) -> None:
    campaign = campaign_by(maya, THRESHOLD + 1)
    drafts.campaign_update(
        campaign=campaign, changed=["caption"], user_id=ada.pk
    )  # an admin's edit in the admin
    with pytest.raises(ApplicationError, match="or edited it"):
        approve(campaign, ada)


def test_the_admin_refuses_a_template_whose_slots_do_not_fit_the_recipients(
    client: Client, maya: User
) -> None:
    campaign = campaign_by(maya, 2)  # loaded with two values each
    no_slots = Template.objects.create(
        app=campaign.partner_app,
        gupshup_id="5a9a1b72-0000-4000-8000-00000000000a",
        element_name="plain_image",
        status="APPROVED",
        template_type="IMAGE",
        body="Our spring sale is on!",
        slot_count=0,
        header_type="IMAGE",
    )
    client.force_login(maya)
    url, data = admin_form(client, campaign)
    data["template"] = no_slots.pk
    response = client.post(url, data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["template"]
    assert "have 2 values each" in errors[0] and "0 slots" in errors[0]
    assert Campaign.objects.get(pk=campaign.pk).template != no_slots
