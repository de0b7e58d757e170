"""The audit trail in the admin: read-only for everyone, superusers included."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from audit.models import AuditEvent

# Where a target is shown: the campaign page for campaigns, else its admin page.
_TARGET_URLS = {
    "campaigns.campaign": "campaigns:detail",
    "gupshup_admin.partnerapp": "admin:gupshup_admin_partnerapp_change",
    "gupshup_admin.commboxchannel": "admin:gupshup_admin_commboxchannel_change",
}
FIELDS = ["created_at", "actor_name", "action", "target_type", "target_id",
          "target_link", "summary", "pretty_details"]  # fmt: skip


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["created_at", "actor_name", "action", "target_link", "summary"]
    list_filter = ["action", "target_type", "actor"]
    list_select_related = ["actor"]
    search_fields = ["target_label", "summary", "actor_label"]
    date_hierarchy = "created_at"
    readonly_fields = FIELDS
    fields = tuple(FIELDS)

    @admin.display(description="actor", ordering="actor_label")
    def actor_name(self, obj: AuditEvent) -> str:
        return obj.actor_name

    @admin.display(description="target", ordering="target_label")
    def target_link(self, obj: AuditEvent) -> str:
        name = _TARGET_URLS.get(obj.target_type)
        try:
            url = reverse(name, args=[obj.target_id]) if name else ""
        except NoReverseMatch:
            url = ""
        if not url:
            return obj.target_label
        return format_html('<a href="{}">{}</a>', url, obj.target_label)

    @admin.display(description="details")
    def pretty_details(self, obj: AuditEvent) -> str:
        text = json.dumps(obj.details, indent=2, ensure_ascii=False, sort_keys=True)
        return format_html("<pre>{}</pre>", text)

    def lookup_allowed(
        self, lookup: str, value: str, request: HttpRequest | None = None
    ) -> bool:
        # The campaign page links here filtered to its own lines.
        return lookup == "target_id" or super().lookup_allowed(lookup, value, request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a trail that can be edited proves nothing
