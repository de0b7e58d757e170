"""Send history pages for reviewers: a campaign's report (funnel, rates over
time, failures explained, a recipient search), one recipient's timeline, and
the recipients as a streamed CSV. Read-only: every view asks `reports`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from campaigns.models import Campaign, Recipient, RecipientStatus
from campaigns.reporting import reports, timeline
from campaigns.reporting.export import recipients_csv_lines, recipients_filtered
from gupshup_admin.access import permission_required
from gupshup_admin.providers.failure_codes import failure_explained
from gupshup_admin.roles import EXPORT

FOUND_MAX = 25
SERIES = [("delivered", "Delivered"), ("read", "Read"), ("failed", "Failed")]


def _context(request: HttpRequest, title: str, **context: Any) -> dict[str, Any]:
    return {**admin.site.each_context(request), "title": title, **context}


@permission_required("campaigns.view_recipient", doing="see campaign reports")
@require_GET
def campaign_report(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign.objects.select_related("partner_app"), pk=pk)
    query = request.GET.get("q", "").strip()
    found = (
        list(recipients_filtered(campaign=campaign, query=query)[:FOUND_MAX])
        if query
        else None
    )
    report = reports.campaign_report(
        campaign=campaign, fresh=request.GET.get("fresh") == "1"
    )
    context = _context(
        request,
        f"Report: {campaign}",
        campaign=campaign,
        report=report,
        funnel=report.funnel,
        rates=report.rates,
        chart=rate_chart(report.rates),
        failures=report.failures,
        query=query,
        found=found,
        found_max=FOUND_MAX,
        statuses=RecipientStatus.choices,
        cache_seconds=reports.REPORT_CACHE_SECONDS,
    )
    return render(request, "campaigns/report.html", context)


@permission_required(
    "campaigns.view_statusevent", doing="see recipients' send timelines"
)
@require_GET
def recipient_history(request: HttpRequest, pk: int, rid: int) -> HttpResponse:
    recipient = get_object_or_404(
        Recipient.objects.select_related("campaign", "latest_attempt"),
        pk=rid,
        campaign_id=pk,
    )
    failed = recipient.status == RecipientStatus.FAILED
    context = _context(
        request,
        f"{recipient.phone} in {recipient.campaign}",
        campaign=recipient.campaign,
        recipient=recipient,
        explanation=failure_explained(recipient.error_code) if failed else None,
        timeline=timeline.recipient_timeline(recipient=recipient),
    )
    return render(request, "campaigns/recipient.html", context)


@permission_required(EXPORT, doing="download recipients")
@require_GET
def recipients_csv(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    """Streamed, so that a million rows start arriving at once and never sit in
    memory; filtered like the recipient table (status, search) and by code."""
    campaign = get_object_or_404(Campaign, pk=pk)
    rows = recipients_filtered(
        campaign=campaign,
        status=request.GET.get("status", ""),
        query=request.GET.get("q", ""),
        code=request.GET.get("code"),
    )
    response = StreamingHttpResponse(
        recipients_csv_lines(recipients=rows),
        content_type="text/csv; charset=utf-8",
    )
    name = f"campaign-{pk}-recipients.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- the rates chart, drawn as inline SVG -------------------------------------------

WIDTH, HEIGHT = 760, 240
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 28
MARKERS_MAX = 40
BAR_MAX = 48  # px: a short campaign's few bars stay bars


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    title: str


@dataclass(frozen=True)
class Line:
    key: str
    label: str
    points: list[tuple[float, float]]
    total: int


@dataclass(frozen=True)
class Tick:
    at: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    right: int
    bottom: int
    bars: list[Bar]
    lines: list[Line]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    submitted: int

    @property
    def markers(self) -> bool:
        """Dots on the lines when there are few buckets (one alone has no line)."""
        return len(self.bars) <= MARKERS_MAX


def nice_ceiling(value: int) -> int:
    """The smallest 1, 2 or 5 times a power of ten at or above `value`: an axis
    that reads well."""
    if value <= 1:
        return 1
    power: int = 10 ** math.floor(math.log10(value))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= value)


def rate_chart(rates: reports.Rates) -> Chart | None:
    """Submissions as bars, deliveries, reads and failures as lines, per bucket."""
    buckets = rates.buckets
    if not buckets:
        return None
    top = nice_ceiling(rates.peak)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / len(buckets)

    def y(value: int) -> float:
        return round(TOP + plot_h * (1 - value / top), 1)

    unit = f"{rates.minutes} min" if rates.minutes < 60 else f"{rates.minutes // 60} h"
    bar = min(step * 0.8, BAR_MAX)
    bars = [
        Bar(
            x=round(LEFT + (n + 0.5) * step - bar / 2, 1),
            y=y(b.submitted),
            width=round(bar, 1),
            height=round(TOP + plot_h - y(b.submitted), 1),
            title=f"{timezone.localtime(b.start):%H:%M} ({unit}): {b.submitted} "
            f"submitted, {b.delivered} delivered, {b.read} read, {b.failed} failed",
        )
        for n, b in enumerate(buckets)
    ]
    totals = rates.totals
    lines = [
        Line(
            key,
            label,
            [
                (round(LEFT + (n + 0.5) * step, 1), y(getattr(b, key)))
                for n, b in enumerate(buckets)
            ],
            getattr(totals, key),
        )
        for key, label in SERIES
    ]
    y_ticks = [Tick(y(v), str(v)) for v in (0, top // 2, top) if v or top]
    fmt = "%H:%M" if rates.minutes < 24 * 60 else "%m-%d"
    picks = sorted({0, len(buckets) // 2, len(buckets) - 1})
    x_ticks = [
        Tick(
            round(LEFT + (n + 0.5) * step, 1),
            timezone.localtime(buckets[n].start).strftime(fmt),
        )
        for n in picks
    ]
    return Chart(
        WIDTH, HEIGHT, LEFT, WIDTH - RIGHT, TOP + plot_h, bars, lines, y_ticks,
        x_ticks, totals.submitted,
    )  # fmt: skip
