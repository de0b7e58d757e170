"""The marketers' campaign pages: the list, a new campaign, and one campaign's page
with its recipients, pre-flight checks, controls and live progress.

The page's buttons (loading recipients, start, pause, resume, cancel, retry) post
to `views/controls.py`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import admin, messages
from django.core.paginator import Page, Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from audit.selectors import audit_events_for
from campaigns.forms import CampaignForm, PasteForm, UploadForm
from campaigns.lifecycle import drafts
from campaigns.lifecycle.approvals import campaign_approval_status
from campaigns.lifecycle.preflight import campaign_preflight
from campaigns.models import (
    Campaign,
    CampaignKind,
    CampaignState,
    Recipient,
    RecipientStatus,
)
from campaigns.reporting.export import recipient_search
from campaigns.reporting.progress import campaign_progress
from gupshup_admin.access import permission_required

PAGE_SIZE = 25
RECIPIENTS_PAGE_SIZE = 50
OPEN = [RecipientStatus.PENDING, RecipientStatus.SENDING]
LOADABLE = [CampaignState.DRAFT, CampaignState.SCHEDULED]
CHECKED = [*LOADABLE, CampaignState.PAUSED]
POLLED = [CampaignState.RUNNING, CampaignState.SCHEDULED]
RETRYABLE = [CampaignState.RUNNING, CampaignState.PAUSED, CampaignState.COMPLETED]


VIEW = "campaigns.view_campaign"
AUDIT_LINES = 50


def _page(request: HttpRequest, title: str, **context: Any) -> dict[str, Any]:
    return {**admin.site.each_context(request), "title": title, **context}


@permission_required(VIEW, doing="see campaigns")
@require_GET
def campaign_list(request: HttpRequest) -> HttpResponse:
    campaigns = (
        Campaign.objects.select_related("partner_app")
        .annotate(
            total=Count("recipients"),
            settled=Count("recipients", filter=~Q(recipients__status__in=OPEN)),
        )
        .order_by("-created_at", "-pk")
    )
    if (state := request.GET.get("state", "")) in CampaignState.values:
        campaigns = campaigns.filter(state=state)
    if query := request.GET.get("q", "").strip():
        campaigns = campaigns.filter(name__icontains=query)
    page = Paginator(campaigns, PAGE_SIZE).get_page(request.GET.get("page"))
    states = CampaignState.choices
    context = _page(request, "Campaigns", page=page, states=states, filters=request.GET)
    return render(request, "campaigns/list.html", context)


@permission_required("campaigns.add_campaign", doing="create campaigns")
@require_http_methods(["GET", "POST"])
def campaign_create(request: HttpRequest) -> HttpResponse:
    form = CampaignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        campaign = drafts.campaign_create(
            user_id=request.user.pk,
            name=data["name"],
            partner_app=data["partner_app"],
            kind=data["kind"],
            template=data.get("template"),
            media_file=data["media_file"],
            caption=data.get("caption", ""),
            scheduled_at=data.get("scheduled_at"),
        )
        messages.success(request, f"{campaign} was created: now load its recipients.")
        return redirect(campaign_detail_url(campaign, "recipients"))
    context = _page(request, "New campaign", form=form)
    return render(request, "campaigns/create.html", context)


@permission_required(VIEW, doing="see campaigns")
@require_GET
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(
        Campaign.objects.select_related(
            "partner_app",
            "template",
            "media_file",
            "created_by",
            "started_by",
            "approval_by",
        ),
        pk=pk,
    )
    progress = campaign_progress(campaign=campaign)
    checked = campaign.state in CHECKED
    preflight = campaign_preflight(campaign=campaign) if checked else None
    slots = [f"{{{{{n}}}}}" for n in range(1, campaign.slot_count + 1)]
    context = _page(
        request,
        str(campaign),
        campaign=campaign,
        progress=progress,
        counts=[(s, label, progress.counts.get(s, 0)) for s, label in _STATUSES],
        preflight=preflight,
        estimate=duration_text(preflight.estimated) if preflight else "",
        schedule_pending=bool(
            campaign.scheduled_at and campaign.scheduled_at > timezone.now()
        ),
        polling=campaign.state in POLLED,
        loadable=campaign.state in LOADABLE,
        cancellable=campaign.state in [*CHECKED, CampaignState.RUNNING],
        retryable=campaign.state in RETRYABLE and bool(progress.failures),
        slots=slots,
        imports=campaign.imports.select_related("created_by")[:20],
        upload_form=UploadForm(auto_id="upload_%s"),
        paste_form=PasteForm(auto_id="paste_%s"),
        recipients=_recipients(request, campaign),
        statuses=_STATUSES,
        filters=request.GET,
        is_template=campaign.kind == CampaignKind.TEMPLATE,
        approval=campaign_approval_status(campaign=campaign),
        audit_lines=audit_events_for(target=campaign)[:AUDIT_LINES],
    )
    return render(request, "campaigns/detail.html", context)


_STATUSES: list[tuple[str, str]] = list(RecipientStatus.choices)


def duration_text(duration: timedelta) -> str:
    minutes = max(round(duration.total_seconds() / 60), 1)
    hours, minutes = divmod(minutes, 60)
    parts = [(hours, "hour"), (minutes, "minute")]
    return "about " + " ".join(
        f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in parts if n
    )


def _recipients(request: HttpRequest, campaign: Campaign) -> Page[Recipient]:
    rows = campaign.recipients.select_related("latest_attempt").order_by("pk")
    if (status := request.GET.get("status", "")) in RecipientStatus.values:
        rows = rows.filter(status=status)
    if query := request.GET.get("q", "").strip():
        rows = rows.filter(recipient_search(query))
    return Paginator(rows, RECIPIENTS_PAGE_SIZE).get_page(request.GET.get("page"))


def campaign_detail_url(campaign: Campaign | int, anchor: str = "") -> str:
    pk = campaign if isinstance(campaign, int) else campaign.pk
    url = reverse("campaigns:detail", args=[pk])
    return f"{url}#{anchor}" if anchor else url


@permission_required(VIEW, doing="see campaigns")
@require_GET
def progress_json(request: HttpRequest, pk: int) -> JsonResponse:
    campaign = get_object_or_404(Campaign.objects.select_related("partner_app"), pk=pk)
    return JsonResponse(campaign_progress(campaign=campaign).as_json())
