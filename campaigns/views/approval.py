"""The approval screen: what a campaign will send, to how many, for how long, and
whether its image stays valid; Approve, or Reject with a reason.

The screen carries the campaign's fingerprint; approving checks it again, so an
approver approves exactly what they looked at (campaigns/lifecycle/approvals.py).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from campaigns.lifecycle import approvals
from campaigns.lifecycle.preflight import campaign_preflight
from campaigns.models import Campaign, CampaignKind
from campaigns.reporting.samples import campaign_approval_samples
from campaigns.views.campaigns import duration_text
from gupshup_admin.access import permission_required
from gupshup_admin.exceptions import ApplicationError
from gupshup_admin.roles import APPROVE

DOING = "approve or reject campaigns"


@permission_required(APPROVE, doing=DOING)
@require_http_methods(["GET", "POST"])
def campaign_approve(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the screen. POST: approve what the screen showed."""
    if request.method == "POST":
        return _approve(request, pk)
    campaign = get_object_or_404(
        Campaign.objects.select_related(
            "partner_app", "template", "media_file", "created_by", "approval_by"
        ),
        pk=pk,
    )
    audience = approvals.campaign_audience(campaign=campaign)
    preflight = campaign_preflight(campaign=campaign)
    authors = approvals.campaign_authors(campaign=campaign)
    context = {
        **admin.site.each_context(request),
        "title": f"Approve: {campaign}",
        "campaign": campaign,
        "audience": audience,
        "status": approvals.campaign_approval_status(campaign=campaign),
        "samples": campaign_approval_samples(campaign=campaign),
        "preflight": preflight,
        "media_check": next((c for c in preflight.checks if c.name == "media"), None),
        "estimate": duration_text(preflight.estimated),
        "fingerprint": approvals.campaign_fingerprint(
            campaign=campaign, audience=audience
        ),
        "image": approvals.campaign_image_sent(campaign=campaign),
        "is_author": request.user.pk in authors,
        "decidable": campaign.state in approvals.DECIDABLE,
        "is_template": campaign.kind == CampaignKind.TEMPLATE,
        "imports": campaign.imports.select_related("created_by")[:10],
    }
    return render(request, "campaigns/approve.html", context)


def _decided(request: HttpRequest, pk: int, text: str) -> HttpResponse:
    messages.success(request, text)
    return redirect(reverse("campaigns:detail", args=[pk]))


def _approve(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign, pk=pk)
    try:
        approvals.campaign_approve(
            campaign=campaign,
            user=request.user,
            fingerprint=request.POST.get("fingerprint", ""),
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(reverse("campaigns:approve", args=[pk]))
    return _decided(
        request,
        pk,
        f"{campaign} is approved for {campaign.approved_recipients} recipient(s): "
        "it can be started now.",
    )


@permission_required(APPROVE, doing=DOING)
@require_POST
def campaign_reject(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign, pk=pk)
    try:
        approvals.campaign_reject(
            campaign=campaign, user=request.user, reason=request.POST.get("reason", "")
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(reverse("campaigns:approve", args=[pk]))
    return _decided(request, pk, f"{campaign} is rejected; its author can see why.")
