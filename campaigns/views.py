"""The marketers' campaign pages: the list, a new campaign, and one campaign's page
with its recipients, pre-flight checks, controls and live progress.

Every POST calls one service, shows an ApplicationError as it is, and redirects
back to the page (post/redirect/get).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.contrib import admin, messages
from django.core.paginator import Page, Paginator
from django.db.models import Count, Q
from django.forms import Form
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.selectors import audit_events_for
from campaigns import drafts, imports, retries, services
from campaigns.approvals import campaign_approval_status
from campaigns.forms import CampaignForm, PasteForm, UploadForm
from campaigns.models import (
    Campaign,
    CampaignKind,
    CampaignState,
    Recipient,
    RecipientImport,
    RecipientStatus,
)
from campaigns.preflight import campaign_preflight
from campaigns.selectors import campaign_progress
from gupshup_admin.access import permission_required
from gupshup_admin.exceptions import ApplicationError
from gupshup_admin.roles import SEND

PAGE_SIZE = 25
RECIPIENTS_PAGE_SIZE = 50
OPEN = [RecipientStatus.PENDING, RecipientStatus.SENDING]
LOADABLE = [CampaignState.DRAFT, CampaignState.SCHEDULED]
CHECKED = [*LOADABLE, CampaignState.PAUSED]
POLLED = [CampaignState.RUNNING, CampaignState.SCHEDULED]
RETRYABLE = [CampaignState.RUNNING, CampaignState.PAUSED, CampaignState.COMPLETED]


VIEW = "campaigns.view_campaign"
LOAD = "campaigns.add_recipient"
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
        return redirect(_detail_url(campaign, "recipients"))
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
    rows = campaign.recipients.order_by("pk")
    if (status := request.GET.get("status", "")) in RecipientStatus.values:
        rows = rows.filter(status=status)
    if query := request.GET.get("q", "").strip():
        digits = query.replace(" ", "").replace("-", "")
        rows = rows.filter(Q(phone__icontains=digits) | Q(message_id=query))
    return Paginator(rows, RECIPIENTS_PAGE_SIZE).get_page(request.GET.get("page"))


def _detail_url(campaign: Campaign | int, anchor: str = "") -> str:
    pk = campaign if isinstance(campaign, int) else campaign.pk
    url = reverse("campaigns:detail", args=[pk])
    return f"{url}#{anchor}" if anchor else url


def _errors(form: Form) -> str:
    """Every error of the form on one line, each after its field's label."""
    labels = {name: field.label for name, field in form.fields.items()}
    return " ".join(
        f"{labels[name]}: {error}" if labels.get(name) else str(error)
        for name, errors in form.errors.items()
        for error in errors
    )


def _act(
    request: HttpRequest,
    pk: int,
    run: Callable[[Campaign, int | None], str],
    anchor: str = "",
) -> HttpResponse:
    """Call one service for the campaign; report its result or its refusal."""
    campaign = get_object_or_404(Campaign, pk=pk)
    try:
        text = run(campaign, request.user.pk)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, text)
    return redirect(_detail_url(pk, anchor))


Load = Callable[[Campaign, int | None, dict[str, Any]], RecipientImport]


def _load(request: HttpRequest, pk: int, form: Form, load: Load) -> HttpResponse:
    """Validate the form, then load its recipients with one service call."""
    if not form.is_valid():
        messages.error(request, _errors(form))
        return redirect(_detail_url(pk, "recipients"))

    def run(campaign: Campaign, user_id: int | None) -> str:
        record = load(campaign, user_id, form.cleaned_data)
        return (
            f"Loaded {record.filename}: {record.accepted} accepted, "
            f"{record.rejected} rejected, {record.duplicates} duplicate(s) dropped."
        )

    return _act(request, pk, run, "recipients")


@permission_required(LOAD, doing="load recipients")
@require_POST
def recipients_upload(request: HttpRequest, pk: int) -> HttpResponse:
    def load(
        campaign: Campaign, user_id: int | None, data: dict[str, Any]
    ) -> RecipientImport:
        return imports.recipients_import(
            campaign=campaign,
            fileobj=data["file"],
            filename=data["file"].name or "upload.csv",
            user_id=user_id,
            region=data["region"],
        )

    return _load(request, pk, UploadForm(request.POST, request.FILES), load)


@permission_required(LOAD, doing="load recipients")
@require_POST
def recipients_paste(request: HttpRequest, pk: int) -> HttpResponse:
    def load(
        campaign: Campaign, user_id: int | None, data: dict[str, Any]
    ) -> RecipientImport:
        return imports.recipients_import_pasted(
            campaign=campaign,
            text=data["numbers"],
            user_id=user_id,
            region=data["region"],
        )

    return _load(request, pk, PasteForm(request.POST), load)


@permission_required("campaigns.view_recipientimport", doing="see recipient imports")
@require_GET
def rejected_csv(request: HttpRequest, pk: int, import_pk: int) -> HttpResponse:
    record = get_object_or_404(RecipientImport, pk=import_pk, campaign_id=pk)
    # A BOM so that spreadsheet programs read the reasons as UTF-8.
    response = HttpResponse(
        "\ufeff" + record.rejected_csv, content_type="text/csv; charset=utf-8"
    )
    name = f"campaign-{pk}-import-{import_pk}-rejected.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@permission_required(SEND, doing="start campaigns")
@require_POST
def campaign_start(request: HttpRequest, pk: int) -> HttpResponse:
    confirm_late = request.POST.get("confirm_late") == "1"

    def run(campaign: Campaign, user_id: int | None) -> str:
        services.campaign_start(
            campaign=campaign, user_id=user_id, confirm_late=confirm_late
        )
        if campaign.state == CampaignState.SCHEDULED:
            assert campaign.scheduled_at is not None
            when = formats.date_format(
                timezone.localtime(campaign.scheduled_at), "DATETIME_FORMAT"
            )
            return f"{campaign} is scheduled to start at {when}."
        return f"{campaign} started."

    return _act(request, pk, run)


@permission_required(SEND, doing="pause campaigns")
@require_POST
def campaign_pause(request: HttpRequest, pk: int) -> HttpResponse:
    def run(campaign: Campaign, user_id: int | None) -> str:
        services.campaign_pause(campaign=campaign, user_id=user_id)
        return f"{campaign} paused: senders stop before their next message."

    return _act(request, pk, run)


@permission_required(SEND, doing="resume campaigns")
@require_POST
def campaign_resume(request: HttpRequest, pk: int) -> HttpResponse:
    def run(campaign: Campaign, user_id: int | None) -> str:
        services.campaign_resume(campaign=campaign, user_id=user_id)
        return f"{campaign} resumed."

    return _act(request, pk, run)


@permission_required(SEND, doing="cancel campaigns")
@require_POST
def campaign_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    def run(campaign: Campaign, user_id: int | None) -> str:
        count = services.campaign_cancel(campaign=campaign, user_id=user_id)
        return f"{campaign} cancelled: {count} recipient(s) will not be sent."

    return _act(request, pk, run)


@permission_required(SEND, doing="retry failed recipients")
@require_POST
def campaign_retry(request: HttpRequest, pk: int) -> HttpResponse:
    codes = request.POST.getlist("code")

    def run(campaign: Campaign, user_id: int | None) -> str:
        if not codes:
            raise ApplicationError(
                "Tick at least one error to send its recipients again."
            )
        count = retries.campaign_retry_failed(
            campaign=campaign, codes=codes, user_id=user_id
        )
        return f"{_recipients_text(count)} sent again."

    return _act(request, pk, run, "progress")


def _recipients_text(count: int) -> str:
    return f"{count} recipient{'s' if count != 1 else ''} will be"


@permission_required(VIEW, doing="see campaigns")
@require_GET
def progress_json(request: HttpRequest, pk: int) -> JsonResponse:
    campaign = get_object_or_404(Campaign.objects.select_related("partner_app"), pk=pk)
    return JsonResponse(campaign_progress(campaign=campaign).as_json())


@permission_required(SEND, doing="retry failed recipients")
@require_GET
def retry_preview_json(request: HttpRequest, pk: int) -> JsonResponse:
    campaign = get_object_or_404(Campaign, pk=pk)
    codes = request.GET.getlist("code")
    count = (
        retries.campaign_retry_preview(campaign=campaign, codes=codes) if codes else 0
    )
    text = f"{_recipients_text(count)} sent again."
    return JsonResponse({"codes": codes, "count": count, "text": text})
