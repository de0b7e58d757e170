"""The campaign page's buttons: load recipients (a CSV upload or pasted numbers,
and the rejected rows back as CSV), then start, pause, resume, cancel and retry.

Every button is a `campaign_button`: it calls one service, shows an
ApplicationError as it is, and redirects back to the page (post/redirect/get).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import admin, messages
from django.forms import Form
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats, timezone
from django.views.decorators.http import require_GET, require_POST

from campaigns.forms import PasteForm, UploadForm
from campaigns.lifecycle import controls, retries
from campaigns.models import Campaign, CampaignState, RecipientImport
from campaigns.recipients import loading
from campaigns.views.campaigns import campaign_detail_url
from gupshup_admin.access import permission_required
from gupshup_admin.exceptions import ApplicationError
from gupshup_admin.roles import APPROVE, SEND

LOAD = "campaigns.add_recipient"


def _errors(form: Form) -> str:
    """Every error of the form on one line, each after its field's label."""
    labels = {name: field.label for name, field in form.fields.items()}
    return " ".join(
        f"{labels[name]}: {error}" if labels.get(name) else str(error)
        for name, errors in form.errors.items()
        for error in errors
    )


Pressed = Callable[[HttpRequest, Campaign], "str | HttpResponse"]
ButtonView = Callable[[HttpRequest, int], HttpResponse]


def campaign_button(anchor: str = "") -> Callable[[Pressed], ButtonView]:
    """A button of the campaign page: the view gets the campaign, calls one
    service and returns what to tell the person (or a page of its own, such as
    a confirmation). An ApplicationError is shown as it is; either way it
    redirects back to the page, at `anchor` (post/redirect/get)."""

    def decorator(pressed: Pressed) -> ButtonView:
        @wraps(pressed)
        def view(request: HttpRequest, pk: int) -> HttpResponse:
            campaign = get_object_or_404(Campaign, pk=pk)
            try:
                said = pressed(request, campaign)
            except ApplicationError as exc:
                messages.error(request, exc.message)
            else:
                if isinstance(said, HttpResponse):
                    return said
                messages.success(request, said)
            return redirect(campaign_detail_url(pk, anchor))

        return view

    return decorator


def _cleaned(form: Form) -> dict[str, Any]:
    """The form's data, or an ApplicationError naming each field's errors."""
    if not form.is_valid():
        raise ApplicationError(_errors(form))
    return form.cleaned_data


def _loaded(record: RecipientImport) -> str:
    return (
        f"Loaded {record.filename}: {record.accepted} accepted, "
        f"{record.rejected} rejected, {record.duplicates} duplicate(s) dropped."
    )


@permission_required(LOAD, doing="load recipients")
@require_POST
@campaign_button("recipients")
def recipients_upload(request: HttpRequest, campaign: Campaign) -> str:
    data = _cleaned(UploadForm(request.POST, request.FILES))
    record = loading.recipients_import(
        campaign=campaign,
        fileobj=data["file"],
        filename=data["file"].name or "upload.csv",
        user_id=request.user.pk,
        region=data["region"],
    )
    return _loaded(record)


@permission_required(LOAD, doing="load recipients")
@require_POST
@campaign_button("recipients")
def recipients_paste(request: HttpRequest, campaign: Campaign) -> str:
    data = _cleaned(PasteForm(request.POST))
    record = loading.recipients_import_pasted(
        campaign=campaign,
        text=data["numbers"],
        user_id=request.user.pk,
        region=data["region"],
    )
    return _loaded(record)


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
@campaign_button()
def campaign_start(request: HttpRequest, campaign: Campaign) -> str:
    controls.campaign_start(
        campaign=campaign,
        user_id=request.user.pk,
        confirm_late=request.POST.get("confirm_late") == "1",
    )
    if campaign.state == CampaignState.SCHEDULED:
        assert campaign.scheduled_at is not None
        when = formats.date_format(
            timezone.localtime(campaign.scheduled_at), "DATETIME_FORMAT"
        )
        return f"{campaign} is scheduled to start at {when}."
    return f"{campaign} started."


@permission_required(SEND, doing="pause campaigns")
@require_POST
@campaign_button()
def campaign_pause(request: HttpRequest, campaign: Campaign) -> str:
    controls.campaign_pause(campaign=campaign, user_id=request.user.pk)
    return f"{campaign} paused: senders stop before their next message."


@permission_required(SEND, doing="resume campaigns")
@require_POST
@campaign_button()
def campaign_resume(request: HttpRequest, campaign: Campaign) -> str:
    controls.campaign_resume(campaign=campaign, user_id=request.user.pk)
    return f"{campaign} resumed."


@permission_required(SEND, doing="cancel campaigns")
@require_POST
@campaign_button()
def campaign_cancel(request: HttpRequest, campaign: Campaign) -> str:
    count = controls.campaign_cancel(campaign=campaign, user_id=request.user.pk)
    return f"{campaign} cancelled: {count} recipient(s) will not be sent."


@permission_required(SEND, doing="retry failed recipients")
@require_POST
@campaign_button("progress")
def campaign_retry(request: HttpRequest, campaign: Campaign) -> str | HttpResponse:
    """Send the ticked failures again. Those that failed for good are left out;
    an approver may include them, after a page that says how many and why."""
    codes = request.POST.getlist("code")
    include = request.POST.get("include_permanent") == "1"
    confirmed = _count(request.POST.get("confirm_permanent"))
    if include and not request.user.has_perm(APPROVE):
        messages.error(
            request,
            "Only an approver may send again to recipients that failed for good "
            "(opted out, not on WhatsApp…).",
        )
        return redirect(campaign_detail_url(campaign.pk, "retry"))
    if not codes:
        raise ApplicationError("Tick at least one error to send its recipients again.")
    if include and confirmed is None:
        plan = retries.campaign_retry_preview(
            campaign=campaign, codes=codes, include_permanent=True
        )
        if plan.permanent:
            context = {
                **admin.site.each_context(request),
                "title": f"Send again to recipients that failed for good? ({campaign})",
                "campaign": campaign,
                "plan": plan,
                "codes": codes,
                "without": retries.campaign_retry_preview(
                    campaign=campaign, codes=codes
                ),
            }
            return render(request, "campaigns/retry_confirm.html", context)
    plan = retries.campaign_retry_preview(
        campaign=campaign, codes=codes, include_permanent=bool(confirmed)
    )
    count = retries.campaign_retry_failed(
        campaign=campaign,
        codes=codes,
        user_id=request.user.pk,
        include_permanent=confirmed or 0,
    )
    text = f"{_recipients_text(count)} sent again."
    if plan.left_out and not confirmed:
        text += f" {plan.permanent} left out, failed for good ({plan.reasons()})."
    return text


def _count(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _recipients_text(count: int) -> str:
    return f"{count} recipient{'s' if count != 1 else ''} will be"


@permission_required(SEND, doing="retry failed recipients")
@require_GET
def retry_preview_json(request: HttpRequest, pk: int) -> JsonResponse:
    campaign = get_object_or_404(Campaign, pk=pk)
    codes = request.GET.getlist("code")
    include = request.GET.get("include_permanent") == "1"
    if not codes:
        return JsonResponse({"codes": [], "count": 0, "left_out": 0, "text": ""})
    plan = retries.campaign_retry_preview(
        campaign=campaign, codes=codes, include_permanent=include
    )
    return JsonResponse(
        {
            "codes": codes,
            "count": plan.will_send,
            "left_out": plan.permanent,
            "reasons": [vars(group) for group in plan.left_out],
            "text": str(plan),
        }
    )
