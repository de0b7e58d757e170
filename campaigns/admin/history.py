"""Admin for the send history: the raw callbacks (WebhookEvent, read-only), each
recipient's attempts as an inline, and a paginator that does not count a
million rows on every page."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.dateformat import format as date_format
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.timezone import localtime

from campaigns.models import RefusedCallback, SendAttempt, StatusEvent, WebhookEvent
from campaigns.reporting import timeline
from gupshup_admin.admin.base import ReadOnlyAdmin

CHANGE_LIST_TEMPLATE = "campaigns/report_change_list.html"


class EstimatedCountPaginator(Paginator):  # type: ignore[type-arg]
    """Counts exactly up to `exact_up_to` rows; beyond that it estimates.

    COUNT(*) over a million rows costs a scan on every page load. Unfiltered,
    the table's size comes from PostgreSQL's statistics (pg_class.reltuples);
    filtered, the count stops at `exact_up_to` and the planner's estimate of the
    filtered query stands in for a bigger number. `estimated` says which.
    """

    exact_up_to = 10_000
    estimated = False

    @cached_property
    def count(self) -> int:
        rows = self.object_list
        if not isinstance(rows, QuerySet) or connection.vendor != "postgresql":
            return super().count  # estimates need PostgreSQL; SQLite is for demos
        if not rows.query.where:
            total = table_row_estimate(rows.model)
            if total is not None and total > self.exact_up_to:
                self.estimated = True
                return total
        capped = rows[: self.exact_up_to + 1].count()
        if capped <= self.exact_up_to:
            return capped
        self.estimated = True
        return max(capped, query_row_estimate(rows))


class ReadOnlyInline(admin.TabularInline):  # type: ignore[type-arg]
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


ATTEMPT_FIELDS = [
    "number",
    "status",
    "message_id",
    "wamid",
    "exchange_link",
    "error_code",
    "error_message",
    "made",
    "submitted",
]


def _to_the_second(at: datetime | None) -> str:
    # A timeline needs seconds; the admin's default format stops at minutes.
    return date_format(localtime(at), "Y-m-d H:i:s") if at else "—"


class SendAttemptInline(ReadOnlyInline):
    """A recipient's attempts, oldest first; the timeline page has each one's
    requests and statuses."""

    model = SendAttempt
    fk_name = "recipient"
    fields = tuple(ATTEMPT_FIELDS)
    readonly_fields = ATTEMPT_FIELDS
    verbose_name = "attempt"
    verbose_name_plural = "attempts"
    ordering = ["number"]

    @admin.display(description="made")
    def made(self, obj: SendAttempt) -> str:
        return _to_the_second(obj.created_at)

    @admin.display(description="accepted by Gupshup")
    def submitted(self, obj: SendAttempt) -> str:
        return _to_the_second(obj.submitted_at)

    @admin.display(description="exchange")
    def exchange_link(self, obj: SendAttempt) -> str:
        if obj.exchange_id is None:
            return "—"
        url = reverse("admin:gupshup_admin_apiexchange_change", args=[obj.exchange_id])
        return format_html('<a href="{}">#{}</a>', url, obj.exchange_id)


CALLBACK_STATUS_FIELDS = [
    "attempt",
    "status",
    "gs_id",
    "wamid",
    "occurred_at",
    "error_code",
]
WEBHOOK_FIELDS = [
    "received_at",
    "partner_app",
    "state",
    "event_type",
    "error",
    "processed_at",
    "remote_addr",
    "pretty_headers",
    "pretty_body",
]


class CallbackStatusInline(ReadOnlyInline):
    """What a callback changed: the statuses it brought, with their recipients."""

    model = StatusEvent
    fk_name = "webhook_event"
    fields = tuple(CALLBACK_STATUS_FIELDS)
    readonly_fields = CALLBACK_STATUS_FIELDS
    verbose_name_plural = "statuses from this callback"

    def get_queryset(self, request: HttpRequest) -> QuerySet[StatusEvent]:
        return super().get_queryset(request).select_related("attempt__recipient")


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "partner_app", "state", "event_type", "error"]
    list_filter = ["state", "partner_app", "event_type"]
    list_select_related = ["partner_app"]
    search_fields = ["body"]
    date_hierarchy = "received_at"
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    change_list_template = CHANGE_LIST_TEMPLATE
    fields = tuple(WEBHOOK_FIELDS)
    readonly_fields = WEBHOOK_FIELDS
    inlines = [CallbackStatusInline]

    @admin.display(description="headers")
    def pretty_headers(self, obj: WebhookEvent) -> str:
        return format_html("<pre>{}</pre>", timeline.pretty_json_value(obj.headers))

    @admin.display(description="body")
    def pretty_body(self, obj: WebhookEvent) -> str:
        return format_html(
            '<pre class="callback-body">{}</pre>', timeline.pretty_json(obj.body)
        )


REFUSED_FIELDS = [
    "partner_app",
    "app_number",
    "remote_addr",
    "reason",
    "count",
    "first_at",
    "last_at",
    "pretty_sample_headers",
    "pretty_sample_body",
]


@admin.register(RefusedCallback)
class RefusedCallbackAdmin(ReadOnlyAdmin):
    """Refused callbacks, counted per app, source and reason."""

    list_display = ["last_at", "partner_app", "remote_addr", "reason", "count"]
    list_filter = ["reason", "partner_app"]
    list_select_related = ["partner_app"]
    search_fields = ["remote_addr"]
    date_hierarchy = "last_at"
    fields = tuple(REFUSED_FIELDS)
    readonly_fields = REFUSED_FIELDS

    @admin.display(description="latest headers")
    def pretty_sample_headers(self, obj: RefusedCallback) -> str:
        return format_html(
            "<pre>{}</pre>", timeline.pretty_json_value(obj.sample_headers)
        )

    @admin.display(description="latest body (cut short)")
    def pretty_sample_body(self, obj: RefusedCallback) -> str:
        return format_html(
            '<pre class="callback-body">{}</pre>', timeline.pretty_json(obj.sample_body)
        )


def table_row_estimate(model: type[Model]) -> int | None:
    """PostgreSQL's own estimate of a table's rows (kept by ANALYZE and
    autovacuum): free, unlike COUNT(*). None elsewhere or when never analyzed."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
            [model._meta.db_table],
        )
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] >= 0 else None


def query_row_estimate(rows: QuerySet[Any]) -> int:
    """The planner's guess of how many rows a query returns (EXPLAIN, nothing
    is read); 0 when the database is not PostgreSQL."""
    if connection.vendor != "postgresql":
        return 0
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        row = cursor.fetchone()
    plan = row[0] if row else None
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"]) if plan else 0
