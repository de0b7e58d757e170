"""Read-only admin for what Gupshup told us: the synced templates and the log of
every provider exchange."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timezone import localtime

from gupshup_admin.admin.base import ReadOnlyAdmin
from gupshup_admin.models import ApiExchange, Template
from gupshup_admin.phones import phone_search_e164


@admin.register(Template)
class TemplateAdmin(ReadOnlyAdmin):
    list_display = [
        "element_name",
        "language_code",
        "app",
        "template_type",
        "status",
        "slot_count",
        "header_type",
        "is_present",
        "synced_at",
    ]
    list_filter = ["app", "status", "template_type", "category", "is_present"]
    list_select_related = ["app"]
    search_fields = ["element_name", "gupshup_id", "body"]


class StatusClassFilter(admin.SimpleListFilter):
    title = "status class"
    parameter_name = "status_class"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("2xx", "2xx"), ("4xx", "4xx"), ("5xx", "5xx"), ("none", "No answer")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value == "none":
            return queryset.filter(status_code__isnull=True)
        if value in {"2xx", "4xx", "5xx"}:
            low = int(value[0]) * 100
            return queryset.filter(status_code__gte=low, status_code__lt=low + 100)
        return queryset


@admin.register(ApiExchange)
class ApiExchangeAdmin(ReadOnlyAdmin):
    list_display = [
        "when",
        "provider",
        "endpoint",
        "method",
        "status_code",
        "outcome",
        "duration_ms",
        "destination",
        "partner_app",
        "error_class",
    ]
    list_filter = ["provider", "endpoint", StatusClassFilter, "outcome", "partner_app"]
    list_select_related = ["partner_app"]
    search_fields = ["url", "error_message", "response_body"]
    search_help_text = (
        "A phone number finds the exchanges of sends to it; other words are looked "
        "for in the URL, the error and the response."
    )
    date_hierarchy = "created_at"
    readonly_fields = [
        "when",
        "destination",
        "provider",
        "endpoint",
        "method",
        "url",
        "pretty_request_headers",
        "pretty_request_body",
        "outcome",
        "status_code",
        "response_body",
        "response_truncated",
        "duration_ms",
        "error_class",
        "error_message",
        "partner_app",
        "commbox_channel",
        "user",
        "ref",
    ]
    exclude = ["request_headers", "request_body", "created_at"]

    @admin.display(description="time", ordering="created_at")
    def when(self, obj: ApiExchange) -> str:
        # To the second: exchanges a second apart are the ones that matter.
        return date_format(localtime(obj.created_at), "Y-m-d H:i:s")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        """A phone number is looked up in the indexed `destination` column; any
        other term searches the texts."""
        number = phone_search_e164(search_term)
        if number:
            return queryset.filter(destination=number), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="request headers")
    def pretty_request_headers(self, obj: ApiExchange) -> str:
        return format_html(
            "<pre>{}</pre>",
            json.dumps(obj.request_headers, indent=2, ensure_ascii=False),
        )

    @admin.display(description="request body")
    def pretty_request_body(self, obj: ApiExchange) -> str:
        return format_html(
            "<pre>{}</pre>", json.dumps(obj.request_body, indent=2, ensure_ascii=False)
        )
