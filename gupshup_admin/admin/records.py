"""Read-only admin for what Gupshup told us: the synced templates and the log of
every provider exchange."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from gupshup_admin.admin.base import ReadOnlyAdmin
from gupshup_admin.models import ApiExchange, Template


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
        "created_at",
        "provider",
        "endpoint",
        "method",
        "status_code",
        "outcome",
        "duration_ms",
        "partner_app",
        "error_class",
    ]
    list_filter = ["provider", "endpoint", StatusClassFilter, "outcome", "partner_app"]
    list_select_related = ["partner_app"]
    search_fields = ["url", "error_message", "response_body"]
    date_hierarchy = "created_at"
    readonly_fields = [
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
        "created_at",
    ]
    exclude = ["request_headers", "request_body"]

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
